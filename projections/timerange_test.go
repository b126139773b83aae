package projections

import (
	"context"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
)

// TestTimesBeyondWhatPlaintRepresents: periods and times past the int64
// nanosecond range (1677-2262) are refused with an error that says why, and
// the edges just inside it answer.
func TestTimesBeyondWhatPlaintRepresents(t *testing.T) {
	l, e := openRandomEngine(t, 5, 200)
	ctx := context.Background()
	// query is the trend by category a question asks, checked.
	type question struct{ bucket, from, to, asOf string }
	query := func(c question) (TrendQuery, error) {
		b, err := domain.ParseBucket(c.bucket)
		if err != nil {
			return TrendQuery{}, err
		}
		asOf, err := ParseAsOf(c.asOf)
		if err != nil {
			return TrendQuery{}, err
		}
		q := TrendQuery{By: []Dimension{DimCategory}, Bucket: b, From: c.from, To: c.to, AsOf: asOf}
		return q, q.Validate()
	}
	for _, c := range []struct {
		q   question
		err string
	}{
		{question{from: "1990-01", to: "9999-12"}, "to: 9999-12 is after 2261-12, the last month plaint can represent"},
		{question{to: "2262-01"}, "to: 2262-01 is after 2261-12"},
		{question{bucket: "quarter", to: "2262-Q1"}, "to: 2262-Q1 is after 2261-Q4"},
		{question{bucket: "day", to: "2262-01-01"}, "to: 2262-01-01 is after 2261-12-31"},
		{question{bucket: "week", to: "2262-W01"}, "to: 2262-W01 is after 2261-W52"},
		{question{from: "1679-12", to: "1680-06"}, "from: 1679-12 is before 1680-01, the first month plaint can represent"},
		{question{from: "0001-01"}, "from: 0001-01 is before 1680-01"},
		{question{asOf: "9999-12-31T00:00:00Z"}, "as_of: 9999-12-31T00:00:00Z is after 2261-12-31, the latest time plaint can represent"},
		{question{asOf: "1600-01-01T00:00:00Z"}, "as_of: 1600-01-01T00:00:00Z is before 1680-01-01"},
		{question{asOf: "2262-02"}, "as_of: 2262-02 is after 2261-12-31"},
	} {
		_, err := query(c.q)
		if err == nil || domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%+v: %v, want %q", c.q, err, c.err)
		}
	}
	for _, c := range []question{{to: "2261-12"}, {bucket: "quarter", to: "2261-Q4"}, {bucket: "day", to: "2261-12-31"}, {bucket: "week", to: "2261-W52"},
		{from: "1680-01", to: "1680-12"}, {bucket: "day", from: "1680-01-01", to: "1680-01-31"}, {asOf: "2261-12-31T23:59:59Z"}, {asOf: "1680-01-01T00:00:00Z"}} {
		q, err := query(c)
		if err != nil {
			t.Errorf("%+v: %v", c, err)
			continue
		}
		r, err := e.Trends(ctx, q)
		if err != nil {
			t.Errorf("%+v: %v", c, err)
			continue
		}
		if q.To != "" && r.To != q.To {
			t.Errorf("%+v: answered to %s", c, r.To)
		}
		switch {
		case strings.HasPrefix(c.asOf, "2261"):
			if r.AsOfSeq != l.LastSeq() || len(r.Rows) == 0 {
				t.Errorf("%+v: as of %d with %d rows, want everything (%d)", c, r.AsOfSeq, len(r.Rows), l.LastSeq())
			}
		case strings.HasPrefix(c.asOf, "1680"):
			if r.AsOfSeq != 0 {
				t.Errorf("%+v: as of %d, want 0", c, r.AsOfSeq)
			}
		}
	}
	for _, c := range []struct{ src, err string }{
		{"name: x\nfilter:\n  to: 9999-01-01\n", "filter.to: line 3: 9999-01-01 is after 2261-12-31"},
		{"name: x\nfilter:\n  from: 1066-10-14T09:00:00Z\n", "filter.from: line 3: 1066-10-14T09:00:00Z is before 1680-01-01"},
	} {
		if _, err := ParseSpec([]byte(c.src)); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: %v, want %q", c.src, err, c.err)
		}
	}
	if _, err := ParseSpec([]byte("name: x\nfilter:\n  to: 2261-12-31\n")); err != nil {
		t.Error(err)
	}
}
