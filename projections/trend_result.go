package projections

import (
	"bytes"
	"io"
	"sync"
)

// TrendResult is the answer to a TrendQuery: one row per bucket and key, in
// bucket then key order, and the totals of each bucket.
type TrendResult struct {
	TrendHeader
	Rows []TrendRow `json:"rows"`

	mu       sync.Mutex
	rendered map[string][]byte // by format
}

// TrendHeader is what a TrendResult says besides its rows (its JSON form
// is inlined in the result's).
type TrendHeader struct {
	By     []Dimension         `json:"by"`
	Bucket string              `json:"bucket"`
	From   string              `json:"from"`
	To     string              `json:"to"`
	Where  map[string][]string `json:"where,omitempty"`
	// AsOfSeq is the log sequence the answer is as of (this node's; 0 in
	// an answer as of a stream position, which names AsOfStream instead,
	// the position asked for: every node that has stored that far gives
	// the same bytes).
	AsOfSeq    uint64  `json:"as_of_seq"`
	AsOfStream uint64  `json:"as_of_stream,omitempty"`
	Alpha      float64 `json:"alpha"`
	// DataFrom and DataTo are the span of time the events in the log cover
	// (absent when there are none): from the start of the UTC day of the
	// earliest event (of any type producers send: not plaint's own alerts
	// and erasures) to the end of the UTC day of the latest,
	// or to the moment the last event was stored (as of the answer) if that
	// is earlier, while that day is still going on. Buckets that reach
	// outside it are partial.
	DataFrom string        `json:"data_from,omitempty"`
	DataTo   string        `json:"data_to,omitempty"`
	Buckets  []BucketTotal `json:"buckets"`
}

// maxRenderedRows is the most rows of a result whose rendering is kept;
// larger results are written as they are encoded (see Write).
const maxRenderedRows = 5000

// Write writes r in the given format: from its kept rendering when it has
// one or is small enough to keep one, else encoded as it is written.
func (r *TrendResult) Write(w io.Writer, format string) error {
	if len(r.Rows) > maxRenderedRows {
		return WriteTrend(w, r, format)
	}
	b, err := r.Render(format)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Render returns r in the given format (see WriteTrend). A result is
// rendered once per format; the bytes are shared and must not be modified.
func (r *TrendResult) Render(format string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.rendered[format]; ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := WriteTrend(&buf, r, format); err != nil {
		return nil, err
	}
	if r.rendered == nil {
		r.rendered = map[string][]byte{}
	}
	r.rendered[format] = buf.Bytes()
	return buf.Bytes(), nil
}

// BucketTotal is the number of complaints in one bucket (after the where
// clause) and whether late complaints restated it.
type BucketTotal struct {
	Bucket     string `json:"bucket"`
	Total      int64  `json:"total"`
	Restated   bool   `json:"restated"`
	RestatedAt string `json:"restated_at,omitempty"`
	// Partial says the data cover only Covered (0 to 1) of the bucket's
	// time (see TrendResult.DataFrom).
	Partial bool    `json:"partial"`
	Covered float64 `json:"covered"`
}

// TrendRow holds the figures of one key in one bucket. Pointers are absent
// (null) when the figure is undefined or withheld: no percentage change from
// zero, no rate without a known active customer base, and no change or
// p-value against a bucket the data do not cover.
//
// When this bucket or the one it is compared with is partial (see
// BucketTotal.Partial), Change and PctChange compare this bucket's count with
// the other's scaled to the same length of covered time, and the p-value
// uses the covered lengths as exposures; when both are whole, Change is the
// plain difference of the counts.
type TrendRow struct {
	Bucket          string            `json:"bucket"`
	Key             map[string]string `json:"key"`
	Count           int64             `json:"count"`
	PrevCount       int64             `json:"prev_count"`
	Change          *int64            `json:"change"`
	PctChange       *float64          `json:"pct_change"`
	YoYCount        int64             `json:"yoy_count"`
	YoYChange       *int64            `json:"yoy_change"`
	YoYPctChange    *float64          `json:"yoy_pct_change"`
	Share           float64           `json:"share"`
	PValue          *float64          `json:"p_value"`
	Significant     bool              `json:"significant"`
	Partial         bool              `json:"partial"`
	Covered         float64           `json:"covered"`
	ActiveCustomers *int64            `json:"active_customers,omitempty"`
	RatePer1000     *float64          `json:"rate_per_1000,omitempty"`
	Restated        bool              `json:"restated"`
	RestatedAt      string            `json:"restated_at,omitempty"`
	LateCount       int64             `json:"late_count"`
	// PrevRestated and YoYRestated say that the bucket this row compares
	// with was restated by late events, which moved prev_count or yoy_count
	// (and so the change) although this bucket itself was not.
	PrevRestated bool `json:"prev_restated,omitempty"`
	YoYRestated  bool `json:"yoy_restated,omitempty"`
}
