package domain

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// MarshalJSON renders the event as CloudEvents 1.0 JSON in structured mode,
// the same wire format Decode reads. The canonical fields are rendered in a
// fixed order with the escaping of encoding/json; the members of AsSent are
// then laid over them by level and name (replacing a canonical member of the
// same name, removing one marked absent, adding the others after the
// canonical members), so that an event Decode returned renders JSON-equal to
// the message it came from.
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 384)), nil
}

// AppendJSON appends the JSON rendering of e (see MarshalJSON) to dst.
func (e *Event) AppendJSON(dst []byte) []byte {
	var over overlay
	if !e.AsSent.IsZero() {
		over.load(e.AsSent)
	}
	w := objWriter{dst: append(dst, '{'), over: &over, data: false}
	w.str("specversion", "1.0")
	w.str("id", e.ID)
	w.str("source", e.Source)
	w.str("type", e.Type.String())
	if !w.overridden("time") {
		w.key("time")
		w.dst = append(e.Time.UTC().AppendFormat(append(w.dst, '"'), time.RFC3339Nano), '"')
	}
	if e.Subject != "" {
		w.str("subject", e.Subject)
	}
	if e.ContentType != "" {
		w.str("datacontenttype", e.ContentType)
	}
	if e.Schema != CurrentSchema {
		var nb [4]byte
		w.raw("schemaversion", strconv.AppendUint(nb[:0], uint64(e.Schema), 10))
	}
	if !w.overridden("data") {
		w.key("data")
		dw := objWriter{dst: append(w.dst, '{'), over: &over, data: true}
		e.Data.appendMembers(&dw)
		dw.rest()
		w.dst = append(dw.dst, '}')
	}
	w.rest()
	return append(w.dst, '}')
}

// appendMembers writes the canonical data members.
func (d *Data) appendMembers(w *objWriter) {
	var nb [32]byte
	for _, f := range [...]struct{ name, v string }{
		{"customer_id", d.CustomerID}, {"category", d.Category}, {"segment", d.Segment},
		{"channel", d.Channel}, {"root_cause", d.RootCause}, {"product", d.Product}, {"region", d.Region},
	} {
		if f.v != "" {
			w.str(f.name, f.v)
		}
	}
	if d.Severity != 0 {
		w.raw("severity", strconv.AppendUint(nb[:0], uint64(d.Severity), 10))
	}
	for _, f := range [...]struct{ name, v string }{
		{"complaint_id", d.ComplaintID}, {"resolution", d.Resolution}, {"reason", d.Reason},
		{"referred_customer_id", d.ReferredID}, {"competitor", d.Competitor}, {"currency", d.Currency},
		{"topic", d.Topic}, {"detail", d.Detail},
	} {
		if f.v != "" {
			w.str(f.name, f.v)
		}
	}
	if d.Currency != "" {
		w.str("amount", d.Amount.Format(d.Currency))
		if d.HasCost {
			w.str("cost", d.Cost.Format(d.Currency))
		}
	}
}

// overlay is an AsSent being laid over a canonical rendering: its members
// with a flag for those already written in place of a canonical member.
type overlay struct {
	members []Member
	used    []bool
}

func (o *overlay) load(a AsSent) {
	for m := range a.All() {
		o.members = append(o.members, m)
	}
	o.used = make([]bool, len(o.members))
}

// find returns the index of the member of the level and name, or -1.
func (o *overlay) find(data bool, name string) int {
	for i, m := range o.members {
		if m.Data == data && m.Name == name {
			return i
		}
	}
	return -1
}

// objWriter writes the members of one JSON object.
type objWriter struct {
	dst  []byte
	n    int // members written
	over *overlay
	data bool
}

func (w *objWriter) key(name string) {
	if w.n > 0 {
		w.dst = append(w.dst, ',')
	}
	w.n++
	w.dst = appendJSONString(w.dst, name)
	w.dst = append(w.dst, ':')
}

// overridden writes the as-sent form of the canonical member name when
// AsSent has one (nothing when it is marked absent) and reports whether it
// did so.
func (w *objWriter) overridden(name string) bool {
	if len(w.over.members) == 0 {
		return false
	}
	i := w.over.find(w.data, name)
	if i < 0 {
		return false
	}
	w.over.used[i] = true
	if m := w.over.members[i]; !m.Absent() {
		w.key(name)
		w.dst = append(w.dst, m.Raw...)
	}
	return true
}

// str writes a canonical string member.
func (w *objWriter) str(name, v string) {
	if w.overridden(name) {
		return
	}
	w.key(name)
	w.dst = appendJSONString(w.dst, v)
}

// raw writes a canonical member whose value is JSON text.
func (w *objWriter) raw(name string, v []byte) {
	if w.overridden(name) {
		return
	}
	w.key(name)
	w.dst = append(w.dst, v...)
}

// rest writes the members of the object's level that replaced no canonical
// member.
func (w *objWriter) rest() {
	for i, m := range w.over.members {
		if m.Data != w.data || w.over.used[i] || m.Absent() {
			continue
		}
		w.over.used[i] = true
		w.key(m.Name)
		w.dst = append(w.dst, m.Raw...)
	}
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes appendJSONString copies as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := range t {
		t[b] = b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string with the escaping of
// encoding/json (HTML characters and U+2028/U+2029 escaped, invalid UTF-8
// replaced by U+FFFD), so that renderings stay byte-identical to the ones
// plaint produced with encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
