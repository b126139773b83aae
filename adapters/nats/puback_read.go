package nats

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ackResult is what the answer to one message said.
type ackResult struct {
	duplicate bool
	err       error
}

// readPubAck reads JetStream's answer to a publish: a PubAck, or an error
// as nats.go's async publish reports it (a *jetstream.APIError,
// jetstream.ErrNoStreamResponse, jetstream.ErrInvalidJSAck).
func readPubAck(m *nats.Msg) ackResult {
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		return ackResult{err: jetstream.ErrNoStreamResponse}
	}
	return parsePubAck(m.Data)
}

// parsePubAck reads a PubAck's JSON as encoding/json would (the way nats.go
// reads it), and fast for the form the server writes: a flat object
// without spaces or escapes, {"stream":...,"seq":...} with
// "duplicate":true for a repeat. Anything else, or any key that
// encoding/json would match to "error", "stream" or "duplicate" other than
// those exact keys, is read by encoding/json. FuzzParsePubAck holds the two
// readings equal.
func parsePubAck(b []byte) ackResult {
	if r, ok := flatPubAck(b); ok && json.Valid(b) {
		return r
	}
	return decodePubAck(b)
}

// flatPubAck reads b as a flat JSON object of the server's form; ok is false
// when b is not of that form.
func flatPubAck(b []byte) (r ackResult, ok bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return r, false
	}
	stream := false
	for i := 1; i < len(b)-1; {
		// "key":
		if b[i] != '"' {
			return r, false
		}
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			return r, false
		}
		key := b[i+1 : i+1+j]
		i += j + 2
		if i >= len(b)-1 || b[i] != ':' || bytes.IndexByte(key, '\\') >= 0 {
			return r, false
		}
		i++
		// the value: a string without escapes, or a bare word or number
		var val []byte
		if b[i] == '"' {
			j := bytes.IndexByte(b[i+1:], '"')
			if j < 0 {
				return r, false
			}
			val = b[i : i+j+2]
			if bytes.IndexByte(val, '\\') >= 0 {
				return r, false
			}
		} else {
			j := i
			for j < len(b)-1 && b[j] != ',' {
				j++
			}
			val = b[i:j]
			if bytes.ContainsAny(val, " \t\r\n{}[]\"") {
				return r, false
			}
		}
		i += len(val)
		switch k := string(key); {
		case k == "stream":
			if len(val) < 3 || val[0] != '"' {
				return r, false
			}
			stream = true
		case k == "duplicate":
			switch string(val) {
			case "true":
				r.duplicate = true
			case "false":
				r.duplicate = false
			default:
				return r, false
			}
		case strings.EqualFold(k, "error"), strings.EqualFold(k, "stream"), strings.EqualFold(k, "duplicate"):
			return r, false
		}
		if i < len(b)-1 {
			if b[i] != ',' {
				return r, false
			}
			i++
			if i == len(b)-1 {
				return r, false
			}
		}
	}
	return r, stream
}

// decodePubAck is parsePubAck by encoding/json alone.
func decodePubAck(b []byte) ackResult {
	var pa struct {
		Error     *jetstream.APIError `json:"error"`
		Stream    string              `json:"stream"`
		Duplicate bool                `json:"duplicate"`
	}
	if err := json.Unmarshal(b, &pa); err != nil {
		return ackResult{err: jetstream.ErrInvalidJSAck}
	}
	if pa.Error != nil {
		return ackResult{err: pa.Error}
	}
	if pa.Stream == "" {
		return ackResult{err: jetstream.ErrInvalidJSAck}
	}
	return ackResult{duplicate: pa.Duplicate}
}
