package http

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

const (
	readToken   = "read-0123456789abcdef"
	ingestToken = "ingest-0123456789abcdef"
	adminToken  = "admin-0123456789abcdef"
)

func testTokens(t testing.TB) *Tokens {
	tk, err := ParseTokens(strings.NewReader("# the test's tokens\nread " + readToken + "\n\ningest " + ingestToken + "  # a comment\nadmin\t" + adminToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func newAuthServer(t *testing.T) *testServer {
	return newTestServer(t, nil, func(c *Config) {
		fullConfig(c)
		c.Tokens = testTokens(t)
		c.MaxBody = 4096
	})
}

// TestEveryRouteChecksItsRole sends each registered route a request with no
// token, a wrong one, and each role's: no token or a wrong one is 401
// (with WWW-Authenticate), a role the route does not allow 403, and the
// roles it allows get past the check.
func TestEveryRouteChecksItsRole(t *testing.T) {
	ts := newAuthServer(t)
	fill := regexp.MustCompile(`\{[a-z_]+(\.\.\.)?\}`)
	tokens := map[string]string{"": "", "wrong": "wrong-0123456789abcdef", "read": readToken, "ingest": ingestToken, "admin": adminToken}
	for _, rt := range ts.srv.Routes() {
		path := strings.TrimSuffix(fill.ReplaceAllString(rt.Path, "x1"), "{$}")
		if rt.Method == "DELETE" && strings.HasPrefix(path, "/v1/projections/") {
			path = "/v1/projections/no-such-projection"
		}
		for name, tok := range tokens {
			var hdr []string
			if tok != "" {
				hdr = []string{"Authorization", "Bearer " + tok}
			}
			var code int
			var h http.Header
			var body string
			if strings.HasSuffix(path, "/stream") {
				code, h, body = ts.head(t, path, hdr...) // an event stream does not end
			} else {
				code, h, body = ts.do(t, rt.Method, path, "", nil, hdr...)
			}
			what := rt.Method + " " + path + " with " + name + " token"
			switch {
			case rt.Role == RolePublic || name == "admin" || name == string(rt.Role):
				if code == 401 || code == 403 {
					t.Errorf("%s: %d %s", what, code, body)
				}
			case name == "" || name == "wrong":
				wantError(t, what, code, h, body, 401, domain.EUNAUTHORIZED)
				if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: WWW-Authenticate %q", what, h.Get("WWW-Authenticate"))
				}
			default:
				wantError(t, what, code, h, body, 403, domain.EFORBIDDEN)
			}
		}
	}
}

// TestAccessControlCases are the named cases.
func TestAccessControlCases(t *testing.T) {
	ts := newAuthServer(t)
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	code, h, body := ts.do(t, "GET", "/v1/backup", "", nil)
	wantError(t, "backup without a token", code, h, body, 401, domain.EUNAUTHORIZED)
	code, h, body = ts.do(t, "GET", "/v1/stats", "", nil, bearer("not-a-token-of-the-server")...)
	wantError(t, "a wrong token", code, h, body, 401, domain.EUNAUTHORIZED)
	code, h, body = ts.do(t, "POST", "/v1/projections", "application/yaml", []byte("name: x\nmeasures: [count]\n"), bearer(readToken)...)
	wantError(t, "read token creating a projection", code, h, body, 403, domain.EFORBIDDEN)
	code, h, body = ts.do(t, "DELETE", "/v1/projections/x", "", nil, bearer(ingestToken)...)
	wantError(t, "ingest token dropping a projection", code, h, body, 403, domain.EFORBIDDEN)
	code, h, body = ts.do(t, "GET", "/v1/trends?by=category", "", nil, bearer(ingestToken)...)
	wantError(t, "ingest token reading trends", code, h, body, 403, domain.EFORBIDDEN)
	code, h, body = ts.do(t, "POST", "/v1/events", CloudEventType, []byte(strings.Repeat(" ", 5000)), bearer(ingestToken)...)
	wantError(t, "oversize body", code, h, body, 413, domain.ETOOLARGE)
	if code, _, body := ts.do(t, "POST", "/v1/events", CloudEventType, []byte(cloudEvent("a", "billing")), bearer(ingestToken)...); code != 202 {
		t.Errorf("ingest token posting an event: %d %s", code, body)
	}
	// An unknown path tells a caller without a token nothing.
	code, h, body = ts.do(t, "GET", "/v1/secret-route", "", nil)
	wantError(t, "unknown path without a token", code, h, body, 401, domain.EUNAUTHORIZED)
	code, h, body = ts.do(t, "GET", "/v1/secret-route", "", nil, bearer(readToken)...)
	wantError(t, "unknown path with a token", code, h, body, 404, domain.ENOTFOUND)
	// Other schemes are no token.
	code, h, body = ts.do(t, "GET", "/v1/stats", "", nil, "Authorization", "Basic "+adminToken)
	wantError(t, "basic auth", code, h, body, 401, domain.EUNAUTHORIZED)
}

// TestDashboardSignIn: the dashboard exchanges a token once for an
// HttpOnly, SameSite=Strict cookie, which then carries its requests.
func TestDashboardSignIn(t *testing.T) {
	ts := newAuthServer(t)
	if code, _, body := ts.do(t, "GET", "/v1/session", "", nil); code != 200 || !strings.Contains(body, `"auth": true`) || !strings.Contains(body, `"role": ""`) {
		t.Fatalf("session before signing in: %d %s", code, body)
	}
	if code, _, _ := ts.do(t, "GET", "/", "", nil); code != 200 {
		t.Fatalf("the page itself is public: %d", code)
	}
	code, h, body := ts.do(t, "POST", "/v1/session", "application/json", []byte(`{"token":"wrong-0123456789abcdef"}`))
	wantError(t, "sign in with a wrong token", code, h, body, 401, domain.EUNAUTHORIZED)
	req, _ := http.NewRequest("POST", ts.URL+"/v1/session", strings.NewReader(`{"token":"`+readToken+`"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			cookie = c
		}
	}
	if resp.StatusCode != 200 || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("sign in: %s, cookie %+v", resp.Status, cookie)
	}
	withCookie := []string{"Cookie", cookie.Name + "=" + cookie.Value}
	if code, _, body := ts.do(t, "GET", "/v1/stats", "", nil, withCookie...); code != 200 {
		t.Errorf("stats with the cookie: %d %s", code, body)
	}
	if code, _, body := ts.do(t, "GET", "/v1/session", "", nil, withCookie...); code != 200 || !strings.Contains(body, `"role": "read"`) {
		t.Errorf("session with the cookie: %d %s", code, body)
	}
	code, h, body = ts.do(t, "DELETE", "/v1/projections/x", "", nil, withCookie...)
	wantError(t, "a read cookie dropping a projection", code, h, body, 403, domain.EFORBIDDEN)
	code, h, _ = ts.do(t, "DELETE", "/v1/session", "", nil, withCookie...)
	if code != 204 || !strings.Contains(h.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out: %d %q", code, h.Get("Set-Cookie"))
	}
}

// TestLoopbackRule: without tokens a server may only listen on loopback.
func TestLoopbackRule(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "[::1]:0": true, "localhost:0": true, "0.0.0.0:8080": false, ":8080": false, "192.0.2.1:80": false} {
		cfg := Config{Addr: addr, Log: (*eventstore.Log)(nil)}
		cfg.setDefaults()
		err := cfg.Validate()
		if (err == nil) != ok {
			t.Errorf("%s without tokens: %v", addr, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--tokens") {
			t.Errorf("%s: the error does not say how to configure tokens: %v", addr, err)
		}
		cfg.Tokens = testTokens(t)
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s with tokens: %v", addr, err)
		}
	}
}

func TestTokensFile(t *testing.T) {
	tk := testTokens(t)
	for tok, want := range map[string]Role{readToken: RoleRead, ingestToken: RoleIngest, adminToken: RoleAdmin} {
		if r, ok := tk.Role(tok); !ok || r != want {
			t.Errorf("%s: %q %v", want, r, ok)
		}
	}
	for _, bad := range []string{"", readToken[:len(readToken)-1], readToken + "x", strings.ToUpper(readToken)} {
		if _, ok := tk.Role(bad); ok {
			t.Errorf("%q is a token", bad)
		}
	}
	for text, want := range map[string]string{
		"":                               "no token",
		"# only a comment\n":             "no token",
		"read short\n":                   "line 1: a token is at least",
		"reader " + readToken + "\n":     "line 1: role",
		"read " + readToken + " extra\n": "line 1: want",
		"\nread " + readToken + "\nadmin " + readToken: "line 3: the token is on an earlier line",
		"read tok;en-0123456789abcdef\n":               "line 1: a token is at least",
	} {
		_, err := ParseTokens(strings.NewReader(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
		if err != nil && strings.Contains(err.Error(), readToken) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

// FuzzAuthInputs: whatever the Authorization header, the cookie and the
// tokens file hold, a request gets in only with one of the file's tokens
// of a role the route allows, and the server answers with a JSON error
// otherwise.
func FuzzAuthInputs(f *testing.F) {
	f.Add("Bearer "+readToken, "", "read "+readToken)
	f.Add("bearer  "+adminToken+" ", "x", "admin "+adminToken)
	f.Add("", readToken, "read "+readToken)
	f.Add("Bearer", "\x00", "ingest "+ingestToken+"\n#")
	f.Add("Basic "+readToken, readToken+"; other=1", "read "+readToken+"\nread "+readToken)
	l, err := eventstore.Open(filepath.Join(f.TempDir(), "events.db"), eventstore.WithNoSync())
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	s, err := New(Config{Log: l, Tokens: testTokens(f), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, authz, cookie, file string) {
		tk, err := ParseTokens(strings.NewReader(file))
		if err != nil {
			return
		}
		s.cfg.Tokens = tk
		probe := httptest.NewRequest("GET", "/v1/stats", nil)
		probe.Header.Set("Authorization", authz)
		probe.Header.Set("Cookie", SessionCookie+"="+cookie)
		cred := credential(probe)
		role, known := tk.Role(cred)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, probe)
		in := rec.Code != 401 && rec.Code != 403
		if in != (known && (role == RoleRead || role == RoleAdmin)) {
			t.Fatalf("authz %q cookie %q: %d (credential %q known %v role %q)", authz, cookie, rec.Code, cred, known, role)
		}
		if !in && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%d without JSON", rec.Code)
		}
	})
}
