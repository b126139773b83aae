package http

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
	"github.com/plaint/plaint/projections/alerts"
)

func alertEvent(seq uint64, cat, typ string) alerts.Event {
	id := "week/category=" + cat + "/2026-03-02"
	state := "open"
	if typ == alerts.TypeCleared {
		state = "cleared"
	}
	return alerts.Event{Seq: seq, ID: id + "#" + typ, Type: typ, Time: time.Date(2026, 3, 4, int(seq), 0, 0, 0, time.UTC),
		Data: alerts.Alert{AlertID: id, State: state, Series: map[string]string{"category": cat}, Period: "week", PeriodStart: "2026-03-02", Observed: float64(10 * seq)}}
}

func newAlertServer(t *testing.T, feed *alerts.Feed) *httptest.Server {
	t.Helper()
	l, err := eventstore.Open(filepath.Join(t.TempDir(), "events.db"), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s, err := New(Config{Log: l, Alerts: feed})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// TestAlertsListsOpenAndRecent checks GET /v1/alerts: the latest event of
// each open alert, the cleared ones apart, and the category filter.
func TestAlertsListsOpenAndRecent(t *testing.T) {
	feed := alerts.NewFeed()
	feed.Set([]alerts.Event{alertEvent(1, "billing", alerts.TypeRaised), alertEvent(2, "outage", alerts.TypeRaised),
		alertEvent(3, "billing", alerts.TypeUpdated), alertEvent(4, "outage", alerts.TypeCleared)})
	ts := newAlertServer(t, feed)
	var ans struct {
		Open, Recent []struct {
			Type string
			Data alerts.Alert
		}
		LastSeq uint64 `json:"last_seq"`
	}
	get := func(path string) {
		resp, b := testutil.Get(t, ts.URL+path)
		ans.Open, ans.Recent = nil, nil
		if err := json.Unmarshal(b, &ans); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d, %v", path, resp.StatusCode, err)
		}
	}
	get("/v1/alerts")
	if len(ans.Open) != 1 || ans.Open[0].Type != alerts.TypeUpdated || ans.Open[0].Data.Observed != 30 ||
		len(ans.Recent) != 1 || ans.Recent[0].Data.Series["category"] != "outage" || ans.LastSeq != 4 {
		t.Fatalf("answer %+v", ans)
	}
	get("/v1/alerts?category=outage")
	if len(ans.Open) != 0 || len(ans.Recent) != 1 {
		t.Fatalf("outage only: %+v", ans)
	}
}

// TestAlertStreamResumesFromLastEventID reads the SSE stream from a
// Last-Event-ID, then an event that arrives while it is open, and checks
// that a bad Last-Event-ID is a 400.
func TestAlertStreamResumesFromLastEventID(t *testing.T) {
	feed := alerts.NewFeed()
	feed.Set([]alerts.Event{alertEvent(1, "billing", alerts.TypeRaised), alertEvent(2, "outage", alerts.TypeRaised)})
	ts := newAlertServer(t, feed)
	// The header wins over the URL's after (a browser reconnecting sends
	// the last id it saw, to the URL it first opened).
	req, _ := http.NewRequest("GET", ts.URL+"/v1/alerts/stream?after=0", nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	type sse struct{ id, event, data string }
	events := make(chan sse, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.id != "" {
					events <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			}
		}
		close(events)
	}()
	next := func() sse {
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event on the stream")
		}
		return sse{}
	}
	if e := next(); e.id != "2" || e.event != alerts.TypeRaised || !strings.Contains(e.data, `"category":"outage"`) {
		t.Fatalf("first event %+v, want number 2", e)
	}
	feed.Set([]alerts.Event{alertEvent(1, "billing", alerts.TypeRaised), alertEvent(2, "outage", alerts.TypeRaised), alertEvent(3, "outage", alerts.TypeCleared)})
	e := next()
	ev, err := alerts.ParseCloudEvent([]byte(e.data))
	if e.id != "3" || e.event != alerts.TypeCleared || err != nil || ev.ID != alertEvent(3, "outage", alerts.TypeCleared).ID {
		t.Fatalf("live event %+v (%v)", e, err)
	}
	resp2, _ := testutil.Get(t, ts.URL+"/v1/alerts/stream?after=x")
	if resp2.StatusCode != http.StatusBadRequest {
		t.Fatalf("after=x: %d", resp2.StatusCode)
	}
}

// FuzzAlertStreamStart feeds the alert stream's resume inputs: any
// Last-Event-ID header and after parameter give a number or an EINVALID
// error, never a panic or a negative start other than "from the next".
func FuzzAlertStreamStart(f *testing.F) {
	for _, s := range []string{"", "0", "12", "-1", "x", "18446744073709551616", " 3", "9223372036854775807"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, header, after string) {
		r := httptest.NewRequest("GET", "/v1/alerts/stream", nil)
		r.Header.Set("Last-Event-ID", header)
		q := r.URL.Query()
		q.Set("after", after)
		r.URL.RawQuery = q.Encode()
		n, err := streamStart(r)
		switch {
		case err != nil && domain.ErrorCode(err) != domain.EINVALID:
			t.Fatalf("%q/%q: %v", header, after, err)
		case err == nil && n < -1:
			t.Fatalf("%q/%q: start %d", header, after, n)
		case err == nil && n == -1 && (after != "" || header != ""):
			t.Fatalf("%q/%q: given, yet from the next", header, after)
		}
	})
}

// FuzzParseCloudEvent checks that an alert event read back from any bytes
// either fails or writes out as it reads.
func FuzzParseCloudEvent(f *testing.F) {
	ev := alertEvent(1, "billing", alerts.TypeRaised)
	b, _ := ev.CloudEvent()
	f.Add(b)
	f.Add([]byte(`{"data":{"expected":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := alerts.ParseCloudEvent(b)
		if err != nil {
			return
		}
		out, err := ev.CloudEvent()
		if err != nil {
			t.Fatalf("%q read but does not write: %v", b, err)
		}
		again, err := alerts.ParseCloudEvent(out)
		if err != nil {
			t.Fatal(err)
		}
		if out2, _ := again.CloudEvent(); string(out2) != string(out) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}
