// Package csv imports events from CSV files: a Mapping says which column
// becomes which event field, how dates are written, how values are
// normalised and what to do with rows that do not make a valid event.
package csv

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	_ "time/tzdata" // mappings name IANA zones; do not depend on the host's tz database

	"gopkg.in/yaml.v3"

	"github.com/plaint/plaint/domain"

	"github.com/plaint/plaint/internal/problems"
)

// What to do with a row that does not make a valid event.
const (
	OnErrorSkip = "skip" // report it and go on
	OnErrorFail = "fail" // stop the import with an error naming the row
)

// What to do with a row that has fewer fields than the header.
const (
	RaggedPad    = "pad"    // read the missing trailing fields as empty
	RaggedReject = "reject" // reject the row
)

// What to do with a value a FieldSpec's Map has no entry for.
const (
	UnmappedKeep    = "keep"    // use the value as it is
	UnmappedDefault = "default" // use the Default
	UnmappedReject  = "reject"  // reject the row
)

// Mapping describes how the rows of a CSV file become events. It is read
// from YAML or JSON with the same field names.
type Mapping struct {
	// Type is the event type of every row. Default complaint.filed.
	Type string `yaml:"type" json:"type"`
	// ID gives the event id; required (usually a column with a unique key).
	ID FieldSpec `yaml:"id" json:"id"`
	// Source gives the event source: a constant Value or a Column.
	Source FieldSpec `yaml:"source" json:"source"`
	// Time gives the event time.
	Time TimeSpec `yaml:"time" json:"time"`
	// Subject gives the CloudEvents subject. Default: the customer id.
	Subject *FieldSpec `yaml:"subject" json:"subject"`
	// Fields maps event data fields (customer_id, category, segment,
	// channel, root_cause, product, region, severity, complaint_id,
	// resolution, reason, referred_customer_id, amount, currency, topic,
	// detail) to how each is filled.
	Fields map[string]*FieldSpec `yaml:"fields" json:"fields"`
	// Delimiter separates columns. Default ",".
	Delimiter string `yaml:"delimiter" json:"delimiter"`
	// LazyQuotes accepts quotes inside unquoted fields, as some exports
	// write them; otherwise such a row is rejected.
	LazyQuotes bool `yaml:"lazy_quotes" json:"lazy_quotes"`
	// OnError is "skip" (default) or "fail".
	OnError string `yaml:"on_error" json:"on_error"`
	// MaxRejected is how many rejected rows an import may have and still
	// succeed: a count (`10`; 0 allows none) or a share of the rows read
	// (`"2%"`; `"100%"` allows any). Past a count the import stops at once;
	// a share is checked when the file is read. Default 1% under skip,
	// none under fail (which stops at the first rejected row anyway).
	MaxRejected *RejectLimit `yaml:"max_rejected" json:"max_rejected"`
	// Ragged is what to do with a row that has fewer fields than the header:
	// "pad" (default) reads the missing trailing fields as empty, as
	// spreadsheets and pandas do; "reject" rejects the row. A row with more
	// fields than the header is always rejected.
	Ragged string `yaml:"ragged" json:"ragged"`

	typ domain.Type
	loc *time.Location
}

// FieldSpec says how one field is filled from a row.
type FieldSpec struct {
	// Column names the CSV header column to read. Exclusive with Value.
	Column string `yaml:"column" json:"column"`
	// Value is a constant. Exclusive with Column.
	Value string `yaml:"value" json:"value"`
	// Map replaces values read from Column (matched after trimming spaces,
	// exactly first, then ignoring case).
	Map map[string]string `yaml:"map" json:"map"`
	// Unmapped is what to do with a value Map has no entry for: "keep"
	// (default), "default" or "reject".
	Unmapped string `yaml:"unmapped" json:"unmapped"`
	// Default is used when the column is empty (or unmapped, see Unmapped).
	Default string `yaml:"default" json:"default"`
	// Prefix is put before a non-empty value, e.g. "cfpb-".
	Prefix string `yaml:"prefix" json:"prefix"`
	// Required rejects rows where the field ends up empty.
	Required bool `yaml:"required" json:"required"`
	// Truncate shortens slug values longer than domain.MaxSlugLen instead of
	// rejecting the row.
	Truncate bool `yaml:"truncate" json:"truncate"`
}

// TimeSpec says how the event time is read.
type TimeSpec struct {
	// Column names the column holding the time. Required.
	Column string `yaml:"column" json:"column"`
	// Layout is a Go time layout, e.g. "02-01-2006" for DD-MM-YYYY.
	// Default RFC 3339.
	Layout string `yaml:"layout" json:"layout"`
	// Location is the IANA time zone of times without an offset. Default UTC.
	Location string `yaml:"location" json:"location"`
}

// dataFields lists the data fields a mapping may fill and whether each is a
// normalised slug.
var dataFields = map[string]bool{
	"customer_id": false, "category": true, "segment": true, "channel": true, "root_cause": true,
	"product": true, "region": true, "severity": false, "complaint_id": false, "resolution": true,
	"reason": true, "referred_customer_id": false, "amount": false, "currency": false, "topic": false,
	"detail": false,
}

// LoadMapping reads a mapping file: YAML for .yaml and .yml, JSON for .json.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mapping: %w", err)
	}
	format := "yaml"
	if strings.EqualFold(filepath.Ext(path), ".json") {
		format = "json"
	}
	m, err := ParseMapping(data, format)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	return m, nil
}

// ParseMapping decodes a mapping in format "yaml" or "json", rejecting
// unknown keys, applies the defaults and validates it.
func ParseMapping(data []byte, format string) (*Mapping, error) {
	var m Mapping
	switch format {
	case "yaml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%w: invalid YAML: %s", ErrMapping, unknownKeys(err.Error()))
		}
	case "json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%w: invalid JSON: %s", ErrMapping, unknownKeys(err.Error()))
		}
	default:
		return nil, fmt.Errorf("%w: unknown format %q (yaml or json)", ErrMapping, format)
	}
	m.setDefaults()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// yamlUnknown and jsonUnknown match the decoders' unknown-key errors, which
// name Go types (csv.Mapping, csv.FieldSpec) a mapping's author never sees.
var (
	yamlUnknown = regexp.MustCompile(`field (\S+) not found in type \S+`)
	jsonUnknown = regexp.MustCompile(`json: unknown field "([^"]*)"`)
)

// unknownKeys rewrites the decoders' unknown-key errors to name the key.
func unknownKeys(msg string) string {
	msg = yamlUnknown.ReplaceAllString(msg, `unknown key "$1"`)
	return jsonUnknown.ReplaceAllString(msg, `unknown key "$1"`)
}

func (m *Mapping) setDefaults() {
	m.Type = cmp.Or(m.Type, domain.TypeComplaintFiled.String())
	if m.Time.Layout == "" {
		m.Time.Layout = time.RFC3339
	}
	m.Delimiter = cmp.Or(m.Delimiter, ",")
	m.OnError = cmp.Or(m.OnError, OnErrorSkip)
	m.Ragged = cmp.Or(m.Ragged, RaggedPad)
	if m.MaxRejected == nil {
		m.MaxRejected = m.rejectLimit()
	}
	for _, f := range m.specs() {
		if f.spec.Unmapped == "" {
			f.spec.Unmapped = UnmappedKeep
		}
	}
}

// rejectLimit returns MaxRejected, or its default: 1% under skip, none
// under fail.
func (m *Mapping) rejectLimit() *RejectLimit {
	switch {
	case m.MaxRejected != nil:
		return m.MaxRejected
	case m.OnError == OnErrorFail:
		return &RejectLimit{}
	}
	return &RejectLimit{Percent: 1, IsShare: true}
}

type namedSpec struct {
	name string
	spec *FieldSpec
}

// specs returns every FieldSpec of the mapping with its name, in a fixed
// order. A field listed without a spec gets an empty one.
func (m *Mapping) specs() []namedSpec {
	out := []namedSpec{{"id", &m.ID}, {"source", &m.Source}}
	if m.Subject != nil {
		out = append(out, namedSpec{"subject", m.Subject})
	}
	for _, n := range slices.Sorted(maps.Keys(m.Fields)) {
		if m.Fields[n] == nil {
			m.Fields[n] = &FieldSpec{}
		}
		out = append(out, namedSpec{"fields." + n, m.Fields[n]})
	}
	return out
}

// Validate returns ErrMapping with every problem with the mapping, joined,
// each naming the key at fault, or nil.
func (m *Mapping) Validate() error {
	var errs []error
	m.typ = domain.ParseType(m.Type)
	if !m.typ.Valid() || m.typ.IsReserved() {
		errs = append(errs, fmt.Errorf("type: unknown event type %q", m.Type))
	}
	if m.ID.Column == "" && m.ID.Value == "" {
		errs = append(errs, errors.New("id: a column is required (each row needs its own id)"))
	}
	if m.ID.Value != "" {
		errs = append(errs, errors.New("id: must be a column, not a constant value (every row would get the same id)"))
	}
	if m.Source.Column == "" && m.Source.Value == "" {
		errs = append(errs, errors.New("source: a column or a constant value is required"))
	}
	if m.Time.Column == "" {
		errs = append(errs, errors.New("time.column: is required"))
	}
	if !strings.Contains(m.Time.Layout, "2006") && !strings.Contains(m.Time.Layout, "06") {
		errs = append(errs, fmt.Errorf("time.layout: %q has no year (Go layouts use the reference time 2006-01-02 15:04:05, e.g. 02-01-2006)", m.Time.Layout))
	}
	m.loc = time.UTC
	if m.Time.Location != "" {
		loc, err := time.LoadLocation(m.Time.Location)
		if err != nil {
			errs = append(errs, fmt.Errorf("time.location: %w", err))
		} else {
			m.loc = loc
		}
	}
	specs := m.specs()
	for _, f := range specs[2:] {
		n, ok := strings.CutPrefix(f.name, "fields.")
		if !ok {
			continue
		}
		if _, ok := dataFields[n]; !ok {
			errs = append(errs, fmt.Errorf("fields.%s: unknown field (known: %s)", n, strings.Join(knownFields(), ", ")))
		}
	}
	if m.typ.Valid() {
		for _, n := range requiredFields(m.typ) {
			if _, ok := m.Fields[n]; !ok {
				errs = append(errs, fmt.Errorf("fields.%s: is required for %s events", n, m.typ))
			}
		}
	}
	for _, f := range specs {
		errs = append(errs, f.spec.validate(f.name)...)
	}
	if len([]rune(m.Delimiter)) != 1 || m.Delimiter == "\"" || m.Delimiter == "\n" || m.Delimiter == "\r" {
		errs = append(errs, fmt.Errorf("delimiter: %q must be one character other than a quote or line break", m.Delimiter))
	}
	if m.OnError != OnErrorSkip && m.OnError != OnErrorFail {
		errs = append(errs, fmt.Errorf("on_error: %q must be %q or %q", m.OnError, OnErrorSkip, OnErrorFail))
	}
	if m.Ragged != RaggedPad && m.Ragged != RaggedReject {
		errs = append(errs, fmt.Errorf("ragged: %q must be %q or %q", m.Ragged, RaggedPad, RaggedReject))
	}
	if m.MaxRejected != nil {
		if err := m.MaxRejected.validate(); err != nil {
			errs = append(errs, fmt.Errorf("max_rejected: %w", err))
		}
	}
	return problems.Join(ErrMapping, errs)
}

func (f *FieldSpec) validate(name string) []error {
	var errs []error
	switch {
	case f.Column != "" && f.Value != "":
		errs = append(errs, fmt.Errorf("%s: column and value are exclusive", name))
	case f.Column == "" && f.Value == "" && f.Default == "":
		errs = append(errs, fmt.Errorf("%s: needs a column or a value", name))
	}
	if f.Value != "" && len(f.Map) > 0 {
		errs = append(errs, fmt.Errorf("%s: map applies to a column, not to a constant value", name))
	}
	switch f.Unmapped {
	case "", UnmappedKeep, UnmappedReject:
	case UnmappedDefault:
		if f.Default == "" {
			errs = append(errs, fmt.Errorf("%s: unmapped: default needs a default", name))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: unmapped: %q must be keep, default or reject", name, f.Unmapped))
	}
	if f.Unmapped != "" && f.Unmapped != UnmappedKeep && len(f.Map) == 0 {
		errs = append(errs, fmt.Errorf("%s: unmapped: %q needs a map", name, f.Unmapped))
	}
	return errs
}

func knownFields() []string {
	return slices.Sorted(maps.Keys(dataFields))
}

// requiredFields lists the data fields events of type t must have.
func requiredFields(t domain.Type) []string {
	switch t {
	case domain.TypeComplaintFiled:
		return []string{"customer_id", "category"}
	case domain.TypeComplaintResolved:
		return []string{"customer_id", "complaint_id"}
	case domain.TypeCustomerAcquired:
		return []string{"customer_id", "segment"}
	case domain.TypeReferralMade:
		return []string{"customer_id", "referred_customer_id"}
	case domain.TypeRevenueRecorded:
		return []string{"customer_id", "amount"}
	}
	return []string{"customer_id"}
}
