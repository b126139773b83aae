package testutil

import (
	"io"
	"net/http"
	"testing"
)

// Get sends a GET of url and returns the response and its body, read whole
// and closed, failing the test when the request or the read fails. It is
// not for answers that do not end (an event stream).
func Get(tb testing.TB, url string) (*http.Response, []byte) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, b
}
