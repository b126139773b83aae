package http

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/testutil"
)

func TestUnknownPathsAndMethodsAreJSONErrors(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	code, h, body := ts.do(t, "GET", "/v1/nothing", "", nil)
	wantError(t, "unknown path", code, h, body, 404, domain.ENOTFOUND)
	code, h, body = ts.do(t, "GET", "/nothing/at/all?x=1", "", nil)
	wantError(t, "unknown path outside /v1", code, h, body, 404, domain.ENOTFOUND)
	code, h, body = ts.do(t, "PUT", "/v1/stats", "", nil)
	wantError(t, "PUT /v1/stats", code, h, body, 405, domain.ENOTALLOWED)
	if !strings.Contains(h.Get("Allow"), "GET") {
		t.Errorf("405 Allow: %q", h.Get("Allow"))
	}
	code, h, body = ts.do(t, "DELETE", "/v1/trends", "", nil)
	wantError(t, "DELETE /v1/trends", code, h, body, 405, domain.ENOTALLOWED)
	code, h, body = ts.do(t, "GET", "/v1/trends?by=nope%20field&from=bad", "", nil)
	wantError(t, "bad trend query", code, h, body, 400, domain.EINVALID)
}

func TestRequestIDs(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	_, h, _ := ts.do(t, "GET", "/healthz", "", nil, "X-Request-Id", "abc-123")
	if h.Get("X-Request-Id") != "abc-123" {
		t.Errorf("a well-formed id is kept: %q", h.Get("X-Request-Id"))
	}
	_, h, _ = ts.do(t, "GET", "/healthz", "", nil, "X-Request-Id", "no spaces or\tcontrol")
	if id := h.Get("X-Request-Id"); len(id) != 24 || strings.Contains(id, " ") {
		t.Errorf("a malformed id is replaced: %q", id)
	}
	_, h2, _ := ts.do(t, "GET", "/healthz", "", nil)
	if h2.Get("X-Request-Id") == "" || h2.Get("X-Request-Id") == h.Get("X-Request-Id") {
		t.Errorf("new ids: %q %q", h.Get("X-Request-Id"), h2.Get("X-Request-Id"))
	}
}

func TestPanicsBecomeJSON500s(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ts.srv.handle("GET /v1/test-panic", RoleRead, func(http.ResponseWriter, *http.Request) { panic("boom") })
	code, h, body := ts.do(t, "GET", "/v1/test-panic", "", nil, "X-Request-Id", "panic-1")
	wantError(t, "panic", code, h, body, 500, domain.EINTERNAL)
	if strings.Contains(body, "boom") {
		t.Errorf("the panic's value reached the client: %s", body)
	}
	if l := ts.logs.String(); !strings.Contains(l, "handler panicked") || !strings.Contains(l, "request_id=panic-1") {
		t.Errorf("log:\n%s", l)
	}
	// The server still answers.
	if code, _, _ := ts.do(t, "GET", "/healthz", "", nil); code != 200 {
		t.Errorf("after a panic: %d", code)
	}
}

func TestBodyLimit(t *testing.T) {
	ts := newTestServer(t, nil, func(c *Config) { c.MaxBody = 1000 })
	big := bytes.Repeat([]byte("x"), 1001)
	code, h, body := ts.do(t, "POST", "/v1/projections", "application/yaml", big)
	wantError(t, "oversize spec", code, h, body, 413, domain.ETOOLARGE)
	// A body without a declared length is cut when read.
	req, _ := http.NewRequest("POST", ts.URL+"/v1/projections", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked oversize body: %d", resp.StatusCode)
	}
	code, _, body = ts.do(t, "POST", "/v1/projections", "application/yaml", []byte("name: small\nmeasures: [count]\n"))
	if code != 202 {
		t.Errorf("a small spec: %d %s", code, body)
	}
}

// TestAccessLogHasNoPersonalData: every request is logged at the default
// level with its route pattern, status and request id, and no log line
// holds the customer id or complaint text of the request's path, query or
// body, nor a header's value.
func TestAccessLogHasNoPersonalData(t *testing.T) {
	const customer, text, secret = "C-SECRET-1042", "my-router-burnt-down", "tok-very-secret"
	ts := newTestServer(t, []domain.Event{{ID: "1", Source: "crm", Type: domain.TypeComplaintFiled,
		Time: time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC), Schema: 1,
		Data: domain.Data{CustomerID: customer, Category: "billing", Product: text}}}, func(c *Config) { c.Forget = echoForgetter{} })
	for _, rq := range []struct{ method, path, body string }{
		{"GET", "/v1/trends?by=category&where=customer_id=" + customer, ""},
		{"GET", "/v1/events?from=1", ""},
		{"POST", "/v1/customers/" + customer + "/forget", `{"reason":"` + text + `"}`},
		{"GET", "/v1/projections/" + customer, ""},
		{"GET", "/v1/" + customer, ""},
		{"POST", "/v1/projections", "name: x\nfilter: {where: {customer_id: [" + customer + "]}}\nmeasures: [count]\n"},
	} {
		code, _, _ := ts.do(t, rq.method, rq.path, "", []byte(rq.body), "Authorization", "Bearer "+secret, "Cookie", "plaint_session="+secret)
		if code == 0 {
			t.Fatal("no answer")
		}
	}
	// Each line is written once its answer is sent.
	testutil.WaitFor(t, 10*time.Second, "six access log lines", func() bool { return strings.Count(ts.logs.String(), `msg="http request"`) >= 6 })
	logs := ts.logs.String()
	for _, bad := range []string{customer, text, secret} {
		if strings.Contains(logs, bad) {
			t.Errorf("a log line holds %q:\n%s", bad, logs)
		}
	}
	if !strings.Contains(logs, `route=/v1/trends`) || !strings.Contains(logs, `route=/v1/customers/{id}/forget`) ||
		!strings.Contains(logs, "status=200") || !strings.Contains(logs, "route=unmatched") || !strings.Contains(logs, "request_id=") {
		t.Errorf("access log lines missing:\n%s", logs)
	}
}

func TestRequestMetrics(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ts.do(t, "GET", "/v1/stats", "", nil)
	ts.do(t, "GET", "/v1/stats", "", nil)
	ts.do(t, "GET", "/v1/nope", "", nil)
	// A request is measured once its answer is sent.
	testutil.WaitFor(t, 10*time.Second, "the requests in /metrics", func() bool {
		_, _, body := ts.do(t, "GET", "/metrics", "", nil)
		return strings.Contains(body, `plaint_http_request_duration_seconds_count{method="GET",route="/v1/stats",status="200"} 2`) &&
			strings.Contains(body, `plaint_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`)
	})
}

// echoForgetter answers a forget request with what it was asked.
type echoForgetter struct{}

func (echoForgetter) Forget(_ context.Context, req ForgetRequest) (any, error) {
	return map[string]string{"customer_id": req.CustomerID, "reason": req.Reason}, nil
}
