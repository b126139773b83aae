package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// chunkWriter records the size of the largest single write.
type chunkWriter struct {
	buf     bytes.Buffer
	largest int
	writes  int
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.writes++
	w.largest = max(w.largest, len(p))
	return w.buf.Write(p)
}

// TestLargeAnswersAreStreamed writes a table of 100,000 rows in every
// format: the output is written in pieces of at most 64 KiB as rows are
// encoded (never built whole), and the JSON reads back as the same table.
func TestLargeAnswersAreStreamed(t *testing.T) {
	tab := &Table{Name: "big", AsOfSeq: 7, Columns: []string{"bucket", "customer_id", "count", "avg_severity"}}
	for i := 0; i < 100_000; i++ {
		var avg any = float64(i%5) + 0.25
		if i%7 == 0 {
			avg = nil
		}
		tab.Rows = append(tab.Rows, []any{"2026-10-03", fmt.Sprintf("C-%06d", i), int64(i), avg})
	}
	for _, f := range []string{FormatJSON, FormatCSV, FormatTable} {
		var w chunkWriter
		if err := WriteTable(&w, tab, f); err != nil {
			t.Fatal(err)
		}
		if w.buf.Len() < 2<<20 || w.largest > 64<<10 || w.writes < w.buf.Len()/(64<<10) {
			t.Fatalf("%s: %d bytes in %d writes, the largest %d", f, w.buf.Len(), w.writes, w.largest)
		}
		if f != FormatJSON {
			continue
		}
		var back Table
		dec := json.NewDecoder(&w.buf)
		dec.UseNumber()
		if err := dec.Decode(&back); err != nil {
			t.Fatal(err)
		}
		if back.Name != tab.Name || back.AsOfSeq != 7 || !reflect.DeepEqual(back.Columns, tab.Columns) || len(back.Rows) != len(tab.Rows) ||
			fmt.Sprint(back.Rows[99_999]) != "[2026-10-03 C-099999 99999 4.25]" || back.Rows[7][3] != nil {
			t.Fatalf("read back %s %d %v %d rows, last %v", back.Name, back.AsOfSeq, back.Columns, len(back.Rows), back.Rows[len(back.Rows)-1])
		}
	}
	// A trend answer of many rows is streamed too, and not kept rendered.
	r := &TrendResult{TrendHeader: TrendHeader{By: []Dimension{DimCategory}, Bucket: "day", Buckets: []BucketTotal{}}}
	for i := 0; i < maxRenderedRows+1; i++ {
		r.Rows = append(r.Rows, TrendRow{Bucket: "2026-10-03", Key: map[string]string{"category": fmt.Sprint(i)}, Count: int64(i)})
	}
	var w chunkWriter
	if err := r.Write(&w, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var back TrendResult
	if err := json.Unmarshal(w.buf.Bytes(), &back); err != nil || len(back.Rows) != len(r.Rows) || back.Bucket != "day" || w.largest > 64<<10 {
		t.Fatalf("%v: %d rows, largest write %d", err, len(back.Rows), w.largest)
	}
	if r.rendered != nil {
		t.Fatal("a large trend answer was kept rendered")
	}
}
