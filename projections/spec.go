package projections

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/plaint/plaint/domain"
)

// Spec declares an analyst's projection: which events count (Filter), how
// they are grouped (GroupBy and Bucket) and what is measured of each group.
type Spec struct {
	Name     string   `json:"name"`
	Version  int      `json:"version,omitempty"`
	Filter   Filter   `json:"filter"`
	GroupBy  []string `json:"group_by,omitempty"`
	Bucket   string   `json:"bucket"`
	Measures []string `json:"measures"`
}

// Filter selects events: by type, by field values (a field equals one of the
// listed values) and by event time (From inclusive, To exclusive).
type Filter struct {
	Types []string            `json:"types,omitempty"`
	Where map[string][]string `json:"where,omitempty"`
	From  string              `json:"from,omitempty"`
	To    string              `json:"to,omitempty"`
}

// Fields lists the fields plaint knows that a spec can filter, group by and
// measure. Any other name is a custom field: a data field plaint does not
// know, or else an extension attribute, read as the producer sent it.
var Fields = append(append([]string{}, envelopeFields...), domain.DataFields...)

// numericFields lists the known fields sum: and avg: accept; custom fields
// are checked against their values at query time.
var numericFields = []string{"amount", "cost", "severity"}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// fieldValue returns the known field name of ev as a string ("" when absent).
func fieldValue(ev *domain.Event, name string) string {
	d := &ev.Data
	switch name {
	case "type":
		return ev.Type.String()
	case "source":
		return ev.Source
	case "subject":
		return ev.Subject
	case "customer_id":
		return d.CustomerID
	case "category":
		return d.Category
	case "segment":
		return d.Segment
	case "channel":
		return d.Channel
	case "root_cause":
		return d.RootCause
	case "product":
		return d.Product
	case "region":
		return d.Region
	case "severity":
		return severityString(d.Severity)
	case "complaint_id":
		return d.ComplaintID
	case "resolution":
		return d.Resolution
	case "reason":
		return d.Reason
	case "referred_customer_id":
		return d.ReferredID
	case "competitor":
		return d.Competitor
	case "currency":
		return d.Currency
	case "amount":
		if d.Currency != "" {
			return d.Amount.Format(d.Currency)
		}
	case "cost":
		if d.HasCost {
			return d.Cost.Format(d.Currency)
		}
	case "topic":
		return d.Topic
	case "detail":
		return d.Detail
	}
	return ""
}

// checkFieldName checks a custom or known field name of a spec.
func checkFieldName(name string) error {
	if name == "" {
		return fmt.Errorf("a field name is empty")
	}
	if len(name) > domain.MaxFieldNameLen {
		return fmt.Errorf("a field name is %d bytes, over the %d byte limit", len(name), domain.MaxFieldNameLen)
	}
	return nil
}

// checkCarried rejects a known data field that none of the spec's types
// can ever carry: the measure, group or filter would be empty for ever.
func checkCarried(sp *Spec, field string) error {
	if !domain.IsDataField(field) || len(sp.Filter.Types) == 0 {
		return nil
	}
	for _, t := range sp.Filter.Types {
		if domain.ParseType(t).Carries(field) {
			return nil
		}
	}
	return fmt.Errorf("%s events never carry %s (it is a field of %s)",
		strings.Join(sp.Filter.Types, " and "), field, strings.Join(domain.TypesCarrying(field), ", "))
}

// ParseSpec reads a YAML or JSON spec. Any problem is an EINVALID
// *domain.Error naming the line and field; nothing partial is returned.
func ParseSpec(src []byte) (*Spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &domain.Error{Code: domain.EINVALID, Field: "spec", Message: yamlErrorMessage(err, src)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, domain.FieldErrorf("spec", "is empty")
	}
	p := specParser{}
	sp := p.spec(doc.Content[0])
	if p.err != nil {
		return nil, p.err
	}
	return sp, nil
}

// yamlParserProblems are the problems yaml.v3's parser (not its scanner)
// reports. For those it gives the 0-based line of the construct being
// parsed, or no line on the first: one line early.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

// yamlErrorMessage returns a YAML syntax error's message with the 1-based
// line it happened on.
func yamlErrorMessage(err error, src []byte) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if v, perr := strconv.Atoi(n); perr == nil {
				line, msg = v, after
			}
		}
	}
	if contains(yamlParserProblems, msg) {
		line++
		// At the end of the input, point at the last line that has text.
		if last := strings.Count(strings.TrimRight(string(src), " \t\r\n"), "\n") + 1; line > last {
			line = last
		}
	}
	if line == 0 {
		return msg
	}
	return fmt.Sprintf("line %d: %s", line, msg)
}

type specParser struct{ err *domain.Error }

func (p *specParser) fail(n *yaml.Node, field, format string, args ...any) {
	if p.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if n != nil {
		msg = fmt.Sprintf("line %d: %s", n.Line, msg)
	}
	p.err = domain.FieldErrorf(field, "%s", msg)
}

// mapping returns the key/value pairs of a mapping node, checking the keys.
func (p *specParser) mapping(n *yaml.Node, field string, known ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.fail(n, field, "must be a mapping")
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		ok := len(known) == 0
		for _, kn := range known {
			ok = ok || kn == name
		}
		sub := name
		if field != "" {
			sub = field + "." + name
		}
		if !ok {
			p.fail(k, sub, "unknown field %q (expected one of %s)", name, strings.Join(known, ", "))
			return nil
		}
		if _, dup := out[name]; dup {
			p.fail(k, sub, "appears twice")
			return nil
		}
		out[name] = v
	}
	return out
}

func (p *specParser) scalar(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode {
		p.fail(n, field, "must be a single value")
		return ""
	}
	return n.Value
}

// list accepts a sequence of scalars or a single scalar.
func (p *specParser) list(n *yaml.Node, field string) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, field, "must be a list")
		return nil
	}
	var out []string
	for i, c := range n.Content {
		out = append(out, p.scalar(c, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

func (p *specParser) spec(root *yaml.Node) *Spec {
	m := p.mapping(root, "", "name", "version", "filter", "group_by", "bucket", "measures")
	if p.err != nil {
		return nil
	}
	sp := &Spec{}
	if n, ok := m["name"]; ok {
		sp.Name = p.scalar(n, "name")
		if p.err == nil && !nameRE.MatchString(sp.Name) {
			p.fail(n, "name", "%q must be 1-64 lower case letters, digits, '.', '_' or '-'", sp.Name)
		}
	} else {
		p.fail(root, "name", "is required")
	}
	if n, ok := m["version"]; ok {
		if err := n.Decode(&sp.Version); err != nil || sp.Version < 0 {
			p.fail(n, "version", "must be a whole number >= 0")
		}
	}
	if n, ok := m["filter"]; ok {
		p.filter(n, &sp.Filter)
	}
	if n, ok := m["group_by"]; ok {
		for i, g := range p.list(n, "group_by") {
			if err := checkFieldName(g); err != nil {
				p.fail(n, fmt.Sprintf("group_by[%d]", i), "%v", err)
			} else if err := checkCarried(sp, g); err != nil {
				p.fail(n, fmt.Sprintf("group_by[%d]", i), "%v", err)
			}
			if contains(sp.GroupBy, g) {
				p.fail(n, fmt.Sprintf("group_by[%d]", i), "%q is listed twice", g)
			}
			sp.GroupBy = append(sp.GroupBy, g)
		}
	}
	if n, ok := m["bucket"]; ok {
		sp.Bucket = p.scalar(n, "bucket")
		if _, err := domain.ParseBucket(sp.Bucket); err != nil && p.err == nil {
			p.fail(n, "bucket", "%q is not one of day, week, month, quarter", sp.Bucket)
		}
	}
	if sp.Bucket == "" {
		sp.Bucket = "month"
	}
	if n, ok := m["measures"]; ok {
		for i, ms := range p.list(n, "measures") {
			_, field, _ := strings.Cut(ms, ":")
			if err := checkMeasure(ms); err != nil {
				p.fail(n, fmt.Sprintf("measures[%d]", i), "%v", err)
			} else if err := checkCarried(sp, field); err != nil {
				p.fail(n, fmt.Sprintf("measures[%d]", i), "%q: %v", ms, err)
			} else if isMoneyMeasure(ms) && !currencyPinned(sp) {
				p.fail(n, fmt.Sprintf("measures[%d]", i),
					"%s would add amounts in different currencies: add currency to group_by, or filter where currency: [EUR]", ms)
			}
			sp.Measures = append(sp.Measures, ms)
		}
	}
	if len(sp.Measures) == 0 {
		sp.Measures = []string{"count"}
	}
	return sp
}

func (p *specParser) filter(n *yaml.Node, f *Filter) {
	m := p.mapping(n, "filter", "types", "where", "from", "to")
	if p.err != nil {
		return
	}
	if t, ok := m["types"]; ok {
		for i, ts := range p.list(t, "filter.types") {
			if !domain.ParseType(ts).Valid() {
				p.fail(t, fmt.Sprintf("filter.types[%d]", i), "%q is not an event type", ts)
			}
			f.Types = append(f.Types, ts)
		}
	}
	if w, ok := m["where"]; ok {
		wm := p.mapping(w, "filter.where")
		f.Where = map[string][]string{}
		for i := 0; w.Kind == yaml.MappingNode && i+1 < len(w.Content); i += 2 {
			k := w.Content[i]
			if err := checkFieldName(k.Value); err != nil {
				p.fail(k, "filter.where", "%v", err)
			}
		}
		for k, v := range wm {
			f.Where[k] = p.list(v, "filter.where."+k)
		}
	}
	for _, k := range []string{"from", "to"} {
		if t, ok := m[k]; ok {
			s := p.scalar(t, "filter."+k)
			if _, err := parseTimeBound(s); err != nil && p.err == nil {
				p.fail(t, "filter."+k, "%v", err)
			}
			if k == "from" {
				f.From = s
			} else {
				f.To = s
			}
		}
	}
}

// currencyPinned reports whether every group of sp holds amounts of one
// currency: currency is a group_by field, or the filter allows one currency.
func currencyPinned(sp *Spec) bool {
	return contains(sp.GroupBy, "currency") || len(sp.Filter.Where["currency"]) == 1
}

// isMoneyMeasure reports whether m sums or averages money.
func isMoneyMeasure(m string) bool {
	kind, field, _ := strings.Cut(m, ":")
	return (kind == "sum" || kind == "avg") && contains(moneyFields, field)
}

func checkMeasure(m string) error {
	kind, field, hasField := strings.Cut(m, ":")
	switch kind {
	case "count":
		if hasField {
			return fmt.Errorf("count takes no field")
		}
		return nil
	case "sum", "avg":
		if err := checkFieldName(field); err != nil {
			return fmt.Errorf("%q: %v", m, err)
		}
		if isKnownField(field) && !contains(numericFields, field) {
			return fmt.Errorf("%q: %s needs a number, and %s is not one (known numeric fields: %s; a custom field is summed if its values are numbers)",
				m, kind, field, strings.Join(numericFields, ", "))
		}
		return nil
	case "distinct":
		if err := checkFieldName(field); err != nil {
			return fmt.Errorf("%q: %v", m, err)
		}
		return nil
	}
	return fmt.Errorf("%q is not a measure (count, sum:<field>, avg:<field>, distinct:<field>)", m)
}

// parseTimeBound parses a date bound: RFC 3339, a date, or a period label
// (its start).
func parseTimeBound(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p, perr := domain.ParsePeriod(domain.BucketDay, s)
		if perr != nil {
			return time.Time{}, fmt.Errorf("%q is not a time (use RFC 3339, 2026-10-03, 2026-10 or 2026-Q4)", s)
		}
		t = p.Start
	}
	if why := representable(t); why != "" {
		return time.Time{}, &rangeError{msg: fmt.Sprintf("%s %s", s, why)}
	}
	return t.UTC(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// canonical returns the spec as canonical JSON: two specs that mean the same
// have the same bytes. Changing it rebuilds the projection.
func (sp *Spec) canonical() []byte {
	b, _ := json.Marshal(sp)
	return b
}
