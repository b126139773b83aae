package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// getJSON decodes the answer of a GET of u, which must be 200 OK, into v.
func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(getText(t, u)), v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// getText returns the body of a GET of u, which must be 200 OK.
func getText(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v\n%s", u, resp.StatusCode, err, b)
	}
	return string(b)
}
