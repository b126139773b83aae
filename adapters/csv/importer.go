package csv

import (
	"context"
	stdcsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaint/plaint/domain"
)

// Rejection describes a row that did not make a valid event. Reason never
// quotes columns the mapping does not read (such as free-text narratives).
type Rejection struct {
	Row    int    // data row number, 1 for the first row after the header
	Line   int    // line of the file where the row starts
	Field  string // the event field at fault, when known
	Reason string
}

// String renders the rejection for a report.
func (r Rejection) String() string {
	if r.Field != "" {
		return fmt.Sprintf("line %d (row %d): %s: %s", r.Line, r.Row, r.Field, r.Reason)
	}
	return fmt.Sprintf("line %d (row %d): %s", r.Line, r.Row, r.Reason)
}

// Summary counts the rows of an import.
type Summary struct {
	Rows     int // data rows read
	Accepted int // rows that became events
	Rejected int // rows reported as rejected
}

// RowError is returned when a row is rejected and the mapping says fail, or
// when more rows were rejected than the mapping's max_rejected allows.
type RowError struct {
	Rejection Rejection // the last rejected row
	Limit     bool      // MaxRejected was exceeded
	// Rejected, Rows and MaxRejected say by how much, when Limit is set.
	Rejected, Rows int
	MaxRejected    string
}

// Error names the row and the reason.
func (e *RowError) Error() string {
	if e.Limit {
		return fmt.Sprintf("csv: %d of %d rows rejected, more than max_rejected (%s) allows; the last: %s",
			e.Rejected, e.Rows, e.MaxRejected, e.Rejection)
	}
	return fmt.Sprintf("csv: %s", e.Rejection)
}

// Import reads CSV rows with a header from r and turns each into an event as
// m says, calling emit with each valid one and reject with each row that is
// not. emit may reject an event with an EINVALID *domain.Error (for example
// when it checks it the way the server will): its row is then rejected like
// any other. Import stops at any other error emit returns, at a rejected row
// when m says fail, once more rows were rejected than a count MaxRejected
// allows, and when ctx ends; a MaxRejected share is checked at the end.
func Import(ctx context.Context, r io.Reader, m *Mapping, emit func(*domain.Event) error, reject func(Rejection)) (Summary, error) {
	var sum Summary
	cr := stdcsv.NewReader(r)
	cr.Comma, _ = utf8.DecodeRuneInString(m.Delimiter)
	cr.ReuseRecord = true
	cr.LazyQuotes = m.LazyQuotes
	header, err := cr.Read()
	if err != nil {
		return sum, fmt.Errorf("csv: read header: %w", err)
	}
	cols := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		cols[h] = i
	}
	rm, err := m.bind(cols, header)
	if err != nil {
		return sum, err
	}
	// Rows shorter than the header are padded (or rejected) below, with
	// the counts in the message.
	cr.FieldsPerRecord = -1
	want := len(header)
	padded := make([]string, want)
	limit := m.rejectLimit()
	var last *Rejection // the last rejected row
	for {
		if sum.Rows%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return sum, fmt.Errorf("csv: %w", err)
			}
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			if last != nil && !limit.allows(sum.Rejected, sum.Rows) {
				return sum, &RowError{Rejection: *last, Limit: true, Rejected: sum.Rejected, Rows: sum.Rows, MaxRejected: limit.String()}
			}
			return sum, nil
		}
		sum.Rows++
		line, _ := cr.FieldPos(0)
		var rej *Rejection
		var ev domain.Event
		if err != nil {
			var pe *stdcsv.ParseError
			if !errors.As(err, &pe) {
				return sum, fmt.Errorf("csv: read row %d: %w", sum.Rows, err)
			}
			rej = &Rejection{Reason: pe.Err.Error()}
			line = pe.StartLine
		} else if len(rec) != want && (len(rec) > want || m.Ragged != RaggedPad) {
			rej = &Rejection{Reason: fmt.Sprintf("expected %d fields, got %d", want, len(rec))}
		} else {
			if len(rec) < want {
				// Trailing fields left out: read them as empty.
				n := copy(padded, rec)
				clear(padded[n:])
				rec = padded
			}
			ev, rej = rm.event(rec)
			if rej == nil {
				if err := emit(&ev); err != nil {
					var de *domain.Error
					if !errors.As(err, &de) || de.Code != domain.EINVALID {
						return sum, err
					}
					rej = &Rejection{Field: de.Field, Reason: de.Message}
				}
			}
		}
		if rej != nil {
			rej.Row, rej.Line = sum.Rows, line
			sum.Rejected++
			last = rej
			if reject != nil {
				reject(*rej)
			}
			if m.OnError == OnErrorFail {
				return sum, &RowError{Rejection: *rej}
			}
			if !limit.share() && !limit.allows(sum.Rejected, sum.Rows) {
				return sum, &RowError{Rejection: *rej, Limit: true, Rejected: sum.Rejected, Rows: sum.Rows, MaxRejected: limit.String()}
			}
			continue
		}
		sum.Accepted++
	}
}

// boundSpec is a FieldSpec with its column resolved to an index.
type boundSpec struct {
	name string
	spec *FieldSpec
	col  int // -1 for a constant
	fold map[string]string
}

// rowMapper turns records into events.
type rowMapper struct {
	m       *Mapping
	id      boundSpec
	source  boundSpec
	subject *boundSpec
	timeCol int
	fields  []boundSpec
}

// bind resolves the mapping's columns against the header.
func (m *Mapping) bind(cols map[string]int, header []string) (*rowMapper, error) {
	var errs []error
	bindOne := func(name string, f *FieldSpec) boundSpec {
		b := boundSpec{name: name, spec: f, col: -1}
		if f.Column != "" {
			i, ok := cols[f.Column]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: column %q is not in the CSV header (columns: %s)", name, f.Column, strings.Join(header, ", ")))
			}
			b.col = i
		}
		if len(f.Map) > 0 {
			b.fold = make(map[string]string, len(f.Map))
			for k, v := range f.Map {
				b.fold[strings.ToLower(strings.TrimSpace(k))] = v
			}
		}
		return b
	}
	rm := &rowMapper{m: m, id: bindOne("id", &m.ID), source: bindOne("source", &m.Source)}
	if m.Subject != nil {
		b := bindOne("subject", m.Subject)
		rm.subject = &b
	}
	t, ok := cols[m.Time.Column]
	if !ok {
		errs = append(errs, fmt.Errorf("time.column: column %q is not in the CSV header (columns: %s)", m.Time.Column, strings.Join(header, ", ")))
	}
	rm.timeCol = t
	for _, f := range m.specs()[2:] {
		if n, ok := strings.CutPrefix(f.name, "fields."); ok {
			b := bindOne(n, f.spec)
			rm.fields = append(rm.fields, b)
		}
	}
	// Fill currency before amount so the amount parses in its currency.
	slices.SortStableFunc(rm.fields, func(a, b boundSpec) int {
		return boolInt(b.name == "currency") - boolInt(a.name == "currency")
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: it does not fit the file: %w", ErrMapping, errors.Join(errs...))
	}
	return rm, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// value computes a field's value for a record.
func (b *boundSpec) value(rec []string) (string, *Rejection) {
	f := b.spec
	v := f.Value
	if b.col >= 0 {
		v = strings.TrimSpace(rec[b.col])
		if v != "" && b.fold != nil {
			if mv, ok := f.Map[v]; ok {
				v = mv
			} else if mv, ok := b.fold[strings.ToLower(v)]; ok {
				v = mv
			} else {
				switch f.Unmapped {
				case UnmappedDefault:
					v = f.Default
				case UnmappedReject:
					return "", &Rejection{Field: b.name, Reason: fmt.Sprintf("value %s of column %q has no entry in the map", quote(v), f.Column)}
				}
			}
		}
	}
	if v == "" {
		v = f.Default
	}
	if v != "" {
		v = f.Prefix + v
	}
	if v == "" && f.Required {
		return "", &Rejection{Field: b.name, Reason: fmt.Sprintf("column %q is empty and the field is required", f.Column)}
	}
	return v, nil
}

// quote renders a value for a rejection reason, cut short.
func quote(v string) string {
	if len(v) > 40 {
		cut := 40
		for !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut] + "…"
	}
	return strconv.Quote(v)
}

// event builds and validates the event of one record.
func (rm *rowMapper) event(rec []string) (domain.Event, *Rejection) {
	ev := domain.Event{Type: rm.m.typ, Schema: domain.CurrentSchema}
	var rej *Rejection
	if ev.ID, rej = rm.id.value(rec); rej != nil {
		return ev, rej
	}
	if ev.ID == "" {
		return ev, &Rejection{Field: "id", Reason: fmt.Sprintf("column %q is empty", rm.m.ID.Column)}
	}
	if ev.Source, rej = rm.source.value(rec); rej != nil {
		return ev, rej
	}
	if ev.Source == "" {
		return ev, &Rejection{Field: "source", Reason: fmt.Sprintf("column %q is empty", rm.m.Source.Column)}
	}
	raw := strings.TrimSpace(rec[rm.timeCol])
	if raw == "" {
		return ev, &Rejection{Field: "time", Reason: fmt.Sprintf("column %q is empty", rm.m.Time.Column)}
	}
	t, err := time.ParseInLocation(rm.m.Time.Layout, raw, rm.m.loc)
	if err != nil {
		return ev, &Rejection{Field: "time", Reason: fmt.Sprintf("%s does not match the layout %q", quote(raw), rm.m.Time.Layout)}
	}
	ev.Time = t.UTC()
	if ev.Time.Before(domain.EarliestEventTime) {
		return ev, &Rejection{Field: "time", Reason: fmt.Sprintf("%s is before %s", ev.Time.Format(time.RFC3339), domain.EarliestEventTime.Format("2006-01-02"))}
	}
	for i := range rm.fields {
		b := &rm.fields[i]
		v, rej := b.value(rec)
		if rej != nil {
			return ev, rej
		}
		if v == "" {
			continue
		}
		if rej := setField(&ev.Data, b, v); rej != nil {
			return ev, rej
		}
	}
	if rm.subject != nil {
		if ev.Subject, rej = rm.subject.value(rec); rej != nil {
			return ev, rej
		}
	} else {
		ev.Subject = ev.Data.CustomerID
	}
	for _, s := range []struct{ field, v string }{{"id", ev.ID}, {"source", ev.Source}, {"subject", ev.Subject}} {
		if len(s.v) > domain.MaxIDLen {
			return ev, &Rejection{Field: s.field, Reason: fmt.Sprintf("is %d bytes, over the %d byte limit", len(s.v), domain.MaxIDLen)}
		}
	}
	if err := domain.Validate(&ev); err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return ev, &Rejection{Field: de.Field, Reason: de.Message}
		}
		return ev, &Rejection{Reason: err.Error()}
	}
	return ev, nil
}

// setField stores v in the data field b names, normalising slugs.
func setField(d *domain.Data, b *boundSpec, v string) *Rejection {
	field := "data." + b.name
	if dataFields[b.name] {
		s := domain.Slug(v)
		if s == "" {
			return &Rejection{Field: field, Reason: fmt.Sprintf("%s has no letters or digits", quote(v))}
		}
		if len(s) > domain.MaxSlugLen {
			if !b.spec.Truncate {
				return &Rejection{Field: field, Reason: fmt.Sprintf("%s is longer than %d characters as a slug (set truncate: true or map it)", quote(v), domain.MaxSlugLen)}
			}
			s = strings.TrimRight(s[:domain.MaxSlugLen], "-")
		}
		v = s
	}
	switch b.name {
	case "customer_id":
		d.CustomerID = v
	case "category":
		d.Category = v
	case "segment":
		d.Segment = v
	case "channel":
		d.Channel = v
	case "root_cause":
		d.RootCause = v
	case "product":
		d.Product = v
	case "region":
		d.Region = v
	case "resolution":
		d.Resolution = v
	case "reason":
		d.Reason = v
	case "complaint_id":
		d.ComplaintID = v
	case "referred_customer_id":
		d.ReferredID = v
	case "topic":
		d.Topic = v
	case "detail":
		d.Detail = v
	case "severity":
		sev, ok := domain.ParseSeverity(v)
		if !ok {
			return &Rejection{Field: field, Reason: fmt.Sprintf("%s is not an integer from 1 to 5", quote(v))}
		}
		d.Severity = sev
	case "currency":
		c := strings.ToUpper(v)
		if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return &Rejection{Field: field, Reason: fmt.Sprintf("%s is not an ISO 4217 code", quote(v))}
		}
		d.Currency = c
	case "amount":
		if d.Currency == "" {
			d.Currency = domain.DefaultCurrency
		}
		a, err := domain.ParseMoney(v, d.Currency)
		if err != nil {
			return &Rejection{Field: field, Reason: err.Error()}
		}
		d.Amount = a
	}
	return nil
}
