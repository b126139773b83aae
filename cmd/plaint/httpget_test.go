package main

import (
	"encoding/json"
	"testing"

	"github.com/plaint/plaint/internal/testutil"
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
	resp, b := testutil.Get(t, u)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}
