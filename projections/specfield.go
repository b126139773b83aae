package projections

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/cockroachdb/apd/v3"

	"github.com/plaint/plaint/domain"
)

// NoneLabel is the group value of events that lack the grouped field.
const NoneLabel = "(none)"

// envelopeFields are the event attributes a spec names directly.
var envelopeFields = []string{"type", "source", "subject"}

// envelopeNames are the envelope attributes of the wire format, which a
// custom field name never resolves to.
var envelopeNames = []string{"specversion", "id", "source", "type", "time", "subject", "datacontenttype", "schemaversion", "data"}

// isKnownField reports whether name is a field plaint knows (an envelope
// attribute a spec names or a known data field); any other name is a custom
// field, read from what the producer sent.
func isKnownField(name string) bool {
	return slices.Contains(envelopeFields, name) || domain.IsDataField(name)
}

// moneyFields are the known fields holding money in the event's currency.
var moneyFields = []string{"amount", "cost"}

// customRaw returns the compact JSON value of the custom field name: a data
// field plaint does not know, else an extension attribute; "" when the
// event lacks it.
func customRaw(ev *domain.Event, name string) string {
	if raw, ok := ev.AsSent.Get(true, name); ok {
		return raw
	}
	if slices.Contains(envelopeNames, name) {
		return ""
	}
	raw, _ := ev.AsSent.Get(false, name)
	return raw
}

// customKey returns the group value of a custom field's raw JSON: "" when
// absent, 's' and the text for a string, 'j' and the JSON text for any other
// kind. Strings equal after decoding share a group; other values group by
// their exact text (9 and 9.0 differ).
func customKey(raw string) string {
	if raw == "" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			return "s" + s
		}
	}
	return "j" + raw
}

// customLabel renders a group value made by customKey.
func customLabel(key string) string {
	if key == "" {
		return NoneLabel
	}
	return key[1:]
}

// jsonKind names the JSON kind of raw for messages.
func jsonKind(raw string) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// numberText returns the number a custom field's raw JSON holds: a JSON
// number, or a string holding one (as amounts may be sent). ok is false for
// every other value; null is absent.
func numberText(raw string) (num string, ok bool) {
	switch {
	case raw == "" || raw == "null":
		return "", true
	case raw[0] == '"':
		var s string
		if json.Unmarshal([]byte(raw), &s) != nil || !isJSONNumber(s) {
			return "", false
		}
		return s, true
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		return raw, true
	}
	return "", false
}

// isJSONNumber reports whether s is exactly one JSON number.
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && n.String() == s
}

// whereSet is the compiled list of values a where clause accepts for one
// field.
type whereSet struct {
	strs map[string]bool
	nums []*apd.Decimal // the listed values that are numbers
	none bool           // "(none)" is listed: events lacking the field match
}

func newWhereSet(vals []string) *whereSet {
	w := &whereSet{strs: map[string]bool{}}
	for _, v := range vals {
		if v == NoneLabel {
			w.none = true
			continue
		}
		w.strs[v] = true
		if isJSONNumber(v) {
			if d, _, err := apd.NewFromString(v); err == nil {
				w.nums = append(w.nums, d)
			}
		}
	}
	return w
}

// matchKnown tests a known field's value ("" when absent).
func (w *whereSet) matchKnown(v string) bool {
	if v == "" {
		return w.none
	}
	return w.strs[v]
}

// matchCustom tests a custom field's raw JSON: a string by its text, a
// number by its text or value, true, false and null by their literal, an
// array when one of its elements matches or by its JSON text, an object by
// its JSON text.
func (w *whereSet) matchCustom(raw string) bool {
	if raw == "" {
		return w.none
	}
	if w.strs[raw] {
		return true
	}
	switch raw[0] {
	case '"':
		var s string
		return json.Unmarshal([]byte(raw), &s) == nil && w.strs[s]
	case '[':
		var elems []json.RawMessage
		if json.Unmarshal([]byte(raw), &elems) != nil {
			return false
		}
		for _, e := range elems {
			var buf bytes.Buffer
			if json.Compact(&buf, e) == nil && buf.Len() > 0 && w.matchCustom(buf.String()) {
				return true
			}
		}
		return false
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		d, _, err := apd.NewFromString(raw)
		if err != nil {
			return false
		}
		for _, n := range w.nums {
			if d.Cmp(n) == 0 {
				return true
			}
		}
	}
	return false
}
