package projections

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// gobEncode returns the gob encoding of v, the saved form of a state
// (what names it in errors).
func gobEncode(what string, v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return buf.Bytes(), nil
}

// gobDecode decodes b, a state gobEncode returned, into v.
func gobDecode(what string, b []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}
