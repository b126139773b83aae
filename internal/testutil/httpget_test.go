package testutil

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestGetReturnsTheStatusHeadersAndWholeBody: Get hands back an error
// status as it is, with the headers and the whole body, already closed.
func TestGetReturnsTheStatusHeadersAndWholeBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	}))
	defer srv.Close()
	resp, b := Get(t, srv.URL+"/pot")
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Path") != "/pot" || string(b) != "short and stout" {
		t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("X-Path"), b)
	}
	if n, err := resp.Body.Read(make([]byte, 1)); n != 0 || err == nil || err == io.EOF {
		t.Fatalf("the body is still open: %d %v", n, err)
	}
}
