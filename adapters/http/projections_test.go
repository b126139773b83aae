package http

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
	"github.com/plaint/plaint/projections"
)

func newProjectionServer(t *testing.T) (*httptest.Server, *eventstore.Log) {
	t.Helper()
	var evs []domain.Event
	for i, c := range []string{"billing", "billing", "delivery", "billing", "outage"} {
		m := time.Month(9 + i%2)
		evs = append(evs, domain.Event{ID: string(rune('a' + i)), Source: "crm", Type: domain.TypeComplaintFiled,
			Time: time.Date(2026, m, 3, 0, 0, 0, 0, time.UTC), Schema: 1,
			Data: domain.Data{CustomerID: "C-1", Category: c, Segment: "smb"}})
	}
	return serverWith(t, evs)
}

// serverWith serves projections over a new log holding evs.
func serverWith(t *testing.T, evs []domain.Event) (*httptest.Server, *eventstore.Log) {
	t.Helper()
	ts := newTestServer(t, evs, nil)
	return ts.Server, ts.log
}

// get sends a GET and returns the status and body, once checked against
// /openapi.json.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, b := testutil.Get(t, url)
	sharedDocRouter(t).checkResponse(t, resp.Request, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, string(b)
}

func TestTrendsEndpoint(t *testing.T) {
	ts, _ := newProjectionServer(t)
	code, body := get(t, ts.URL+"/v1/trends?by=category&from=2026-09&to=2026-10&format=csv")
	if code != 200 || !strings.HasPrefix(body, "bucket,category,count,prev_count,change,pct_change,yoy_count,share,p_value") {
		t.Fatalf("%d %s", code, body)
	}
	// The complaints are all on the 3rd: the data end on 2026-10-03, so
	// October is partial (3 of 31 days) and compared at its rate.
	if !strings.Contains(body, "2026-10,billing,2,1,2,1766.67,0,1,0.0262831,") || !strings.Contains(body, ",true,0.0968\n") {
		t.Fatalf("csv:\n%s", body)
	}
	code, body = get(t, ts.URL+"/v1/trends?by=category&from=2026-09&to=2026-10")
	var res projections.TrendResult
	if code != 200 || json.Unmarshal([]byte(body), &res) != nil || len(res.Rows) != 6 || res.AsOfSeq != 5 {
		t.Fatalf("%d %s", code, body)
	}
	code, body = get(t, ts.URL+"/v1/trends?by=colour")
	if code != 400 || !strings.Contains(body, "not a dimension") {
		t.Fatalf("%d %s", code, body)
	}
	for q, want := range map[string]string{
		"from=1990-01&to=9999-12":    "9999-12 is after 2261-12, the last month plaint can represent",
		"as_of=9999-12-31T00:00:00Z": "is after 2261-12-31, the latest time plaint can represent",
	} {
		if code, body := get(t, ts.URL+"/v1/trends?"+q); code != 400 || !strings.Contains(body, want) {
			t.Fatalf("%s: %d %s", q, code, body)
		}
	}
}

func TestProjectionEndpoints(t *testing.T) {
	ts, _ := newProjectionServer(t)
	resp, err := http.Post(ts.URL+"/v1/projections", "application/yaml", strings.NewReader("name: cats\ngroup_by: [category]\nmesures: [count]\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "line 3") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, err = http.Post(ts.URL+"/v1/projections", "application/yaml", strings.NewReader("name: cats\ngroup_by: [category]\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	code, body := get(t, ts.URL+"/v1/projections/cats/result?format=csv")
	if code != 200 || body != "bucket,category,count\n2026-09,billing,1\n2026-09,delivery,1\n2026-09,outage,1\n2026-10,billing,2\n" {
		t.Fatalf("%d %q", code, body)
	}
	code, body = get(t, ts.URL+"/v1/projections/cats")
	if code != 200 || !strings.Contains(body, `"state": "live"`) {
		t.Fatalf("%d %s", code, body)
	}
	code, body = get(t, ts.URL+"/v1/projections")
	if code != 200 || !strings.Contains(body, `"cats"`) {
		t.Fatalf("%d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/v1/projections/cats", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("drop: %d", resp.StatusCode)
	}
	if code, _ := get(t, ts.URL+"/v1/projections/cats"); code != 404 {
		t.Fatalf("after drop: %d", code)
	}
}

// TestEveryProjectionHandlerOnAnEmptyLog asks every trend and projection
// endpoint of a server whose log is empty: each answers, none panics.
func TestEveryProjectionHandlerOnAnEmptyLog(t *testing.T) {
	ts, _ := serverWith(t, nil)
	for _, c := range []struct {
		path, want string
	}{
		{"/v1/trends", `"rows": []`},
		{"/v1/trends?format=csv", "bucket,category,count"},
		{"/v1/trends?format=table", "(no complaints in this range)"},
		{"/v1/trends?by=segment,channel&bucket=week&from=2026-W01&to=2026-W10", `"rows": []`},
		{"/v1/trends?where=segment=nobody", `"rows": []`},
		{"/v1/trends?as_of=2026-01-01T00:00:00Z", `"as_of_seq": 0`},
		{"/v1/trends?as_of=7", `"as_of_seq": 0`},
		{"/v1/projections", `"projections": [`},
	} {
		code, body := get(t, ts.URL+c.path)
		if code != 200 || !strings.Contains(body, c.want) {
			t.Fatalf("GET %s: %d %s", c.path, code, body)
		}
	}
	resp, err := http.Post(ts.URL+"/v1/projections", "application/yaml", strings.NewReader("name: cats\ngroup_by: [category]\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	for _, c := range []struct {
		path, want string
	}{
		{"/v1/projections/cats/result", `"rows": []`}, // waits for the build
		{"/v1/projections/cats", `"state": "live"`},
		{"/v1/projections/cats/result?format=csv", "bucket,category,count\n"},
		{"/v1/projections/cats/result?format=table", "bucket"},
		{"/v1/projections/cats/result?as_of=3", `"rows": []`},
	} {
		if code, body := get(t, ts.URL+c.path); code != 200 || !strings.Contains(body, c.want) {
			t.Fatalf("GET %s: %d %s", c.path, code, body)
		}
	}
	if code, body := get(t, ts.URL+"/v1/projections/nothing/result"); code != 404 {
		t.Fatalf("unknown projection: %d %s", code, body)
	}
}

// TestBuiltinProjectionNamesWithSlashes: every name the list shows, slashes
// and all, has a status and a result, given as is or escaped; a trend cache
// entry can be dropped, the customer base cannot.
func TestBuiltinProjectionNamesWithSlashes(t *testing.T) {
	ts, _ := newProjectionServer(t)
	if code, body := get(t, ts.URL+"/v1/trends?by=category,segment"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var list struct {
		Projections []projections.Status `json:"projections"`
	}
	_, body := get(t, ts.URL+"/v1/projections")
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Projections) != 3 {
		t.Fatalf("%v %s", err, body)
	}
	for _, st := range list.Projections {
		for _, path := range []string{st.Name, url.PathEscape(st.Name)} {
			if code, body := get(t, ts.URL+"/v1/projections/"+path); code != 200 || !strings.Contains(body, `"name": "`+st.Name+`"`) {
				t.Fatalf("status of %s: %d %s", path, code, body)
			}
			if code, body := get(t, ts.URL+"/v1/projections/"+path+"/result?format=csv"); code != 200 || !strings.HasPrefix(body, "bucket,") {
				t.Fatalf("result of %s: %d %s", path, code, body)
			}
		}
	}
	code, body := get(t, ts.URL+"/v1/projections/builtin/trend/month/category+segment/result?format=csv")
	if code != 200 || !strings.Contains(body, "2026-10,billing,smb,2,") {
		t.Fatalf("%d %s", code, body)
	}
	del := func(name string) int {
		req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/v1/projections/"+name, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del("builtin/active-customers"); code != 400 {
		t.Fatalf("drop of the customer base: %d", code)
	}
	if code := del("builtin/trend/month/category+segment"); code != 204 {
		t.Fatalf("drop of a trend: %d", code)
	}
	if code, _ := get(t, ts.URL+"/v1/projections/builtin/trend/month/category+segment"); code != 404 {
		t.Fatalf("status after drop: %d", code)
	}
}
