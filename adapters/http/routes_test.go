package http

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
)

// threeEvents are a small log for the route tests.
func threeEvents() []domain.Event {
	var evs []domain.Event
	for i, c := range []string{"billing", "outage", "billing"} {
		evs = append(evs, domain.Event{ID: string(rune('a' + i)), Source: "crm", Type: domain.TypeComplaintFiled,
			Time: time.Date(2026, 9, 3+i, 0, 0, 0, 0, time.UTC), Schema: 1,
			Data: domain.Data{CustomerID: "C-1", Category: c}})
	}
	return evs
}

func TestHealthAndReadiness(t *testing.T) {
	notReady := errors.New("the data disk is full")
	ready := error(nil)
	ts := newTestServer(t, nil, func(c *Config) {
		c.Version, c.DataDir = "v9", "/data/x"
		c.Ready = func() error { return ready }
	})
	code, _, body := ts.do(t, "GET", "/healthz", "", nil)
	var h Health
	if code != 200 || json.Unmarshal([]byte(body), &h) != nil || h.Status != "ok" || h.Version != "v9" || h.DataDir != "/data/x" {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, _, body := ts.do(t, "GET", "/readyz", "", nil); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("readyz: %d %s", code, body)
	}
	ready = notReady
	if code, _, body := ts.do(t, "GET", "/readyz", "", nil); code != 503 || !strings.Contains(body, "the data disk is full") {
		t.Errorf("readyz not ready: %d %s", code, body)
	}
}

func TestStatsRoute(t *testing.T) {
	ts := newTestServer(t, threeEvents(), func(c *Config) { c.Ingest = func() any { return map[string]int{"redelivered": 4} } })
	code, _, body := ts.do(t, "GET", "/v1/stats", "", nil)
	var st struct {
		Events uint64 `json:"events"`
		Log    struct {
			ByType map[string]uint64 `json:"by_type"`
		}
		Ingest map[string]int
	}
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Events != 3 || st.Log.ByType["complaint.filed"] != 3 || st.Ingest["redelivered"] != 4 {
		t.Errorf("stats: %d %s", code, body)
	}
}

// TestEventsTailRoute: GET /v1/events streams stored events from a
// sequence, at most limit, with the log's own attributes.
func TestEventsTailRoute(t *testing.T) {
	ts := newTestServer(t, threeEvents(), nil)
	code, h, body := ts.do(t, "GET", "/v1/events?from=2&limit=5", "", nil)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if code != 200 || h.Get("Content-Type") != "application/x-ndjson" || len(lines) != 2 || h.Get("Plaint-Last-Seq") != "3" {
		t.Fatalf("%d %v %q", code, h, body)
	}
	var ev struct {
		ID  string `json:"id"`
		Seq uint64 `json:"plaintseq"`
	}
	if json.Unmarshal([]byte(lines[0]), &ev) != nil || ev.ID != "b" || ev.Seq != 2 {
		t.Errorf("first line %s", lines[0])
	}
	if _, _, body := ts.do(t, "GET", "/v1/events?limit=1", "", nil); strings.Count(body, "\n") != 1 {
		t.Errorf("limit 1: %q", body)
	}
	for _, q := range []string{"from=x", "limit=0", "limit=100001"} {
		code, h, body := ts.do(t, "GET", "/v1/events?"+q, "", nil)
		wantError(t, q, code, h, body, 400, domain.EINVALID)
	}
}

// TestBackupRoute: the backup is a log file holding every event.
func TestBackupRoute(t *testing.T) {
	ts := newTestServer(t, threeEvents(), nil)
	code, h, body := ts.do(t, "GET", "/v1/backup", "", nil)
	if code != 200 || h.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("%d %v", code, h)
	}
	path := t.TempDir() + "/copy.db"
	if err := writeFile(path, body); err != nil {
		t.Fatal(err)
	}
	l, err := eventstore.Open(path, eventstore.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.LastSeq() != 3 {
		t.Errorf("the backup holds %d events", l.LastSeq())
	}
}

func TestVerifyRoute(t *testing.T) {
	ts := newTestServer(t, threeEvents(), nil)
	code, _, body := ts.do(t, "POST", "/v1/verify", "", nil)
	var v VerifyResult
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil || !v.OK || v.Records != 3 {
		t.Errorf("verify: %d %s", code, body)
	}
}

func TestDLQRoutes(t *testing.T) {
	ts := newTestServer(t, nil, fullConfig)
	if code, _, body := ts.do(t, "GET", "/v1/dlq?reason=bad_json&since=2026-01-01T00:00:00Z&limit=5", "", nil); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("list: %d %s", code, body)
	}
	for _, q := range []string{"since=yesterday", "limit=0", "limit=10001"} {
		code, h, body := ts.do(t, "GET", "/v1/dlq?"+q, "", nil)
		wantError(t, "list "+q, code, h, body, 400, domain.EINVALID)
	}
	code, h, body := ts.do(t, "GET", "/v1/dlq/7", "", nil)
	wantError(t, "show a missing one", code, h, body, 404, domain.ENOTFOUND)
	code, h, body = ts.do(t, "GET", "/v1/dlq/x", "", nil)
	wantError(t, "show x", code, h, body, 400, domain.EINVALID)
	if code, _, body := ts.do(t, "POST", "/v1/dlq/replay", "application/json", []byte(`{"all":true}`)); code != 200 || !strings.Contains(body, "replayed") {
		t.Errorf("replay all: %d %s", code, body)
	}
	for _, b := range []string{`{}`, `{"all":true,"reason":"x"}`, `{"ids":[1,2],"body":{}}`, `{"nope":1}`, `[`} {
		code, h, body := ts.do(t, "POST", "/v1/dlq/replay", "application/json", []byte(b))
		wantError(t, "replay "+b, code, h, body, 400, domain.EINVALID)
	}
}

func TestForgetRoute(t *testing.T) {
	ts := newTestServer(t, nil, fullConfig)
	code, _, body := ts.do(t, "POST", "/v1/customers/C%2F7/forget", "application/json", []byte(`{"reason":"asked by mail"}`))
	if code != 200 || !strings.Contains(body, `"customer_id": "C/7"`) || !strings.Contains(body, `"asked by mail"`) {
		t.Errorf("forget: %d %s", code, body)
	}
	if code, _, _ := ts.do(t, "POST", "/v1/customers/C-8/forget", "", nil); code != 200 {
		t.Errorf("forget without a body: %d", code)
	}
	code, h, body := ts.do(t, "POST", "/v1/customers/C-8/forget", "application/json", []byte(`{"why":"x"}`))
	wantError(t, "unknown field", code, h, body, 400, domain.EINVALID)
}

func TestMetricsRoute(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ts.do(t, "GET", "/healthz", "", nil)
	testutil.WaitFor(t, 10*time.Second, "the healthz request in /metrics", func() bool {
		code, h, body := ts.do(t, "GET", "/metrics", "", nil)
		return code == 200 && strings.HasPrefix(h.Get("Content-Type"), "text/plain") &&
			strings.Contains(body, `plaint_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1`)
	})
}

func TestProjectionListAsCSV(t *testing.T) {
	ts := newTestServer(t, threeEvents(), nil)
	ts.do(t, "GET", "/v1/trends?by=category", "", nil)
	code, h, body := ts.do(t, "GET", "/v1/projections?format=csv", "", nil)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(body, "name,kind,state,checkpoint,last_seq,progress_pct,memory_bytes,error\n") || !strings.Contains(body, "builtin/trend/month/category,") {
		t.Errorf("%d %s", code, body)
	}
	code, h, body = ts.do(t, "GET", "/v1/projections?format=xml", "", nil)
	wantError(t, "format xml", code, h, body, 400, domain.EINVALID)
}
