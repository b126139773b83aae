package domain

import (
	"bytes"
	"slices"
	"strconv"
	"time"
)

// ReservedAttributes are the attributes plaint adds when it prints stored
// events (log tail, GET /v1/events). They are plaint's, not the producer's:
// an event that carries them (a re-published export) is stored without
// them, and gets the new log's own when printed.
var ReservedAttributes = []string{"plaintseq", "plaintrecordtime"}

// sentEntry is one member of the AsSent being built.
type sentEntry struct {
	data    bool
	name    string
	raw     []byte // compact; nil for an absent marker
	present bool
}

// sentBuilder compares the members of a scanned payload with the canonical
// rendering of the event decoded from it: the canonical value of each field
// is computed once (str tells a JSON string from JSON text; set whether the
// rendering has the member at all), time and money lazily.
type sentBuilder struct {
	b       []byte
	ev      *Event
	vals    [numFields]string
	str     [numFields]bool
	set     [numFields]bool
	timeBuf [40]byte
}

// load computes the canonical values.
func (sb *sentBuilder) load() {
	ev, d := sb.ev, &sb.ev.Data
	put := func(f int, v string, str, set bool) { sb.vals[f], sb.str[f], sb.set[f] = v, str, set }
	put(fSpecVersion, "1.0", true, true)
	put(fID, ev.ID, true, true)
	put(fSource, ev.Source, true, true)
	put(fType, ev.Type.String(), true, true)
	put(fTime, "", true, true) // formatted when compared
	put(fSubject, ev.Subject, true, ev.Subject != "")
	put(fContentType, ev.ContentType, true, ev.ContentType != "")
	if ev.Schema != CurrentSchema {
		put(fSchemaVersion, strconv.Itoa(int(ev.Schema)), false, true)
	}
	if d.Severity != 0 {
		put(fSeverity, strconv.Itoa(int(d.Severity)), false, true)
	}
	put(fAmount, "", true, d.Currency != "") // formatted when compared
	put(fCost, "", true, d.HasCost && d.Currency != "")
	for _, f := range [...]struct {
		f int
		v string
	}{
		{fCustomerID, d.CustomerID}, {fCategory, d.Category}, {fSegment, d.Segment}, {fChannel, d.Channel},
		{fRootCause, d.RootCause}, {fProduct, d.Product}, {fRegion, d.Region}, {fComplaintID, d.ComplaintID},
		{fResolution, d.Resolution}, {fReason, d.Reason}, {fReferredID, d.ReferredID}, {fCompetitor, d.Competitor},
		{fCurrency, d.Currency}, {fTopic, d.Topic}, {fDetail, d.Detail},
	} {
		put(f.f, f.v, true, f.v != "")
	}
}

// buildAsSent returns the AsSent of ev, decoded from the payload s scanned:
// every member whose name and value the canonical rendering does not
// reproduce (JSON-equal, with numbers compared by their text), and an absent
// marker for every canonical member the payload lacks. The last of members
// with the same name wins, as it does for encoding/json.
func buildAsSent(ev *Event, s *scanner) AsSent {
	sb := sentBuilder{b: s.b, ev: ev}
	sb.load()
	var entries []sentEntry
	add := func(data bool, name string, raw []byte) {
		entries = append(entries, sentEntry{data: data, name: name, raw: appendCompact(nil, raw), present: true})
	}
	absent := func(data bool, name string) {
		entries = append(entries, sentEntry{data: data, name: name})
	}
	var seen [numFields]bool
	seenData := false
	dataDiff := false
	env := s.env.all()
	var last [numFields]bool // a later member had exactly this field's name
	for i := len(env) - 1; i >= 0; i-- {
		m := &env[i]
		if s.irregular && isSuperseded(s.b, env, i, &last) {
			continue
		}
		name, exact := sb.name(m)
		switch {
		case m.field == fData:
			if exact {
				seenData = true
			}
			if exact && i == s.dataMember {
				dataDiff = true
				continue
			}
		case m.field >= 0 && exact:
			seen[m.field] = true
			if sb.equal(int(m.field), s.b[m.vs:m.ve]) {
				continue
			}
		case m.field == fUnknown && slices.Contains(ReservedAttributes, name):
			continue
		}
		add(false, name, s.b[m.vs:m.ve])
	}
	for f := fSpecVersion; f <= fSchemaVersion; f++ {
		if !seen[f] && sb.rendered(f) {
			absent(false, fieldNames[f])
		}
	}
	if !seenData {
		absent(false, "data")
	}
	if dataDiff {
		seen = [numFields]bool{}
		dat := s.dat.all()
		last = [numFields]bool{}
		for i := len(dat) - 1; i >= 0; i-- {
			m := &dat[i]
			if s.irregular && isSuperseded(s.b, dat, i, &last) {
				continue
			}
			name, exact := sb.name(m)
			if m.field >= 0 && exact {
				seen[m.field] = true
				if sb.equal(int(m.field), s.b[m.vs:m.ve]) {
					continue
				}
			}
			add(true, name, s.b[m.vs:m.ve])
		}
		for f := fCustomerID; f < numFields; f++ {
			if !seen[f] && sb.rendered(f) {
				absent(true, fieldNames[f])
			}
		}
	}
	if len(entries) == 0 {
		return AsSent{}
	}
	slices.SortFunc(entries, func(a, b sentEntry) int { return memberLess(a.data, a.name, b.data, b.name) })
	var enc []byte
	for _, e := range entries {
		enc = appendMember(enc, e.data, e.name, e.raw, e.present)
	}
	return AsSent{enc: string(enc)}
}

// isSuperseded reports whether a later member of ms has the same name as
// ms[i], scanning from the end: last records the fields whose exact name a
// later member had, so that the typical event needs no name comparison.
func isSuperseded(b []byte, ms []memberRef, i int, last *[numFields]bool) bool {
	m := &ms[i]
	if m.exact && m.field >= 0 {
		if last[m.field] {
			return true
		}
		last[m.field] = true
		return false
	}
	return superseded(b, ms, i)
}

// superseded reports whether a later member of ms has the same name as ms[i].
// Members with the same name have the same field (they matched alike).
func superseded(b []byte, ms []memberRef, i int) bool {
	m := &ms[i]
	for j := i + 1; j < len(ms); j++ {
		o := &ms[j]
		if o.field != m.field {
			continue
		}
		if !m.kesc && !o.kesc {
			if bytes.Equal(b[m.ks:m.ke], b[o.ks:o.ke]) {
				return true
			}
			continue
		}
		if bytes.Equal(decodeString(nil, b[m.ks:m.ke], m.kesc), decodeString(nil, b[o.ks:o.ke], o.kesc)) {
			return true
		}
	}
	return false
}

// name returns a member's decoded name and whether it is exactly the name
// of the field it matched.
func (sb *sentBuilder) name(m *memberRef) (string, bool) {
	if m.exact {
		if m.field == fData {
			return "data", true
		}
		return fieldNames[m.field], true
	}
	if m.field == fData && !m.kesc {
		return string(sb.b[m.ks:m.ke]), false
	}
	name := string(decodeString(nil, sb.b[m.ks:m.ke], m.kesc))
	switch {
	case m.field == fData:
		return name, name == "data"
	case m.field >= 0:
		return name, name == fieldNames[m.field]
	}
	return name, false
}

// rendered reports whether the canonical rendering has field f.
func (sb *sentBuilder) rendered(f int) bool { return sb.set[f] }

// equal reports whether raw, a member's JSON value, is JSON-equal to the
// canonical value of field f.
func (sb *sentBuilder) equal(f int, raw []byte) bool {
	if !sb.set[f] {
		return false
	}
	v := sb.vals[f]
	switch f {
	case fTime:
		t := append(sb.ev.Time.AppendFormat(append(sb.timeBuf[:0], '"'), time.RFC3339Nano), '"')
		if bytes.Equal(raw, t) {
			return true
		}
		v = string(t[1 : len(t)-1])
	case fAmount:
		v = sb.ev.Data.Amount.Format(sb.ev.Data.Currency)
	case fCost:
		v = sb.ev.Data.Cost.Format(sb.ev.Data.Currency)
	}
	if !sb.str[f] {
		return string(raw) == v
	}
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in) == v
	}
	return string(decodeString(nil, in, true)) == v
}

// appendCompact appends the JSON value raw without whitespace outside
// strings, as json.Compact does.
func appendCompact(dst, raw []byte) []byte {
	in := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if in {
			dst = append(dst, c)
			switch c {
			case '\\':
				i++
				dst = append(dst, raw[i])
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			in = true
		}
		dst = append(dst, c)
	}
	return dst
}

// canonicalAsSent reports, cheaply, that the payload of a typical event is
// exactly its canonical rendering, so that it has no as-sent members: every
// member a known field under its exact name, none repeated or null, every
// value already canonical, every canonical member present. It returns false
// when unsure (amounts, schema versions, anything irregular), leaving the
// answer to the full comparison.
func canonicalAsSent(ev *Event, s *scanner, w *wireEvent) bool {
	if s.irregular || s.dataMember < 0 || s.data != dataObject || w.HasSchemaVersion ||
		w.Data.Amount != "" || w.Data.Cost != "" || w.Data.Currency != "" {
		return false
	}
	n := 0
	for f := range s.spans {
		if s.spans[f].set {
			n++
		}
	}
	if n != s.env.len()-1+s.dat.len() { // a null member has no span
		return false
	}
	d, wd := &ev.Data, &w.Data
	same := func(f int, canon, sent string) bool { return s.spans[f].set == (canon != "") && canon == sent }
	if !same(fSubject, ev.Subject, w.Subject) || !same(fContentType, ev.ContentType, w.ContentType) ||
		!same(fCustomerID, d.CustomerID, wd.CustomerID) || !same(fCategory, d.Category, wd.Category) ||
		!same(fSegment, d.Segment, wd.Segment) || !same(fChannel, d.Channel, wd.Channel) ||
		!same(fRootCause, d.RootCause, wd.RootCause) || !same(fProduct, d.Product, wd.Product) ||
		!same(fRegion, d.Region, wd.Region) || !same(fComplaintID, d.ComplaintID, wd.ComplaintID) ||
		!same(fResolution, d.Resolution, wd.Resolution) || !same(fReason, d.Reason, wd.Reason) ||
		!same(fReferredID, d.ReferredID, wd.ReferredID) || !same(fCompetitor, d.Competitor, wd.Competitor) ||
		!same(fTopic, d.Topic, wd.Topic) || !same(fDetail, d.Detail, wd.Detail) {
		return false
	}
	if d.Severity != 0 {
		if len(wd.Severity) != 1 || wd.Severity[0] != '0'+d.Severity {
			return false
		}
	} else if s.spans[fSeverity].set {
		return false
	}
	// A whole-second UTC time in RFC 3339 is its own canonical form.
	if t := w.Time; len(t) == 20 && t[10] == 'T' && t[19] == 'Z' {
		return true
	}
	var tb [40]byte
	return string(ev.Time.AppendFormat(tb[:0], time.RFC3339Nano)) == w.Time
}
