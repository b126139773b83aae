package http

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/customers"
)

// answerFormat returns the format an answer is asked in, one of allowed:
// the format parameter, else csv when the Accept header asks for text/csv
// (and csv is allowed), else def.
func answerFormat(r *http.Request, def string, allowed ...string) (string, error) {
	f := r.URL.Query().Get("format")
	if f == "" {
		f = def
		if slices.Contains(allowed, projections.FormatCSV) && acceptsCSV(r.Header.Get("Accept")) {
			f = projections.FormatCSV
		}
	}
	return f, customers.CheckFormat(f, allowed...)
}

// acceptsCSV reports whether an Accept header names text/csv (with a
// quality above 0).
func acceptsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "text/csv" {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
				continue
			}
		}
		return true
	}
	return false
}

// csvNumber formats x for a CSV cell: its shortest decimal, empty when it
// is not a number (NaN, ±Inf: undefined, as JSON's null).
func csvNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// writeObjectsCSV writes rows, a JSON-encodable list of objects, as CSV
// with columns: each row's JSON field of each column's name, strings as
// they are, other values as their JSON, absent ones empty.
func writeObjectsCSV(w http.ResponseWriter, rows any, columns []string) error {
	b, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("csv rows: %w", err)
	}
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(b, &objs); err != nil {
		return fmt.Errorf("csv rows are not a list of objects: %w", err)
	}
	w.Header().Set("Content-Type", contentType(projections.FormatCSV))
	cw := csv.NewWriter(w)
	_ = cw.Write(columns)
	rec := make([]string, len(columns))
	for _, o := range objs {
		for i, c := range columns {
			rec[i] = ""
			var s string
			switch v := o[c]; {
			case v == nil || string(v) == "null":
			case json.Unmarshal(v, &s) == nil:
				rec[i] = s
			default:
				rec[i] = string(v)
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
