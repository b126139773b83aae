package detect

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The files under testdata/ were written by testdata/reference.R with R's
// surveillance package; these helpers read them so that the tests compare
// against an independent implementation without needing R.

// readCSV returns the rows of testdata/name as maps from column to value.
func readCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("open reference table: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := make(map[string]string, len(r))
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// num parses a reference value; "NA" is NaN.
func num(t *testing.T, s string) float64 {
	t.Helper()
	if s == "NA" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// refSeries is one input series of series.csv.
type refSeries struct {
	kind   PeriodKind
	start  time.Time
	counts []float64
}

// loadSeries reads series.csv.
func loadSeries(t *testing.T) map[string]*refSeries {
	t.Helper()
	out := map[string]*refSeries{}
	for _, r := range readCSV(t, "series.csv") {
		s := out[r["series"]]
		if s == nil {
			d, err := time.Parse(time.DateOnly, r["date"])
			if err != nil {
				t.Fatal(err)
			}
			kind := Week
			if r["period"] == "month" {
				kind = Month
			}
			s = &refSeries{kind: kind, start: d}
			out[r["series"]] = s
		}
		s.counts = append(s.counts, num(t, r["count"]))
	}
	return out
}

// close reports whether got is within rel (relative) or abs of want; NaN
// matches NaN only.
func closeTo(got, want, rel, abs float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	d := math.Abs(got - want)
	return d <= abs || d <= rel*math.Abs(want)
}
