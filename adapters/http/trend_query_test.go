package http

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
)

// TestParseTrendQuery reads URL parameters into the typed query the engine
// takes, and refuses what the engine would not answer with the field at
// fault.
func TestParseTrendQuery(t *testing.T) {
	v, _ := url.ParseQuery("bucket=quarter&from=2025-Q1&where=segment=Enterprise,SMB&where=severity=4&as_of=42&alpha=0.01")
	q, err := ParseTrendQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	want := projections.TrendQuery{By: []projections.Dimension{projections.DimCategory}, Bucket: domain.BucketQuarter, From: "2025-Q1",
		Where: map[projections.Dimension][]string{projections.DimSegment: {"enterprise", "smb"}, projections.DimSeverity: {"4"}},
		AsOf:  projections.AsOf{Seq: 42}, Alpha: 0.01}
	if !reflect.DeepEqual(q, want) {
		t.Fatalf("parsed %+v\nwant %+v", q, want)
	}
	for params, wantErr := range map[string]string{
		"by=category,category":  "by: category is listed twice",
		"by=colour":             "colour",
		"bucket=fortnight":      "fortnight",
		"where=segment":         `where: "segment" must be dimension=value`,
		"where=colour=red":      `where: "colour=red"`,
		"alpha=1":               `alpha: "1" must be a number between 0 and 1`,
		"to=9999-12":            "to: 9999-12 is after 2261-12",
		"as_of=yesterday":       "as_of",
		"by=segment&from=2025x": "from",
	} {
		v, _ := url.ParseQuery(params)
		_, err := ParseTrendQuery(v)
		if domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %v, want an EINVALID error with %q", params, err, wantErr)
		}
	}
}
