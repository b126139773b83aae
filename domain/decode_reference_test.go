package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

type refWireEvent struct {
	SpecVersion   string          `json:"specversion"`
	ID            string          `json:"id"`
	Source        string          `json:"source"`
	Type          string          `json:"type"`
	Time          string          `json:"time"`
	Subject       string          `json:"subject"`
	ContentType   string          `json:"datacontenttype"`
	SchemaVersion *json.Number    `json:"schemaversion"`
	Data          json.RawMessage `json:"data"`
}

type refWireData struct {
	CustomerID  string          `json:"customer_id"`
	Category    string          `json:"category"`
	Segment     string          `json:"segment"`
	Channel     string          `json:"channel"`
	RootCause   string          `json:"root_cause"`
	Product     string          `json:"product"`
	Region      string          `json:"region"`
	Severity    json.RawMessage `json:"severity"`
	ComplaintID string          `json:"complaint_id"`
	Resolution  string          `json:"resolution"`
	Reason      string          `json:"reason"`
	ReferredID  string          `json:"referred_customer_id"`
	Competitor  string          `json:"competitor"`
	Amount      json.RawMessage `json:"amount"`
	Cost        json.RawMessage `json:"cost"`
	Currency    string          `json:"currency"`
	Topic       string          `json:"topic"`
	Detail      string          `json:"detail"`
}

// refDecode is the encoding/json implementation of Decoder.Decode that the
// hand-written scanner replaced, kept as the reference the differential
// tests and benchmarks compare the scanner against. It parses with
// encoding/json, applies the stricter rules the scanner applies (a
// top-level null, lone surrogates, the limits) with its own code, and
// computes the as-sent members from maps of the payload's and the canonical
// rendering's members. Field checks (fromWire, fillData) are shared.
func refDecode(d *Decoder, natsSubject string, payload []byte) (Event, error) {
	if len(payload) > MaxEventSize {
		return Event{}, reject(ReasonOversize, "", "payload is %d bytes, over the %d byte limit", len(payload), MaxEventSize)
	}
	if !utf8.Valid(payload) {
		return Event{}, reject(ReasonInvalidUTF8, "", "payload is not valid UTF-8")
	}
	var w refWireEvent
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&w); err != nil {
		return Event{}, reject(ReasonBadJSON, "", "invalid JSON: %v", err)
	}
	// Only whitespace may follow the event (dec.More alone would let a
	// stray '}' or ']' through).
	if len(bytes.TrimLeft(payload[dec.InputOffset():], " \t\r\n")) > 0 {
		return Event{}, reject(ReasonBadJSON, "", "invalid JSON: trailing data after the event")
	}
	if string(bytes.TrimSpace(payload)) == "null" {
		return Event{}, reject(ReasonBadJSON, "", "invalid JSON: the event is not a JSON object")
	}
	if err := refLoneSurrogate(payload); err != nil {
		return Event{}, err
	}
	if err := refLimits(payload); err != nil {
		return Event{}, err
	}
	ev, err := d.refFromWire(natsSubject, &w)
	if err != nil {
		return ev, err
	}
	sent, err := refAsSent(payload, ev)
	if err != nil {
		return Event{}, err
	}
	ev.AsSent = sent
	return ev, nil
}

func (d *Decoder) refFromWire(natsSubject string, w *refWireEvent) (Event, error) {
	we := wireEvent{SpecVersion: w.SpecVersion, ID: w.ID, Source: w.Source, Type: w.Type, Time: w.Time,
		Subject: w.Subject, ContentType: w.ContentType}
	if w.SchemaVersion != nil {
		we.SchemaVersion, we.HasSchemaVersion = w.SchemaVersion.String(), true
	}
	var wd refWireData
	switch {
	case len(w.Data) == 0:
		we.DataState = dataAbsent
	case string(w.Data) == "null":
		we.DataState = dataNull
	case json.Unmarshal(w.Data, &wd) != nil:
		we.DataState = dataWrongType
	default:
		we.DataState = dataObject
		we.Data = wireData{CustomerID: wd.CustomerID, Category: wd.Category, Segment: wd.Segment, Channel: wd.Channel,
			RootCause: wd.RootCause, Product: wd.Product, Region: wd.Region, Severity: string(wd.Severity),
			ComplaintID: wd.ComplaintID, Resolution: wd.Resolution, Reason: wd.Reason, ReferredID: wd.ReferredID,
			Competitor: wd.Competitor, Amount: string(wd.Amount), Cost: string(wd.Cost), Currency: wd.Currency,
			Topic: wd.Topic, Detail: wd.Detail}
	}
	return d.fromWire(natsSubject, &we)
}

// refLoneSurrogate finds the first \u escape of a lone UTF-16 surrogate in a
// payload that is valid JSON.
func refLoneSurrogate(b []byte) *Error {
	hex4 := func(i int) rune {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return -1
		}
		v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
		if err != nil {
			return -1
		}
		return rune(v)
	}
	in := false
	for i := 0; i < len(b); i++ {
		switch {
		case !in:
			in = b[i] == '"'
		case b[i] == '"':
			in = false
		case b[i] == '\\':
			if b[i+1] != 'u' {
				i++
				continue
			}
			r := hex4(i)
			if r >= 0xd800 && r < 0xdc00 {
				if r2 := hex4(i + 6); r2 >= 0xdc00 && r2 < 0xe000 {
					i += 11
					continue
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				return reject(ReasonInvalidUTF8, "", "a string holds a lone UTF-16 surrogate (%s at offset %d), which is not a character", b[i:i+6], i)
			}
			i += 5
		}
	}
	return nil
}

// refLimits walks the tokens of a valid JSON payload and returns the first
// limit it exceeds, in document order.
func refLimits(b []byte) *Error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		obj     bool
		wantKey bool
		data    bool // the data object, or inside it
		dataObj bool // the data object itself
		lastKey string
	}
	var stack []frame
	fields := 0
	top, topData := "", false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var parent *frame
		if len(stack) > 0 {
			parent = &stack[len(stack)-1]
		}
		if delim, ok := tok.(json.Delim); ok && (delim == '{' || delim == '[') {
			depth := len(stack) + 1
			f := frame{obj: delim == '{', wantKey: delim == '{'}
			if parent != nil {
				f.data = parent.data
				if len(stack) == 1 && delim == '{' && strings.EqualFold(parent.lastKey, "data") {
					f.data, f.dataObj = true, true
				}
				if parent.obj {
					parent.wantKey = true
				}
			}
			if depth > MaxDepth {
				name := top
				if topData {
					name = "data." + top
				}
				return reject(ReasonInvalidField, name, "nests deeper than %d levels", MaxDepth)
			}
			stack = append(stack, f)
			continue
		}
		if delim, ok := tok.(json.Delim); ok && (delim == '}' || delim == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if parent != nil && parent.obj && parent.wantKey {
			key := tok.(string)
			parent.wantKey = false
			parent.lastKey = key
			if len(stack) == 1 || parent.dataObj {
				if fields++; fields > MaxFields {
					return reject(ReasonInvalidField, "", "the event has more than %d fields (envelope and data together)", MaxFields)
				}
				top, topData = key, parent.dataObj
			}
			f := ""
			if parent.data {
				f = "data"
			}
			if len(key) > MaxFieldNameLen {
				return reject(ReasonInvalidField, f, "a field name is %d bytes, over the %d byte limit", len(key), MaxFieldNameLen)
			}
			if key == "" && (len(stack) == 1 || parent.dataObj) {
				return reject(ReasonInvalidField, f, "a field name is empty")
			}
			continue
		}
		if parent != nil && parent.obj {
			parent.wantKey = true
		}
	}
}

// refMembers returns the members of the JSON object b, the last of equal
// names winning, and the names in document order of first appearance.
func refMembers(b []byte) (map[string]json.RawMessage, []string) {
	dec := json.NewDecoder(bytes.NewReader(b))
	m := map[string]json.RawMessage{}
	var order []string
	if _, err := dec.Token(); err != nil {
		return m, nil
	}
	for dec.More() {
		k, _ := dec.Token()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		if _, ok := m[k.(string)]; !ok {
			order = append(order, k.(string))
		}
		m[k.(string)] = raw
	}
	return m, order
}

// refJSONEqual compares two JSON values, numbers by their text.
func refJSONEqual(a, b []byte) bool {
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// refAsSent computes the as-sent members of ev, decoded from payload, from
// the members of the payload and of ev's canonical rendering.
func refAsSent(payload []byte, ev Event) (AsSent, error) {
	ev.AsSent = AsSent{}
	canon, _ := ev.MarshalJSON()
	cEnv, cOrder := refMembers(canon)
	env, order := refMembers(payload)
	// The data object is the value of the last member whose name folds to
	// "data" (order lists first appearances only).
	supplier := ""
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			break
		}
		if strings.EqualFold(k.(string), "data") {
			supplier = k.(string)
		}
	}
	var ms []Member
	for _, name := range order {
		raw := env[name]
		if name == "data" && supplier == "data" {
			continue
		}
		if c, ok := cEnv[name]; ok && name != "data" && refJSONEqual(c, raw) {
			continue
		}
		if slices.Contains(ReservedAttributes, name) {
			continue // plaint's own, re-published
		}
		ms = append(ms, Member{Name: name, Raw: string(raw)})
	}
	for _, name := range cOrder {
		if _, ok := env[name]; !ok {
			ms = append(ms, Member{Name: name})
		}
	}
	if supplier == "data" {
		cData, cdOrder := refMembers(cEnv["data"])
		data, dOrder := refMembers(env["data"])
		for _, name := range dOrder {
			if c, ok := cData[name]; ok && refJSONEqual(c, data[name]) {
				continue
			}
			ms = append(ms, Member{Data: true, Name: name, Raw: string(data[name])})
		}
		for _, name := range cdOrder {
			if _, ok := data[name]; !ok {
				ms = append(ms, Member{Data: true, Name: name})
			}
		}
	}
	return NewAsSent(ms...)
}

var refNow = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

const refGood = `{"specversion":"1.0","id":"5c0d","source":"crm/eu-west","type":"complaint.filed",
 "time":"2026-10-03T14:22:00Z","subject":"C-1042",
 "data":{"customer_id":"C-1042","category":"Billing","segment":"enterprise","channel":"phone",
         "severity":3,"root_cause":"process","product":"fiber","region":"north"}}`

const refRevenue = `{"specversion":"1.0","id":"r1","source":"s","type":"revenue.recorded","time":"2026-01-02T03:04:05.123456789+02:00","data":{"customer_id":"C-1","amount":"1234.5","currency":"eur"}}`

// diffCases are payloads on which encoding/json has behaviour a scanner could
// easily get wrong. Each is checked against the reference and seeds the
// differential fuzz target.
func diffCases() []string {
	mut := func(old, new string) string { return strings.Replace(refGood, old, new, 1) }
	env := func(data string) string {
		return `{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","time":"2026-10-03T14:22:00Z","data":` + data + `}`
	}
	rev := func(data string) string {
		return `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":` + data + `}`
	}
	cases := []string{
		refGood, refRevenue, "", " ", "null", "null}", "null ]", "null x", "nul", "true", "1", `"x"`, "[]", "{}", "{} ", "{}}", "{}]", "{} x", "{}{}",
		"\ufeff{}", refGood + "}", refGood + " ] x", refGood + " 1", refGood + "\n\t\r ",
		// Keys: escapes and case folding (U+017F folds to s, U+212A to k).
		mut(`"id"`, `"ID"`), mut(`"id"`, `"\u0069d"`), mut(`"source"`, `"ſource"`), mut(`"source"`, `"\u017fource"`),
		mut(`"specversion"`, `"SpecVersion"`), mut(`"data"`, `"DATA"`), mut(`"customer_id"`, `"Customer_ID"`),
		mut(`"severity"`, `"ſeveritY"`), mut(`"id"`, `"iḍ"`), mut(`"id"`, `"i\u0064\u0000"`), mut(`"region"`, `"region\u212a"`),
		mut(`"id"`, `"\ud800"`), mut(`"data"`, `"dat"`),
		// Duplicates and null.
		mut(`"id":"5c0d"`, `"id":"a","id":"b"`), mut(`"id":"5c0d"`, `"id":"a","id":null`), mut(`"id":"5c0d"`, `"id":null`),
		mut(`"subject":"C-1042"`, `"subject":null`), mut(`"subject":"C-1042"`, `"subject":""`),
		mut(`"subject"`, `"schemaversion":null,"subject"`), mut(`"subject"`, `"schemaversion":7,"schemaversion":null,"subject"`),
		mut(`"subject"`, `"schemaversion":null,"schemaversion":0,"subject"`),
		mut(`"severity":3`, `"severity":null`), mut(`"severity":3`, `"severity":9,"severity":null`), mut(`"severity":3`, `"severity":3,"severity":"4"`),
		mut(`"customer_id":"C-1042"`, `"customer_id":"C-1042","customer_id":null`),
		refGood[:len(refGood)-1] + `,"data":null}`, refGood[:len(refGood)-1] + `,"data":5}`, refGood[:len(refGood)-1] + `,"data":{"customer_id":"x","category":"y"}}`,
		`{"data":5,` + refGood[1:], `{"data":{"customer_id":5},` + refGood[1:],
		// Wrong JSON types.
		mut(`"5c0d"`, `5`), mut(`"5c0d"`, `true`), mut(`"5c0d"`, `{}`), mut(`"5c0d"`, `[]`), mut(`"C-1042","category"`, `5,"category"`),
		mut(`"C-1042","category"`, `{"a":[1,2,{"b":null}]},"category"`), mut(`"1.0"`, `1.0`),
		mut(`"1.0"`, `"0.3"`) + "", strings.Replace(mut(`"C-1042","category"`, `5,"category"`), `"1.0"`, `"0.3"`, 1),
		env(`"x"`), env(`[1]`), env(`1`), env(`true`), env(`null`), env(`{}`), env(`""`), env(`{"customer_id":"C","topic":5}`),
		// schemaversion: a number, or a string holding one.
		mut(`"subject"`, `"schemaversion":"1","subject"`), mut(`"subject"`, `"schemaversion":"x","subject"`),
		mut(`"subject"`, `"schemaversion":"","subject"`), mut(`"subject"`, `"schemaversion":"1.0","subject"`),
		mut(`"subject"`, `"schemaversion":"\u0031","subject"`), mut(`"subject"`, `"schemaversion":true,"subject"`),
		mut(`"subject"`, `"schemaversion":1.0,"subject"`), mut(`"subject"`, `"schemaversion":-0,"subject"`),
		mut(`"subject"`, `"schemaversion":1e0,"subject"`), mut(`"subject"`, `"schemaversion":"+1","subject"`),
		mut(`"subject"`, `"schemaversion":99999999999999999999,"subject"`), mut(`"subject"`, `"schemaversion":{},"subject"`),
		mut(`"subject"`, `"schemaversion":"x","schemaversion":1,"subject"`),
		// Strings and escapes.
		mut(`"Billing"`, `"Bill\u0069ng"`), mut(`"Billing"`, `"\ud83d\ude00 Billing"`), mut(`"Billing"`, `"\ud83dBilling"`),
		mut(`"Billing"`, `"\ud83d\u0041"`), mut(`"Billing"`, `"\ude00\ud83d"`), mut(`"Billing"`, `"\uD83D\uDE00x"`),
		mut(`"5c0d"`, `"5c\u0000"`), mut(`"5c0d"`, `"a\/b\\c\"d\b\f\n\r\t"`), mut(`"5c0d"`, `"\x"`), mut(`"5c0d"`, `"\u12"`),
		mut(`"5c0d"`, `"\u12g4"`), mut(`"5c0d"`, "\"a\tb\""), mut(`"5c0d"`, "\"a\x7fb\""), mut(`"5c0d"`, `"\'"`), mut(`"5c0d"`, `"é"`),
		mut(`"crm/eu-west"`, `"crm\/eu-west"`), mut(`complaint.filed`, `complaint\u002efiled`), mut(`2026-10-03T14:22:00Z`, `2026-10-03T14:22:00\u005a`),
		// Numbers and raw fields.
		mut(`"severity":3`, `"severity":3.0`), mut(`"severity":3`, `"severity":"3"`), mut(`"severity":3`, `"severity":"+3"`),
		mut(`"severity":3`, `"severity":03`), mut(`"severity":3`, `"severity":-`), mut(`"severity":3`, `"severity":1e`),
		mut(`"severity":3`, `"severity":1.`), mut(`"severity":3`, `"severity":.5`), mut(`"severity":3`, `"severity":"\u0033"`),
		mut(`"severity":3`, `"severity":""`), mut(`"severity":3`, `"severity":{"a":1}`), mut(`"severity":3`, `"severity":[3]`),
		mut(`"severity":3`, `"severity":true`), mut(`"severity":3`, `"severity":-0`), mut(`"severity":3`, `"severity":5E0`),
		mut(`"severity":3`, `"severity":"\"3\""`), mut(`"severity":3`, `"severity":1.5e+3`), mut(`"severity":3`, `"severity":-1.5E-3`),
		rev(`{"customer_id":"C","amount":1.5}`), rev(`{"customer_id":"C","amount":"1.50","currency":"usd"}`),
		rev(`{"customer_id":"C","amount":"\u0031"}`), rev(`{"customer_id":"C","amount":1e2}`), rev(`{"customer_id":"C","amount":{"a":1}}`),
		rev(`{"customer_id":"C","amount":null}`), rev(`{"customer_id":"C","amount":" 1 "}`), rev(`{"customer_id":"C","amount":"1","amount":null}`),
		rev(`{"customer_id":"C","amount":-0.5,"currency":"JPY"}`), rev(`{"customer_id":"C","amount":"99999999999999999999"}`),
		// Unknown keys with nested values, whitespace.
		mut(`"subject"`, `"x":{"a":[1,{"b":null,"c":[true,false,-1.5e10]}],"d":"\n"},"subject"`),
		mut(`"subject"`, `"x":{"a":[1,]},"subject"`), mut(`"subject"`, `"x":{"a" 1},"subject"`), mut(`"subject"`, `"x":[1 2],"subject"`),
		mut(`"subject"`, `"x":{,},"subject"`), mut(`"subject"`, `"x":tru,"subject"`), mut(`"subject"`, `"x":nulll,"subject"`),
		mut(`"subject"`, ` "x" : [ ] , "y" : { } ,"subject"`), mut(`"customer_id"`, `"x":{"customer_id":5},"customer_id"`),
		mut(`,"subject"`, `,,"subject"`), mut(`"subject":"C-1042",`, `"subject":"C-1042"`), mut(`{`, "\t\r\n {\n"),
		refGood[:len(refGood)-2] + `,}}`, refGood[:len(refGood)-1],
		// Slugs.
		mut(`"Billing"`, `"Billing / Invoices"`), mut(`"Billing"`, `"-billing"`), mut(`"Billing"`, `"bill--ing"`),
		mut(`"Billing"`, `"billing-"`), mut(`"Billing"`, `"bill-ing_2"`), mut(`"Billing"`, `"Éclair"`), mut(`"Billing"`, `"_"`),
		mut(`"Billing"`, `"`+strings.Repeat("a", 65)+`"`), mut(`"Billing"`, `"`+strings.Repeat("a", 64)+`"`),
		// Nesting depth: the envelope is level 1, so 9999 brackets reach 10000.
		mut(`"subject"`, `"x":`+strings.Repeat("[", 9999)+strings.Repeat("]", 9999)+`,"subject"`),
		mut(`"subject"`, `"x":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+`,"subject"`),
		env(`{"customer_id":"C","x":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`),
		env(`{"customer_id":"C","x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`),
		env(strings.Repeat("[", 9999) + strings.Repeat("]", 9999)),
		env(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)),
		// Unknown fields are kept: every kind, nested, odd numbers, escapes,
		// duplicates; extension attributes.
		env(`{"customer_id":"C","category":"x","plan":"gold","nps":9,"ratio":1.50,"big":1e400,"neg":-0.0,"ok":true,"none":null,"tags":["a",{"b":[1,2.0]}],"o":{"x":{"y":"\u00e9"}}}`),
		env(`{"customer_id":"C","category":"x","plan":"gold","plan":"silver","Plan":1}`),
		env(`{"customer_id":"C","category":"x","\u0070lan":"gold","pl\u00e4n":"x","😀":1,"":2}`),
		env(`{"customer_id":"C","category":"x","plan" : [ 1 , 2 ] ,"s":"a \" } b"}`),
		mut(`"subject"`, `"tenant":"acme","traceparent":"00-abc-01","ext":{"a":[1,{"b":null}]},"subject"`),
		mut(`"subject"`, `"tenant":"a","tenant":"b","subject"`),
		mut(`"subject"`, `"plaintseq":5,"subject"`), mut(`"subject"`, `"plaintrecordtime":"x","subject"`),
		mut(`"subject"`, `"PlaintSeq":5,"subject"`),
		// Known fields whose as-sent text differs from the canonical form.
		mut(`2026-10-03T14:22:00Z`, `2026-10-03T16:22:00+02:00`), mut(`2026-10-03T14:22:00Z`, `2026-10-03T14:22:00.000Z`),
		mut(`"subject"`, `"datacontenttype":"application/json","subject"`),
		mut(`"subject"`, `"schemaversion":1,"subject"`), mut(`"id":"5c0d"`, `"id":"a","ID":"b"`), mut(`"id":"5c0d"`, `"ID":"b","id":"a"`),
		mut(`"id":"5c0d"`, `"id":"a","ID":null`), mut(`"data"`, `"data":{"x":1},"Data"`), mut(`"data"`, `"Data":{"x":1},"data"`),
		mut(`"data"`, `"DATA":{"x":1},"Data":5,"data"`),
		rev(`{"customer_id":"C","amount":12.5,"cost":7,"plan":"gold"}`), rev(`{"customer_id":"C","amount":"12.50","currency":"EUR","cost":"7.00"}`),
		rev(`{"customer_id":"C","amount":"1","cost":"1.234"}`), rev(`{"customer_id":"C","amount":"1","cost":null}`),
		rev(`{"customer_id":"C","amount":"1","currency":"XAU"}`), rev(`{"customer_id":"C","amount":"1","currency":"ABC"}`),
		rev(`{"customer_id":"C","currency":"EUR"}`), rev(`{"customer_id":"C","amount":"92233720368547758.07"}`),
		rev(`{"customer_id":"C","amount":"999999999999999.99"}`), rev(`{"customer_id":"C","amount":"1000000000000000"}`),
		rev(`{"customer_id":"C","amount":"-999999999999999","currency":"JPY"}`), rev(`{"customer_id":"C","amount":"1.5","currency":"XOF"}`),
		rev(`{"customer_id":"C","amount":"1.234","currency":"IQD"}`), rev(`{"customer_id":"C","amount":"1","currency":"CLF"}`),
		`{"specversion":"1.0","id":"1","source":"s","type":"customer.defected","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","competitor":"Rival Inc."}}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"customer.renewed","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","reason":"Loyalty","severity":3}}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"customer.renewed","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","reason":"Loyalty","competitor":"x"}}`,
		env(`{"customer_id":"C","category":"x","cost":"1"}`), env(`{"customer_id":"C","Category":"Billing","category":"x"}`),
		// Stricter than encoding/json: lone surrogates, controls in ids,
		// content types, offsets, a top-level null.
		mut(`"5c0d"`, `"\ud800"`), mut(`"5c0d"`, `"\udfff"`), mut(`"5c0d"`, `"a\ud800\u0041"`), mut(`"5c0d"`, `"\ud83d\ude00"`),
		mut(`"subject"`, `"x":["\udc00"],"subject"`), mut(`"subject"`, `"\ud800":1,"subject"`), mut(`"5c0d"`, `"\ud800\ud800"`),
		mut(`"5c0d"`, `"\ud800"`) + "x", mut(`"5c0d"`, `"\\ud800"`),
		mut(`"5c0d"`, `"\u202e5c0d"`), mut(`"5c0d"`, `"\u200b"`), mut(`"5c0d"`, `"\u0085x"`), mut(`"5c0d"`, `"   "`), mut(`"5c0d"`, `"a b"`),
		mut(`"C-1042","category"`, `"\u2066C\u2069","category"`),
		mut(`"subject"`, `"datacontenttype":"application/jsonxml","subject"`), mut(`"subject"`, `"datacontenttype":"application/cloudevents+json","subject"`),
		mut(`"subject"`, `"datacontenttype":"Application/JSON; charset=UTF-8","subject"`), mut(`"subject"`, `"datacontenttype":"application/+json","subject"`),
		mut(`"subject"`, `"datacontenttype":"text/json","subject"`), mut(`"subject"`, `"datacontenttype":"application/json;","subject"`),
		mut(`2026-10-03T14:22:00Z`, `2026-10-03T14:22:00+24:00`), mut(`2026-10-03T14:22:00Z`, `2026-10-03T14:22:00+23:59`),
		mut(`2026-10-03T14:22:00Z`, `2026-10-03T14:22:00-00:60`),
		"null", " null ", "[null]",
		// Slugs of every script.
		mut(`"Billing"`, `"bіlling"`), mut(`"Billing"`, `"Счёт"`), mut(`"Billing"`, `"ﬁ"`), mut(`"Billing"`, `"\u0301"`),
		mut(`"Billing"`, `"`+strings.Repeat("é", 64)+`"`), mut(`"Billing"`, `"`+strings.Repeat("é", 65)+`"`),
		// Limits: name length, member count, depth.
		mut(`"subject"`, `"`+strings.Repeat("n", 256)+`":1,"subject"`), mut(`"subject"`, `"`+strings.Repeat("n", 257)+`":1,"subject"`),
		env(`{"customer_id":"C","category":"x","o":{"` + strings.Repeat("n", 257) + `":1}}`),
		mut(`"subject"`, `"x":{"`+strings.Repeat("\u006e", 257)+`":1},"subject"`),
		mut(`"subject"`, `"x":`+strings.Repeat("[", 31)+strings.Repeat("]", 31)+`,"subject"`),
		mut(`"subject"`, `"x":`+strings.Repeat("[", 32)+strings.Repeat("]", 32)+`,"subject"`),
		env(`{"customer_id":"C","category":"x","o":` + strings.Repeat(`{"a":`, 30) + "1" + strings.Repeat("}", 30) + `}`),
		env(`{"customer_id":"C","category":"x","o":` + strings.Repeat(`{"a":`, 31) + "1" + strings.Repeat("}", 31) + `}`),
		env(strings.Repeat("[", 40) + strings.Repeat("]", 40)),
		mut(`"subject"`, `"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`,"`+strings.Repeat("n", 300)+`":1,"subject"`),
		mut(`"subject"`, `"`+strings.Repeat("n", 300)+`":1,"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`,"subject"`),
		mut(`"subject"`, `"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`,"\ud800":1,"subject"`),
		env(`{"customer_id":"C","category":"x",` + manyFields(250) + `}`), env(`{"customer_id":"C","category":"x",` + manyFields(260) + `}`),
		mut(`"subject"`, manyFields(250)+`,"subject"`),
		env(`{"customer_id":"C","category":"x","o":{` + manyFields(300) + `}}`),
	}
	return cases
}

// manyFields returns n members "f0":0,"f1":1,...
func manyFields(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"f%d":%d`, i, i)
	}
	return strings.Join(parts, ",")
}

// checkSameDecision fails t when the scanner and the reference decoder
// disagree on payload: on acceptance, on the event, or on the Code, Reason and
// Field of the rejection (and its Message, except for bad_json, whose message
// quotes the parser).
func checkSameDecision(t *testing.T, subject string, payload []byte) {
	t.Helper()
	d := &Decoder{Now: func() time.Time { return refNow }}
	ev, err := d.Decode(subject, payload)
	rev, rerr := refDecode(d, subject, payload)
	if (err == nil) != (rerr == nil) {
		t.Fatalf("subject %q payload %q:\nfast err = %v\nreference err = %v", subject, payload, err, rerr)
	}
	if err == nil {
		if ev != rev {
			t.Fatalf("subject %q payload %q:\nfast      %+v\nreference %+v", subject, payload, ev, rev)
		}
		return
	}
	var fe, re *Error
	if !errors.As(err, &fe) || !errors.As(rerr, &re) {
		t.Fatalf("not *Error: %v / %v", err, rerr)
	}
	if fe.Code != re.Code || fe.Reason != re.Reason || fe.Field != re.Field ||
		(fe.Reason != ReasonBadJSON && fe.Message != re.Message) {
		t.Fatalf("subject %q payload %q:\nfast      code=%s reason=%s field=%q: %v\nreference code=%s reason=%s field=%q: %v",
			subject, payload, fe.Code, fe.Reason, fe.Field, fe, re.Code, re.Reason, re.Field, re)
	}
}

func TestDecodeMatchesReference(t *testing.T) {
	for _, c := range diffCases() {
		checkSameDecision(t, "", []byte(c))
		checkSameDecision(t, "plaint.events.complaint.filed", []byte(c))
	}
	// Every one-byte truncation of the examples.
	for _, c := range []string{refGood, refRevenue} {
		for i := range len(c) {
			checkSameDecision(t, "", []byte(c[:i]))
		}
	}
}

// TestFoldEqualMatchesEncodingJSON checks the claim foldEqual rests on: the
// only non-ASCII runes that Unicode simple case folding maps onto ASCII
// letters are U+017F and U+212A.
func TestFoldEqualMatchesEncodingJSON(t *testing.T) {
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf && r != 0x17F && r != 0x212A {
				t.Fatalf("rune %U folds to ASCII %q", r, f)
			}
		}
	}
}

func FuzzDecodeMatchesReference(f *testing.F) {
	for _, c := range diffCases() {
		if len(c) < 8192 {
			f.Add("", []byte(c))
		}
	}
	f.Add("plaint.events.complaint.filed", []byte(refGood))
	f.Add("", []byte(`{"specversion":"1.0","id":"r1","source":"s","type":"revenue.recorded","time":"2026-01-02T03:04:05Z","data":{"customer_id":"C-1","amount":"-0.5"}}`))
	f.Add("", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","schemaversion":0,"time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","topic":"x"}}`))
	f.Add("x", []byte(`null`))
	f.Fuzz(func(t *testing.T, subject string, payload []byte) {
		checkSameDecision(t, subject, payload)
	})
}
