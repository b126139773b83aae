package watermill

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDeadLetterSummariesAreWrittenWhenTheirIntervalEnds drives the
// interval with explicit times: nothing is summed up before it ends, one
// line per reason after, and the next interval starts afresh.
func TestDeadLetterSummariesAreWrittenWhenTheirIntervalEnds(t *testing.T) {
	var buf bytes.Buffer
	d := newDeadLetterLog(slog.New(slog.NewTextHandler(&buf, nil)), 1, time.Minute)
	start := d.start
	for range 3 {
		d.record("missing_field", "data.customer_id: is required", "plaint.events.complaint.filed")
	}
	d.record("bad_json", "not JSON", "plaint.events.complaint.filed")
	d.flush(start.Add(59 * time.Second))
	if n := strings.Count(buf.String(), "more messages dead-lettered"); n != 0 {
		t.Fatalf("%d summary lines before the interval ended:\n%s", n, buf.String())
	}
	if n := strings.Count(buf.String(), "msg=\"ingest: message dead-lettered\""); n != 2 {
		t.Fatalf("%d individual lines, want one per reason (burst 1):\n%s", n, buf.String())
	}
	d.flush(start.Add(time.Minute))
	if n := strings.Count(buf.String(), "more messages dead-lettered"); n != 1 || !strings.Contains(buf.String(), "reason=missing_field count=2") {
		t.Fatalf("want one summary counting 2 missing_field:\n%s", buf.String())
	}
	buf.Reset()
	d.close()
	if buf.Len() != 0 {
		t.Fatalf("the new interval summed up again:\n%s", buf.String())
	}
}
