package projections

import (
	"context"
	"testing"

	"github.com/plaint/plaint/domain"
)

// TestAsOfAStreamPosition parses as_of=stream:N, refuses a bad one, and
// answers not found on a log that holds no stream positions (events not
// stored from the stream) instead of some other point of it.
func TestAsOfAStreamPosition(t *testing.T) {
	if a, err := ParseAsOf("stream:120000"); err != nil || a.Stream != 120000 || a.IsZero() {
		t.Fatalf("stream:120000 = %+v, %v", a, err)
	}
	for _, bad := range []string{"stream:", "stream:0", "stream:-3", "stream:x"} {
		if _, err := ParseAsOf(bad); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
	_, e := openRandomEngine(t, 3, 200)
	_, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory}, AsOf: AsOf{Stream: 10}})
	if domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("as of a stream position on a log without any: %v, want not found", err)
	}
}
