package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/plaint/plaint/domain"
)

// writeJSONL writes evs to path as plaint emit --file reads them: one
// CloudEvent a line.
func writeJSONL(tb testing.TB, path string, evs []domain.Event) {
	tb.Helper()
	var b bytes.Buffer
	for i := range evs {
		j, err := evs[i].MarshalJSON()
		if err != nil {
			tb.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}
