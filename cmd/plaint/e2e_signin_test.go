//go:build e2e

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestE2ESignIn: a server with --tokens shows the dashboard a sign-in form;
// a wrong token is refused on the form, a read token signs in once (kept in
// an HttpOnly cookie that scripts cannot read, never in the URL) and the
// pages then load.
func TestE2ESignIn(t *testing.T) {
	const tok = "read-e2e-0123456789abcdef"
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("read "+tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, t.TempDir(), "--tokens", file)
	p := openBrowser(t, srv.http)
	for _, vp := range []viewport{desktop, phone} {
		p.viewport(vp)
		if s := p.open("#/", "signin"); s != "ready" {
			t.Fatalf("%s: the dashboard without a token: state %q", vp.name, s)
		}
		p.usable("#token", "#signin button")
		p.shot("signin-" + vp.name)
		p.do("a wrong token", chromedp.SendKeys("#token", "wrong-0123456789abcdef"), chromedp.Click("#signin button"))
		p.poll(`document.querySelector('#signin-error').innerText.includes('not one of the server')`, "the refusal")
		p.do("the right token", chromedp.Evaluate[chromedp.Void](`document.querySelector('#token').value = ''`), chromedp.SendKeys("#token", tok))
		if s := p.act("overview", chromedp.Click("#signin button")); s != "empty" {
			t.Fatalf("%s: overview after signing in: state %q", vp.name, s)
		}
		if c := eval[string](p, `document.cookie`); strings.Contains(c, tok) {
			t.Fatalf("a script can read the token: %q", c)
		}
		if u := eval[string](p, `location.href`); strings.Contains(u, tok) {
			t.Fatalf("the token is in the URL %s", u)
		}
		if s := p.open("#/review", "review"); s != "empty" {
			t.Fatalf("%s: review after signing in: %q", vp.name, s)
		}
		p.do("sign out", chromedp.Evaluate[chromedp.Void](`fetch('v1/session', {method: 'DELETE'}).then(() => {})`, chromedp.EvalAwaitPromise))
	}
	p.noErrors()
}
