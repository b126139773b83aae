package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgressBarDrawsNoRateBeforeProgress: the live bar's first frames
// used to say "0 events/hr"; it is drawn once there is progress.
func TestProgressBarDrawsNoRateBeforeProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "verify", "records")
	p.tty = true // as on a terminal
	p.update(0, 1000)
	if buf.Len() != 0 {
		t.Fatalf("drawn before any progress: %q", buf.String())
	}
	p.update(500, 1000)
	p.done()
	if out := buf.String(); strings.Contains(out, "/hr") || !strings.Contains(out, "verify") {
		t.Fatalf("bar %q", out)
	}
}
