package nats

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// samePubAck fails unless parsePubAck reads b as encoding/json alone does
// (decodePubAck): the same duplicate flag, and an error of the same kind
// and text.
func samePubAck(t *testing.T, b []byte) {
	t.Helper()
	got, want := parsePubAck(b), decodePubAck(b)
	if got.duplicate != want.duplicate || (got.err == nil) != (want.err == nil) || got.err != nil && got.err.Error() != want.err.Error() {
		t.Fatalf("%q: parsePubAck says %+v, encoding/json %+v", b, got, want)
	}
}

// TestParsePubAck reads the answers the server gives and forms near them:
// a stored message, a repeat, an error, and what only encoding/json reads
// right (spaces, escapes, keys in other cases, nested objects, garbage).
func TestParsePubAck(t *testing.T) {
	for _, c := range []struct {
		in  string
		dup bool
		err error
	}{
		{`{"stream":"PLAINT_EVENTS","seq":42}`, false, nil},
		{`{"stream":"PLAINT_EVENTS","seq":43,"duplicate":true}`, true, nil},
		{`{"stream":"PLAINT_EVENTS","domain":"hub","seq":44}`, false, nil},
		{`{"error":{"code":503,"err_code":10039,"description":"jetstream not enabled"}}`, false, &jetstream.APIError{}},
		{`{"stream":"S","seq":1,"Error":{"code":400,"description":"x"}}`, false, &jetstream.APIError{}},
		{`{"stream":"S","seq":1,"DUPLICATE":true}`, true, nil},
		{`{"stream":"S","seq":1,"duplicate": true}`, true, nil},
		{`{"stream":"S","seq":1,"o":{"duplicate":true}}`, false, nil},
		{`{"stream":"","seq":1}`, false, jetstream.ErrInvalidJSAck},
		{`{"stream":"S","seq":1.2.3}`, false, jetstream.ErrInvalidJSAck},
		{`{"stream":"S\u0041","seq":1}`, false, nil},
		{`not json`, false, jetstream.ErrInvalidJSAck},
		{``, false, jetstream.ErrInvalidJSAck},
	} {
		r := parsePubAck([]byte(c.in))
		var api *jetstream.APIError
		switch {
		case r.duplicate != c.dup:
			t.Errorf("%s: duplicate %v, want %v", c.in, r.duplicate, c.dup)
		case c.err == nil && r.err != nil, c.err != nil && r.err == nil:
			t.Errorf("%s: error %v, want %v", c.in, r.err, c.err)
		case errors.As(c.err, &api) && !errors.As(r.err, &api):
			t.Errorf("%s: error %v, want an API error", c.in, r.err)
		case errors.Is(c.err, jetstream.ErrInvalidJSAck) && !errors.Is(r.err, jetstream.ErrInvalidJSAck):
			t.Errorf("%s: error %v, want %v", c.in, r.err, c.err)
		}
		samePubAck(t, []byte(c.in))
	}
}

// FuzzParsePubAck holds parsePubAck's quick reading to encoding/json's.
func FuzzParsePubAck(f *testing.F) {
	for _, s := range []string{`{"stream":"PLAINT_EVENTS","seq":42}`, `{"stream":"S","seq":43,"duplicate":true}`,
		`{"stream":"S","domain":"d","seq":1,"duplicate":false}`, `{"error":{"code":503,"description":"no"}}`,
		`{"stream":"S","seq":1,"ſtream":""}`, `{"stream":"S","seq":1,"duplicate":true,"duplicate":false}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { samePubAck(t, b) })
}
