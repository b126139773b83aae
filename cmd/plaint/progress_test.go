package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
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

// TestProgressWithoutTotalCounts: the publisher's progress has no total;
// on a terminal a bar is drawn once there is progress, elsewhere the
// caller's line is written at most every two seconds.
func TestProgressWithoutTotalCounts(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "publishing", "events")
	p.tty = true
	p.advance(0, 0, nil)
	if buf.Len() != 0 {
		t.Fatalf("drawn before any progress: %q", buf.String())
	}
	p.advance(1234, 0, nil)
	p.done()
	if out := buf.String(); !strings.Contains(out, "publishing") {
		t.Fatalf("bar %q", out)
	}
	buf.Reset()
	p = newProgress(&buf, "publishing", "events")
	p.last = p.last.Add(-time.Minute) // the last line is long ago
	p.advance(7, 0, func() string { return "publishing: 7 acked" })
	p.advance(8, 0, func() string { return "publishing: 8 acked" }) // within two seconds of the last
	if out := buf.String(); out != "publishing: 7 acked\n" {
		t.Fatalf("lines %q", out)
	}
}
