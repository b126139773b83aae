package projections

import (
	"sort"
	"strings"

	"github.com/plaint/plaint/domain"
)

// tableOf renders any fold's state as a table named name, for `projection
// query` on every projection, built in or not.
func tableOf(f Fold, name string) (*Table, error) {
	if t, ok := f.(Tabler); ok {
		return t.Table(name)
	}
	return nil, domain.Errorf(domain.EINVALID, "%s has no table", name)
}

// Table says where the customers projection's answers are read: it holds
// every customer's history, which is no table.
func (f *customersFold) Table(name string) (*Table, error) {
	return nil, domain.Errorf(domain.EINVALID,
		"%s holds every customer's history; read it through plaint review, scorecard and linkage (GET /v1/review, /v1/scorecard, /v1/linkage)", name)
}

// Table renders the spec's table (its name is the spec's).
func (f *specFold) Table(string) (*Table, error) { return f.table() }

// Table renders a trend projection's cells: one row per bucket and key, in
// bucket then value order, with the complaints counted and how many of them
// came late (restating the bucket).
func (f *trendFold) Table(name string) (*Table, error) {
	t := &Table{Name: name, Columns: []string{"bucket"}}
	for _, d := range f.dims {
		t.Columns = append(t.Columns, string(d))
	}
	t.Columns = append(t.Columns, "count", "late_count", "restated_at")
	rows := make([]tableRow[*trendCell], 0, len(f.cells))
	for k, c := range f.cells {
		r := tableRow[*trendCell]{b: k.b, cell: c}
		for i := range f.dims {
			r.keys = append(r.keys, f.tab.Str(k.v[i]))
		}
		rows = append(rows, r)
	}
	sortTableRows(rows)
	t.Rows = make([][]any, 0, len(rows))
	for _, r := range rows {
		out := []any{periodAt(f.bucket, r.b).String()}
		for _, v := range r.keys {
			out = append(out, v)
		}
		var at any
		if r.cell.late > 0 {
			at = formatNanos(r.cell.restatedAt)
		}
		t.Rows = append(t.Rows, append(out, r.cell.count, r.cell.late, at))
	}
	return t, nil
}

// Table renders the active customer base: per month and segment, the
// customers acquired and those of them who defected.
func (f *baseFold) Table(name string) (*Table, error) {
	t := &Table{Name: name, Columns: []string{"bucket", "segment", "acquired", "defected"}}
	type key struct {
		b   int32
		seg string
	}
	acq, def := map[key]int64{}, map[key]int64{}
	for seg, days := range f.acq {
		for d, n := range days {
			acq[key{periodIndex(domain.BucketMonth, d*nsPerDay), f.tab.Str(seg)}] += n
		}
	}
	for seg, days := range f.def {
		for d, n := range days {
			def[key{periodIndex(domain.BucketMonth, d*nsPerDay), f.tab.Str(seg)}] += n
		}
	}
	keys := make([]key, 0, len(acq)+len(def))
	for k := range acq {
		keys = append(keys, k)
	}
	for k := range def {
		if _, ok := acq[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].b != keys[j].b {
			return keys[i].b < keys[j].b
		}
		return keys[i].seg < keys[j].seg
	})
	t.Rows = make([][]any, 0, len(keys))
	for _, k := range keys {
		t.Rows = append(t.Rows, []any{periodAt(domain.BucketMonth, k.b).String(), k.seg, acq[k], def[k]})
	}
	return t, nil
}

// parseTrendName returns the definition of the trend cache entry called
// name (builtin/trend/<bucket>/<dimension>[+<dimension>...]).
func parseTrendName(name string) (*Definition, bool) {
	rest, ok := strings.CutPrefix(name, "builtin/trend/")
	if !ok {
		return nil, false
	}
	bs, ds, ok := strings.Cut(rest, "/")
	if !ok {
		return nil, false
	}
	b, err := domain.ParseBucket(bs)
	if err != nil || bs != b.String() {
		return nil, false
	}
	var dims []Dimension
	for _, s := range strings.Split(ds, "+") {
		d, err := ParseDimension(s)
		if err != nil || string(d) != s || containsDim(dims, d) {
			return nil, false
		}
		dims = append(dims, d)
	}
	if len(dims) == 0 || len(dims) > maxKeyDims {
		return nil, false
	}
	canon, def := trendDefinition(dims, b)
	if canon != name {
		return nil, false
	}
	return def, true
}
