package domain

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// Member is one member of an event's JSON object as the producer sent it:
// an extension attribute, a data field plaint does not know, or the as-sent
// form of a known field whose text differs from the canonical one.
type Member struct {
	// Data is true for a member of the data object, false for one of the
	// envelope.
	Data bool
	// Name is the member's name as sent, escapes decoded.
	Name string
	// Raw is the member's value as compact JSON text (whitespace outside
	// strings removed; strings and numbers exactly as sent). It is "" for a
	// member that the canonical rendering has but the producer did not send
	// (a defaulted currency, a content type that was absent, a key that only
	// matched a known field by case folding).
	Raw string
}

// Absent reports whether m marks a canonical member the producer did not send.
func (m Member) Absent() bool { return m.Raw == "" }

// AsSent holds what an event carried beyond its canonical fields: the
// members that the canonical rendering (Event.MarshalJSON without AsSent)
// does not reproduce exactly. Rendering an event lays these members over the
// canonical ones, by level and name, so that the output is JSON-equal to
// what was sent. A typical event has none, and the zero AsSent is empty.
//
// It is a value (comparable, immutable); build one with NewAsSent. Members
// are kept sorted by level (envelope first) and name, one per name.
type AsSent struct{ enc string }

// Len returns the number of members.
func (a AsSent) Len() int {
	n := 0
	for range a.All() {
		n++
	}
	return n
}

// IsZero reports whether a holds no member.
func (a AsSent) IsZero() bool { return a.enc == "" }

// All iterates over the members in order: envelope members by name, then
// data members by name.
func (a AsSent) All() iter.Seq[Member] {
	return func(yield func(Member) bool) {
		s := a.enc
		for len(s) > 0 {
			var m Member
			m, s = nextMember(s)
			if !yield(m) {
				return
			}
		}
	}
}

// Get returns the raw value of the member of the given level and name, and
// whether there is one (an absent marker is returned with ok true and raw "").
func (a AsSent) Get(data bool, name string) (raw string, ok bool) {
	for m := range a.All() {
		if m.Data == data && m.Name == name {
			return m.Raw, true
		}
	}
	return "", false
}

// nextMember decodes the member at the start of s. The encoding is, per
// member: a flag byte (bit 0: data, bit 1: present), uvarint name length,
// name, and when present uvarint raw length, raw.
func nextMember(s string) (Member, string) {
	flags := s[0]
	s = s[1:]
	n, k := uvarintString(s)
	m := Member{Data: flags&1 != 0, Name: s[k : k+n]}
	s = s[k+n:]
	if flags&2 != 0 {
		n, k = uvarintString(s)
		m.Raw = s[k : k+n]
		s = s[k+n:]
	}
	return m, s
}

func uvarintString(s string) (int, int) {
	var v uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int(v), i + 1
		}
		shift += 7
	}
	return 0, 0
}

// appendMember appends the encoding of m to dst.
func appendMember(dst []byte, data bool, name string, raw []byte, present bool) []byte {
	var flags byte
	if data {
		flags |= 1
	}
	if present {
		flags |= 2
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	dst = append(dst, name...)
	if present {
		dst = binary.AppendUvarint(dst, uint64(len(raw)))
		dst = append(dst, raw...)
	}
	return dst
}

// memberLess orders members by level (envelope first), then name.
func memberLess(aData bool, aName string, bData bool, bName string) int {
	if aData != bData {
		if bData {
			return -1
		}
		return 1
	}
	return strings.Compare(aName, bName)
}

// NewAsSent returns the AsSent holding members. A later member with the same
// level and name replaces an earlier one. Each Raw must be valid JSON (it is
// compacted) or "" for an absent marker; a name must not be empty.
func NewAsSent(members ...Member) (AsSent, error) {
	ms := make([]Member, 0, len(members))
	for _, m := range members {
		if m.Name == "" {
			return AsSent{}, fmt.Errorf("as-sent member without a name")
		}
		if m.Raw != "" {
			if !json.Valid([]byte(m.Raw)) {
				return AsSent{}, fmt.Errorf("as-sent member %q: value is not valid JSON", m.Name)
			}
			var buf bytes.Buffer
			_ = json.Compact(&buf, []byte(m.Raw))
			m.Raw = buf.String()
		}
		if i := slices.IndexFunc(ms, func(x Member) bool { return x.Data == m.Data && x.Name == m.Name }); i >= 0 {
			ms[i] = m
			continue
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b Member) int { return memberLess(a.Data, a.Name, b.Data, b.Name) })
	var enc []byte
	for _, m := range ms {
		enc = appendMember(enc, m.Data, m.Name, []byte(m.Raw), m.Raw != "")
	}
	return AsSent{enc: string(enc)}, nil
}

// AsSentBuilder builds an AsSent from members that arrive already in order
// and compact, as the event store's decoder reads them. The zero value is
// ready to use.
type AsSentBuilder struct{ enc []byte }

// Add appends a member; raw nil or empty marks it absent.
func (b *AsSentBuilder) Add(data bool, name string, raw []byte) {
	b.enc = appendMember(b.enc, data, name, raw, len(raw) > 0)
}

// AsSent returns what was added.
func (b *AsSentBuilder) AsSent() AsSent { return AsSent{enc: string(b.enc)} }

// String lists the members, for messages and tests: level.name=raw, with
// "(absent)" for absent markers.
func (a AsSent) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for m := range a.All() {
		if b.Len() > 1 {
			b.WriteByte(' ')
		}
		if m.Data {
			b.WriteString("data.")
		}
		b.WriteString(m.Name)
		b.WriteByte('=')
		if m.Absent() {
			b.WriteString("(absent)")
		} else {
			b.WriteString(m.Raw)
		}
	}
	b.WriteByte(']')
	return b.String()
}
