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
// rendering of the event decoded from it. It holds a copy of the event
// (kept on the stack) and scratch space.
type sentBuilder struct {
	b       []byte
	ev      Event
	buf     [256]byte
	timeBuf [40]byte
}

// buildAsSent returns the AsSent of ev, decoded from the payload s scanned:
// every member whose name and value the canonical rendering does not
// reproduce (JSON-equal, with numbers compared by their text), and an absent
// marker for every canonical member the payload lacks. The last of members
// with the same name wins, as it does for encoding/json.
func buildAsSent(ev *Event, s *scanner) AsSent {
	sb := sentBuilder{b: s.b, ev: *ev}
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
	for i := range env {
		m := &env[i]
		if superseded(s.b, env, i) {
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
		for i := range dat {
			m := &dat[i]
			if superseded(s.b, dat, i) {
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

// canonical returns the canonical JSON value of field f and whether it is a
// string (else JSON text); ok is false when the canonical rendering has no
// such member.
func (sb *sentBuilder) canonical(f int) (v string, str, ok bool) {
	ev, d := &sb.ev, &sb.ev.Data
	switch f {
	case fSpecVersion:
		return "1.0", true, true
	case fID:
		return ev.ID, true, true
	case fSource:
		return ev.Source, true, true
	case fType:
		return ev.Type.String(), true, true
	case fTime:
		return string(ev.Time.AppendFormat(sb.timeBuf[:0], time.RFC3339Nano)), true, true
	case fSubject:
		return ev.Subject, true, ev.Subject != ""
	case fContentType:
		return ev.ContentType, true, ev.ContentType != ""
	case fSchemaVersion:
		return strconv.Itoa(int(ev.Schema)), false, ev.Schema != CurrentSchema
	case fSeverity:
		return strconv.Itoa(int(d.Severity)), false, d.Severity != 0
	case fAmount:
		return d.Amount.Format(d.Currency), true, d.Currency != ""
	case fCost:
		return d.Cost.Format(d.Currency), true, d.HasCost && d.Currency != ""
	}
	var s string
	switch f {
	case fCustomerID:
		s = d.CustomerID
	case fCategory:
		s = d.Category
	case fSegment:
		s = d.Segment
	case fChannel:
		s = d.Channel
	case fRootCause:
		s = d.RootCause
	case fProduct:
		s = d.Product
	case fRegion:
		s = d.Region
	case fComplaintID:
		s = d.ComplaintID
	case fResolution:
		s = d.Resolution
	case fReason:
		s = d.Reason
	case fReferredID:
		s = d.ReferredID
	case fCompetitor:
		s = d.Competitor
	case fCurrency:
		s = d.Currency
	case fTopic:
		s = d.Topic
	case fDetail:
		s = d.Detail
	}
	return s, true, s != ""
}

// rendered reports whether the canonical rendering has field f.
func (sb *sentBuilder) rendered(f int) bool {
	if f == fTime || f == fAmount || f == fCost {
		// Skip formatting: presence only.
		d := &sb.ev.Data
		switch f {
		case fAmount:
			return d.Currency != ""
		case fCost:
			return d.HasCost && d.Currency != ""
		}
		return true
	}
	_, _, ok := sb.canonical(f)
	return ok
}

// equal reports whether raw, a member's JSON value, is JSON-equal to the
// canonical value of field f.
func (sb *sentBuilder) equal(f int, raw []byte) bool {
	if f == fTime {
		t := append(sb.ev.Time.AppendFormat(append(sb.timeBuf[:0], '"'), time.RFC3339Nano), '"')
		if bytes.Equal(raw, t) {
			return true
		}
		if len(raw) < 2 || raw[0] != '"' || bytes.IndexByte(raw, '\\') < 0 {
			return false
		}
		return bytes.Equal(decodeString(sb.buf[:0], raw[1:len(raw)-1], true), t[1:len(t)-1])
	}
	v, str, ok := sb.canonical(f)
	if !ok {
		return false
	}
	if !str {
		return string(raw) == v
	}
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in) == v
	}
	return string(decodeString(sb.buf[:0], in, true)) == v
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
