package watermill_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/testutil"
)

// lockedBuffer is a log buffer safe for a logger and a reader.
type lockedBuffer struct{ testutil.Buffer }

// lines returns the JSON log lines with the given message.
func (l *lockedBuffer) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestDeadLettersAreLoggedWithTheirReasonRateLimited: within an interval
// the first dead letters of a reason are logged one by one, the rest summed
// up in one line per reason when the interval ends (here: when the ingest
// stops, as the interval is an hour; TestDeadLetterSummariesAreWrittenWhen
// TheirIntervalEnds checks the end of an interval). It waits for conditions
// only: every message acknowledged, then the ingest stopped.
func TestDeadLettersAreLoggedWithTheirReasonRateLimited(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		var buf lockedBuffer
		logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
		r := e.start(m.with(e, plaintwm.Config{Logger: logger, DeadLetterLogBurst: 3, DeadLetterLogInterval: time.Hour}))
		filed := domain.TypeComplaintFiled.Subject()
		for i := range 12 {
			ev := complaint("crm", "m"+string(rune('a'+i)))
			ev.Data.CustomerID = ""
			e.publish(filed, payload(t, ev))
		}
		e.publish(filed, []byte(`{"specversion":`))
		testutil.WaitFor(t, waitLimit, "13 messages acked", func() bool { return e.allAcked(13) })
		if sum := buf.lines("ingest: more messages dead-lettered than logged one by one"); len(sum) != 0 {
			t.Fatalf("summary lines before the interval ended: %v", sum)
		}
		r.stop(t)
		one := buf.lines("ingest: message dead-lettered")
		byReason := map[string]int{}
		for _, l := range one {
			byReason[l["reason"].(string)]++
			if l["level"] != "WARN" || l["err"] == "" {
				t.Errorf("line %v", l)
			}
		}
		if byReason[domain.ReasonMissingField] != 3 || byReason[domain.ReasonBadJSON] != 1 {
			t.Fatalf("individual lines by reason %v; want 3 missing_field, 1 bad_json", byReason)
		}
		sum := buf.lines("ingest: more messages dead-lettered than logged one by one")
		if len(sum) != 1 || sum[0]["reason"] != domain.ReasonMissingField || sum[0]["count"] != float64(9) ||
			!strings.Contains(sum[0]["last_err"].(string), "customer_id") {
			t.Fatalf("summary lines %v; want one for missing_field counting 9", sum)
		}
	})
}
