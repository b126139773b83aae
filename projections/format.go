package projections

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaint/plaint/domain"
)

// The output formats of trends and projection tables.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// CheckFormat returns an EINVALID error unless f is table, csv or json.
func CheckFormat(f string) error {
	switch f {
	case FormatTable, FormatCSV, FormatJSON:
		return nil
	}
	return domain.FieldErrorf("format", "%q is not one of table, csv, json", f)
}

// WriteTrend writes r in the given format.
func WriteTrend(w io.Writer, r *TrendResult, format string) error {
	switch format {
	case FormatCSV:
		return WriteTrendCSV(w, r)
	case FormatJSON:
		return writeRowsJSON(w, r.TrendHeader, len(r.Rows), func(i int) any { return r.Rows[i] })
	}
	return WriteTrendTable(w, r)
}

// writeRowsJSON writes head (a JSON object) with a "rows" member holding n
// rows, each encoded as it is written: the answer is never built whole in
// memory. The layout is that of writeJSON: two-space indents, one row a
// line.
func writeRowsJSON(w io.Writer, head any, n int, row func(i int) any) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	h, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	h = bytes.TrimRight(bytes.TrimSuffix(bytes.TrimSpace(h), []byte("}")), " \n")
	bw.Write(h)
	if len(h) > 1 {
		bw.WriteString(",")
	}
	bw.WriteString("\n  \"rows\": [")
	for i := 0; i < n; i++ {
		b, err := json.Marshal(row(i))
		if err != nil {
			return fmt.Errorf("write json: %w", err)
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// TrendCSVHeader returns the CSV header of a trend by dims.
func TrendCSVHeader(dims []Dimension) []string {
	h := []string{"bucket"}
	for _, d := range dims {
		h = append(h, string(d))
	}
	return append(h, "count", "prev_count", "change", "pct_change", "yoy_count", "share", "p_value",
		"yoy_change", "yoy_pct_change", "active_customers", "rate_per_1000", "restated", "restated_at", "late_count",
		"prev_restated", "yoy_restated", "partial", "covered")
}

// WriteTrendCSV writes r in long format: one line per bucket and key. Absent
// figures are empty fields.
func WriteTrendCSV(w io.Writer, r *TrendResult) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TrendCSVHeader(r.By)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, row := range r.Rows {
		rec := []string{row.Bucket}
		for _, d := range r.By {
			rec = append(rec, row.Key[string(d)])
		}
		rec = append(rec, itoa(row.Count), itoa(row.PrevCount), optInt(row.Change), optFloat(row.PctChange),
			itoa(row.YoYCount), ftoa(row.Share), optFloat(row.PValue), optInt(row.YoYChange), optFloat(row.YoYPctChange),
			optInt(row.ActiveCustomers), optFloat(row.RatePer1000), strconv.FormatBool(row.Restated), row.RestatedAt, itoa(row.LateCount),
			strconv.FormatBool(row.PrevRestated), strconv.FormatBool(row.YoYRestated), strconv.FormatBool(row.Partial), ftoa(row.Covered))
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func itoa(v int64) string   { return strconv.FormatInt(v, 10) }
func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func optFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return ftoa(*v)
}

func optInt(v *int64) string {
	if v == nil {
		return ""
	}
	return itoa(*v)
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws counts as a line of block characters scaled to their
// maximum; a negative count (a bucket the data do not reach) is a space.
func sparkline(counts []float64) string {
	var hi float64
	for _, c := range counts {
		hi = max(hi, c)
	}
	var b strings.Builder
	for _, c := range counts {
		switch {
		case c < 0:
			b.WriteRune(' ')
		case hi > 0:
			b.WriteRune(sparks[int(c*float64(len(sparks)-1)/hi)])
		default:
			b.WriteRune(sparks[0])
		}
	}
	return b.String()
}

// sparkValue is what a row's bucket draws: its count, or for a partial
// bucket the count its rate would give over the whole bucket.
func sparkValue(r TrendRow) float64 {
	switch {
	case !r.Partial:
		return float64(r.Count)
	case r.Covered == 0:
		return -1
	}
	return float64(r.Count) / r.Covered
}

// changeOf returns a row's change, 0 when withheld.
func changeOf(r TrendRow) int64 {
	if r.Change == nil {
		return 0
	}
	return *r.Change
}

// overBucket names the comparison of a bucket with the one before.
func overBucket(bucket string) string {
	switch bucket {
	case "day":
		return "day-over-day"
	case "week":
		return "week-over-week"
	case "quarter":
		return "quarter-over-quarter"
	}
	return "month-over-month"
}

// WriteTrendTable writes r for people: one line per key with its last
// bucket's figures and a sparkline over the range, an arrow on significant
// moves, significant rises first (largest first), then the steady keys by
// count, then significant falls. A partial last bucket is starred and
// explained below the table.
func WriteTrendTable(w io.Writer, r *TrendResult) error {
	bw := bufio.NewWriter(w)
	byNames := make([]string, len(r.By))
	for i, d := range r.By {
		byNames[i] = string(d)
	}
	title := fmt.Sprintf("Complaints by %s per %s, %s to %s", strings.Join(byNames, ", "), r.Bucket, r.From, r.To)
	if len(r.Where) > 0 {
		var ws []string
		for _, d := range Dimensions {
			if v, ok := r.Where[string(d)]; ok {
				ws = append(ws, string(d)+"="+strings.Join(v, ","))
			}
		}
		title += " where " + strings.Join(ws, " and ")
	}
	if r.AsOfStream > 0 {
		fmt.Fprintf(bw, "%s (stream position %d)\n\n", title, r.AsOfStream)
	} else {
		fmt.Fprintf(bw, "%s (log position %d)\n\n", title, r.AsOfSeq)
	}
	last := r.To
	type line struct {
		key   []string
		spark string
		row   TrendRow
		group int
	}
	counts := map[string][]float64{}
	lastRow := map[string]TrendRow{}
	var order []string
	keyOf := func(row TrendRow) string {
		var parts []string
		for _, d := range r.By {
			parts = append(parts, row.Key[string(d)])
		}
		return strings.Join(parts, "\x00")
	}
	for _, row := range r.Rows {
		k := keyOf(row)
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		counts[k] = append(counts[k], sparkValue(row))
		if row.Bucket == last {
			lastRow[k] = row
		}
	}
	var lines []line
	for _, k := range order {
		row := lastRow[k]
		l := line{key: strings.Split(k, "\x00"), spark: sparkline(counts[k]), row: row, group: 1}
		switch {
		case row.Significant && changeOf(row) > 0:
			l.group = 0
		case row.Significant && changeOf(row) < 0:
			l.group = 2
		}
		lines = append(lines, l)
	}
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.group != b.group {
			return a.group < b.group
		}
		switch a.group {
		case 0:
			if changeOf(a.row) != changeOf(b.row) {
				return changeOf(a.row) > changeOf(b.row)
			}
		case 1:
			if a.row.Count != b.row.Count {
				return a.row.Count > b.row.Count
			}
		case 2:
			if changeOf(a.row) != changeOf(b.row) {
				return changeOf(a.row) < changeOf(b.row)
			}
		}
		return lessStrings(a.key, b.key)
	})
	var lastTotal BucketTotal
	for _, bt := range r.Buckets {
		if bt.Bucket == last {
			lastTotal = bt
		}
	}
	lastLabel := last
	if lastTotal.Partial {
		lastLabel += "*"
	}
	header := append(append([]string{}, byNames...), "trend", lastLabel, "prev", "change", "%", "yoy", "share", "per 1k", "p", "")
	rows := [][]string{header}
	for _, l := range lines {
		arrow := ""
		switch l.group {
		case 0:
			arrow = "▲"
		case 2:
			arrow = "▼"
		}
		pctS := "-"
		if l.row.PctChange != nil {
			pctS = fmt.Sprintf("%+.1f%%", *l.row.PctChange)
		}
		rate := "-"
		if l.row.RatePer1000 != nil {
			rate = fmt.Sprintf("%.2f", *l.row.RatePer1000)
		}
		changeS, pS := "-", "-"
		if l.row.Change != nil {
			changeS = fmt.Sprintf("%+d", *l.row.Change)
		}
		if l.row.PValue != nil {
			pS = formatP(*l.row.PValue)
		}
		cells := append(append([]string{}, l.key...), l.spark, itoa(l.row.Count), itoa(l.row.PrevCount),
			changeS, pctS, itoa(l.row.YoYCount), fmt.Sprintf("%.1f%%", l.row.Share*100),
			rate, pS, arrow)
		rows = append(rows, cells)
	}
	widths := make([]int, len(header))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	nk := len(byNames)
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i <= nk || i == len(row)-1 { // keys and sparkline left, numbers right
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(bw, strings.TrimRight(b.String(), " "))
	}
	if len(lines) == 0 {
		fmt.Fprintln(bw, "(no complaints in this range)")
	}
	var restated []string
	latest := ""
	for _, bt := range r.Buckets {
		if bt.Restated {
			restated = append(restated, bt.Bucket)
			latest = max(latest, bt.RestatedAt)
		}
	}
	fmt.Fprintf(bw, "\n▲/▼: %s change significant at p < %g (exact conditional test of two Poisson counts, bucket lengths as exposures).\n",
		overBucket(r.Bucket), r.Alpha)
	if lastTotal.Partial {
		span := dataSpan(r.DataFrom, r.DataTo)
		if lastTotal.Covered == 0 {
			fmt.Fprintf(bw, "* %s: the data (%s) do not reach it; no change or p-value.\n", last, span)
		} else {
			fmt.Fprintf(bw, "* %s is partial: the data (%s) cover %.0f%% of it; its change, %% and p compare it with the %s before scaled to the same time.\n",
				last, span, lastTotal.Covered*100, r.Bucket)
		}
	}
	if len(restated) > 0 {
		if t, err := time.Parse(time.RFC3339Nano, latest); err == nil {
			latest = t.Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(bw, "Restated by late events: %s (latest %s).\n", strings.Join(restated, ", "), latest)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// dataSpan describes the span of time the data cover, [from, to).
func dataSpan(from, to string) string {
	f, err1 := time.Parse(time.RFC3339Nano, from)
	t, err2 := time.Parse(time.RFC3339Nano, to)
	if err1 != nil || err2 != nil {
		return from + " to " + to
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return f.Format("2006-01-02") + " through " + t.AddDate(0, 0, -1).Format("2006-01-02")
	}
	return f.Format("2006-01-02") + " until " + t.Format("2006-01-02 15:04 UTC")
}

func formatP(p float64) string {
	if p < 0.0001 {
		return "<0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

// WriteTable writes a projection table in the given format.
func WriteTable(w io.Writer, t *Table, format string) error {
	switch format {
	case FormatJSON:
		head := struct {
			Name    string   `json:"name"`
			AsOfSeq uint64   `json:"as_of_seq"`
			Columns []string `json:"columns"`
		}{t.Name, t.AsOfSeq, t.Columns}
		return writeRowsJSON(w, head, len(t.Rows), func(i int) any { return t.Rows[i] })
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Columns); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
		for _, row := range t.Rows {
			if err := cw.Write(cellStrings(row)); err != nil {
				return fmt.Errorf("write csv: %w", err)
			}
		}
		cw.Flush()
		return cw.Error()
	}
	// Two passes over the rows, for the column widths: the cells are
	// rendered twice rather than all held at once.
	widths := make([]int, len(t.Columns))
	measure := func(cells []string) {
		for i, c := range cells {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	measure(t.Columns)
	for _, row := range t.Rows {
		measure(cellStrings(row))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(widths) {
				b.WriteString(strings.Repeat(" ", max(0, widths[i]-utf8.RuneCountInString(c))))
			}
		}
		fmt.Fprintln(bw, strings.TrimRight(b.String(), " "))
	}
	line(t.Columns)
	for _, row := range t.Rows {
		line(cellStrings(row))
	}
	return bw.Flush()
}

// cellStrings renders one table row; JSON-decoded numbers (float64) print
// as integers when whole.
func cellStrings(row []any) []string {
	out := make([]string, len(row))
	for i, v := range row {
		switch x := v.(type) {
		case nil:
			out[i] = ""
		case string:
			out[i] = x
		case int64:
			out[i] = itoa(x)
		case float64:
			out[i] = ftoa(x)
		case json.Number:
			out[i] = x.String()
		default:
			out[i] = fmt.Sprint(x)
		}
	}
	return out
}
