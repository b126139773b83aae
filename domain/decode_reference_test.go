package domain

import (
	"bytes"
	"encoding/json"
	"errors"
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
	Amount      json.RawMessage `json:"amount"`
	Currency    string          `json:"currency"`
	Topic       string          `json:"topic"`
	Detail      string          `json:"detail"`
}

// refDecode is the encoding/json implementation of Decoder.Decode that the
// hand-written scanner replaced. It is kept verbatim as the reference the
// differential tests and benchmarks compare the scanner against.
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
	return d.refFromWire(natsSubject, &w)
}

func (d *Decoder) refFromWire(natsSubject string, w *refWireEvent) (Event, error) {
	var ev Event
	if w.SpecVersion != "1.0" {
		if w.SpecVersion == "" {
			return ev, reject(ReasonMissingField, "specversion", "is required and must be \"1.0\"")
		}
		return ev, reject(ReasonInvalidField, "specversion", "is %q; only \"1.0\" is supported", w.SpecVersion)
	}
	if w.Type == "" {
		return ev, reject(ReasonMissingField, "type", "is required")
	}
	ev.Type = ParseType(w.Type)
	if !ev.Type.Valid() || (ev.Type.IsAlert() && !d.AllowAlerts) {
		return ev, reject(ReasonUnknownType, "type", "unknown event type %q", w.Type)
	}
	if natsSubject != "" && natsSubject != ev.Type.Subject() {
		return ev, reject(ReasonSubjectMismatch, "type", "type %q arrived on subject %q; expected %q", w.Type, natsSubject, ev.Type.Subject())
	}
	var err *Error
	if ev.ID, err = identifier("id", w.ID, MaxIDLen); err != nil {
		return ev, err
	}
	if ev.Source, err = identifier("source", w.Source, MaxIDLen); err != nil {
		return ev, err
	}
	if w.Subject != "" {
		if ev.Subject, err = identifier("subject", w.Subject, MaxIDLen); err != nil {
			return ev, err
		}
	}
	if w.ContentType != "" && !strings.HasPrefix(w.ContentType, "application/json") {
		return ev, reject(ReasonInvalidField, "datacontenttype", "is %q; only application/json data is supported", w.ContentType)
	}
	if w.Time == "" {
		return ev, reject(ReasonMissingField, "time", "is required (RFC 3339 event time)")
	}
	t, perr := time.Parse(time.RFC3339Nano, w.Time)
	if perr != nil {
		return ev, reject(ReasonInvalidField, "time", "%q is not an RFC 3339 timestamp", w.Time)
	}
	ev.Time = t.UTC()
	if err := d.checkTime(ev.Time); err != nil {
		return ev, err
	}
	ev.Schema = CurrentSchema
	if w.SchemaVersion != nil {
		v, perr := strconv.Atoi(w.SchemaVersion.String())
		if perr != nil || v < 0 || v > CurrentSchema {
			return ev, reject(ReasonInvalidField, "schemaversion", "%s is not a supported schema version (0..%d)", w.SchemaVersion.String(), CurrentSchema)
		}
		ev.Schema = uint8(v)
	}
	if len(w.Data) == 0 || string(w.Data) == "null" {
		return ev, reject(ReasonMissingField, "data", "is required")
	}
	var wd refWireData
	if err := json.Unmarshal(w.Data, &wd); err != nil {
		return ev, reject(ReasonBadJSON, "data", "must be a JSON object with the fields of %s: %v", ev.Type, err)
	}
	if err := refFillData(&ev, &wd); err != nil {
		return ev, err
	}
	if err := Validate(&ev); err != nil {
		return ev, err
	}
	return ev, nil
}

func refFillData(ev *Event, w *refWireData) *Error {
	d := &ev.Data
	var err *Error
	ids := []struct {
		field string
		in    string
		out   *string
	}{
		{"data.customer_id", w.CustomerID, &d.CustomerID},
		{"data.complaint_id", w.ComplaintID, &d.ComplaintID},
		{"data.referred_customer_id", w.ReferredID, &d.ReferredID},
	}
	for _, f := range ids {
		if f.in == "" {
			continue
		}
		if *f.out, err = identifier(f.field, f.in, MaxIDLen); err != nil {
			return err
		}
	}
	slugs := []struct {
		field string
		in    string
		out   *string
	}{
		{"data.category", w.Category, &d.Category},
		{"data.segment", w.Segment, &d.Segment},
		{"data.channel", w.Channel, &d.Channel},
		{"data.root_cause", w.RootCause, &d.RootCause},
		{"data.product", w.Product, &d.Product},
		{"data.region", w.Region, &d.Region},
		{"data.resolution", w.Resolution, &d.Resolution},
		{"data.reason", w.Reason, &d.Reason},
	}
	for _, f := range slugs {
		if f.in == "" {
			continue
		}
		s := Slug(f.in)
		if s == "" {
			return reject(ReasonInvalidField, f.field, "%q has no letters or digits", f.in)
		}
		if len(s) > MaxSlugLen {
			return reject(ReasonInvalidField, f.field, "is longer than %d characters", MaxSlugLen)
		}
		*f.out = s
	}
	if len(w.Severity) > 0 && string(w.Severity) != "null" {
		n, perr := strconv.Atoi(strings.Trim(string(w.Severity), `"`))
		if perr != nil || n < 1 || n > 5 {
			return reject(ReasonInvalidField, "data.severity", "%s is not an integer from 1 to 5", string(w.Severity))
		}
		d.Severity = uint8(n)
	}
	if w.Currency != "" {
		c := strings.ToUpper(w.Currency)
		if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return reject(ReasonInvalidField, "data.currency", "%q is not an ISO 4217 code", w.Currency)
		}
		d.Currency = c
	}
	if len(w.Amount) > 0 && string(w.Amount) != "null" {
		if d.Currency == "" {
			d.Currency = DefaultCurrency
		}
		m, perr := ParseMoney(strings.Trim(string(w.Amount), `"`), d.Currency)
		if perr != nil {
			return reject(ReasonInvalidField, "data.amount", "%v", perr)
		}
		d.Amount = m
	}
	if len(w.Topic) > MaxTopicLen {
		return reject(ReasonInvalidField, "data.topic", "is longer than %d bytes", MaxTopicLen)
	}
	d.Topic = strings.TrimSpace(w.Topic)
	if len(w.Detail) > MaxDetailLen {
		return reject(ReasonInvalidField, "data.detail", "is longer than %d bytes", MaxDetailLen)
	}
	d.Detail = w.Detail
	return nil
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
	}
	return cases
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
		if len(c) < 4096 {
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
