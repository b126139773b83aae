package domain

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the hand-written JSON scanner Decode uses for the fixed
// CloudEvents schema. It replicates what encoding/json did when it decoded
// into the structs the decoder used before (kept as refDecode in
// decode_reference_test.go), so that the accept/reject decisions do not
// change:
//
//   - the whole top-level value is checked against the JSON grammar (strings
//     and their escapes, numbers, literals, nesting up to maxNestingDepth),
//     including the values of unknown keys, which are skipped;
//   - object keys match field names exactly or, failing that, under Unicode
//     simple case folding (so "ID", "Id" and "ſource" with U+017F match too);
//   - the last of duplicate keys wins, and null leaves a string field as it
//     was, makes schemaversion absent and makes data or a raw field "null";
//   - a value of the wrong JSON type for a field makes the event bad_json; in
//     the data object that is reported (with Field "data") only after the
//     envelope has been validated, as the second json.Unmarshal did;
//   - schemaversion may also be a JSON string holding a valid JSON number, as
//     json.Number allows;
//   - severity and amount keep their raw JSON text, escapes and quotes
//     included, as json.RawMessage did;
//   - after the top-level value, only whitespace, the end of the payload or a
//     '}' or ']' may follow (json.Decoder.More reports false for those).
//
// It is stricter than encoding/json in four ways, and the reference applies
// the same rules: a top-level null is not an event (bad_json); a \u escape
// of a lone UTF-16 surrogate is rejected (invalid_utf8) instead of becoming
// U+FFFD; and names over MaxFieldNameLen bytes, more than MaxFields members
// in the envelope and data, or nesting deeper than MaxDepth levels are
// rejected (invalid_field). The last two kinds are reported only once the
// whole payload is known to be JSON, in that order.
//
// Every member of the envelope and of the data object is recorded (name and
// value span) so that the decoder can keep what the producer sent beyond the
// canonical fields (see AsSent).

// maxNestingDepth is the nesting limit of encoding/json's scanner; deeper
// input is a syntax error there, so it is one here too.
const maxNestingDepth = 10000

// Field indexes: the envelope's fields, then the fields of data.
const (
	fSpecVersion = iota
	fID
	fSource
	fType
	fTime
	fSubject
	fContentType
	fSchemaVersion // a JSON number, or a string holding one
	fCustomerID
	fCategory
	fSegment
	fChannel
	fRootCause
	fProduct
	fRegion
	fSeverity // raw JSON text
	fComplaintID
	fResolution
	fReason
	fReferredID
	fCompetitor
	fAmount // raw JSON text
	fCost   // raw JSON text
	fCurrency
	fTopic
	fDetail
	numFields

	fUnknown = -1
	fData    = -2
)

// States of the data member of the envelope.
const (
	dataAbsent = iota
	dataNull
	dataObject
	dataWrongType // not an object, or a field of the wrong JSON type
)

// envelopeNames and dataNames map the JSON names to field indexes.
var envelopeNames = [...]struct {
	name  string
	field int
}{
	{"specversion", fSpecVersion}, {"id", fID}, {"source", fSource}, {"type", fType},
	{"time", fTime}, {"subject", fSubject}, {"datacontenttype", fContentType},
	{"schemaversion", fSchemaVersion}, {"data", fData},
}

var dataNames = [...]struct {
	name  string
	field int
}{
	{"customer_id", fCustomerID}, {"category", fCategory}, {"segment", fSegment},
	{"channel", fChannel}, {"root_cause", fRootCause}, {"product", fProduct},
	{"region", fRegion}, {"severity", fSeverity}, {"complaint_id", fComplaintID},
	{"resolution", fResolution}, {"reason", fReason}, {"referred_customer_id", fReferredID},
	{"competitor", fCompetitor}, {"amount", fAmount}, {"cost", fCost}, {"currency", fCurrency},
	{"topic", fTopic}, {"detail", fDetail},
}

// fieldNames gives the JSON name of each field index.
var fieldNames = func() (t [numFields]string) {
	for _, n := range envelopeNames {
		if n.field >= 0 {
			t[n.field] = n.name
		}
	}
	for _, n := range dataNames {
		t[n.field] = n.name
	}
	return t
}()

// span locates a field's value in the payload. For string fields it is the
// content between the quotes; for raw fields the whole JSON value.
type span struct {
	start, end int32
	set        bool
	esc        bool // the string content holds escapes to decode
}

// memberRef locates one member of the envelope or of the data object: its
// key (the content between the quotes) and its value.
type memberRef struct {
	ks, ke, vs, ve int32
	field          int8 // field index, fUnknown or fData
	kesc           bool // the key holds escapes
	exact          bool // the key is exactly the field's name
}

// memberList holds the members of one object: the first ones inline, so
// that a typical event's scan does not allocate.
type memberList struct {
	arr  [20]memberRef
	n    int
	more []memberRef
}

// push adds a member and returns it, to be completed in place.
func (l *memberList) push() *memberRef {
	if l.n < len(l.arr) {
		l.n++
		return &l.arr[l.n-1]
	}
	l.more = append(l.more, memberRef{})
	return &l.more[len(l.more)-1]
}

func (l *memberList) len() int { return l.n + len(l.more) }

func (l *memberList) reset() { l.n, l.more = 0, l.more[:0] }

// all returns the members in order.
func (l *memberList) all() []memberRef {
	if len(l.more) == 0 {
		return l.arr[:l.n]
	}
	return append(l.arr[:l.n:l.n], l.more...)
}

// scanner is the state of one scan of a payload.
type scanner struct {
	b     []byte
	i     int
	data  uint8
	spans [numFields]span
	err   *Error
	// env and dat are the members of the envelope and of the (last) data
	// object; dataMember is the index in env of the member that supplied
	// the data object.
	env, dat   memberList
	dataMember int
	// Problems reported only once the payload is known to be JSON: a lone
	// surrogate, then the first limit exceeded.
	lone, limit *Error
	fields      int // members of the envelope and data so far
	// irregular is set by a member that is not a known field under its
	// exact name, or repeats one: only then must the as-sent members be
	// found by comparing names.
	irregular bool
	seen      uint64 // known fields met under their exact names
	inData    bool   // scanning inside the data object
	// The key of the envelope or data member being scanned.
	topKs, topKe int32
	topEsc       bool
	topData      bool // a data member
}

// Limits on the shape of an event: they bound what its open fields cost.
const (
	MaxFieldNameLen = 256 // bytes of a member name, at any depth
	MaxFields       = 256 // members of the envelope and of data together
	MaxDepth        = 32  // nesting levels, the envelope being the first
)

// strClass marks the bytes that end the fast path of a string scan: the
// quote, the backslash and the control characters.
var strClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// fail records a bad_json rejection at the current offset, unless one is
// recorded already, and returns false.
func (s *scanner) fail(what string) bool {
	if s.err == nil {
		if s.i >= len(s.b) {
			s.err = reject(ReasonBadJSON, "", "invalid JSON: unexpected end of input (%s)", what)
		} else {
			s.err = reject(ReasonBadJSON, "", "invalid JSON: %s at offset %d", what, s.i)
		}
	}
	return false
}

// skipWS skips JSON whitespace.
func (s *scanner) skipWS() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// scanEvent scans a whole payload into s.spans and s.data. It reports false,
// with s.err set, when encoding/json would have failed to decode the
// envelope.
func (s *scanner) scanEvent() bool {
	s.skipWS()
	if s.i >= len(s.b) {
		return s.fail("empty payload")
	}
	switch s.b[s.i] {
	case '{':
		if !s.object(1, true) {
			return false
		}
	default:
		if s.value(1) {
			s.err = reject(ReasonBadJSON, "", "invalid JSON: the event is not a JSON object")
		}
		return false
	}
	s.skipWS()
	if s.i < len(s.b) {
		return s.fail("trailing data after the event")
	}
	if s.lone != nil {
		s.err = s.lone
		return false
	}
	if s.limit != nil {
		s.err = s.limit
		return false
	}
	return true
}

// overLimit records the first limit the payload exceeds.
func (s *scanner) overLimit(field, format string, args ...any) {
	if s.limit == nil {
		s.limit = reject(ReasonInvalidField, field, format, args...)
	}
}

// keyLen returns the decoded length of the key b.
func keyLen(b []byte, esc bool) int {
	if !esc || len(b) <= MaxFieldNameLen {
		return len(b) // decoding never makes a string longer
	}
	return len(decodeString(nil, b, true))
}

// checkKey applies the name length limit to a key.
func (s *scanner) checkKey(ks, ke int, esc bool) {
	if n := keyLen(s.b[ks:ke], esc); n > MaxFieldNameLen {
		f := ""
		if s.inData {
			f = "data"
		}
		s.overLimit(f, "a field name is %d bytes, over the %d byte limit", n, MaxFieldNameLen)
	}
}

// checkDepth applies the nesting limit to an object or array at depth.
func (s *scanner) checkDepth(depth int) {
	if depth > MaxDepth && s.limit == nil {
		name := string(decodeString(nil, s.b[s.topKs:s.topKe], s.topEsc))
		if s.topData {
			name = "data." + name
		}
		s.overLimit(name, "nests deeper than %d levels", MaxDepth)
	}
}

// object scans the object at s.i, the envelope when envelope is true, else
// the data object.
func (s *scanner) object(depth int, envelope bool) bool {
	if depth > maxNestingDepth {
		return s.fail("exceeded max depth")
	}
	s.i++ // '{'
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		ks, ke, kesc, ok := s.key()
		if !ok {
			return false
		}
		if s.fields++; s.fields > MaxFields {
			s.overLimit("", "the event has more than %d fields (envelope and data together)", MaxFields)
		}
		s.checkKey(ks, ke, kesc)
		if ks == ke {
			f := ""
			if !envelope {
				f = "data"
			}
			s.overLimit(f, "a field name is empty")
		}
		field, exact := s.lookup(s.b[ks:ke], kesc, envelope)
		switch {
		case !exact:
			s.irregular = true
		case field >= 0:
			if s.seen&(1<<field) != 0 {
				s.irregular = true
			}
			s.seen |= 1 << field
		case s.dataMember >= 0: // a second exact "data"
			s.irregular = true
		}
		if !s.colon() {
			return false
		}
		if s.i >= len(s.b) {
			return s.fail("expected a value")
		}
		s.topKs, s.topKe, s.topEsc, s.topData = int32(ks), int32(ke), kesc, !envelope
		var m *memberRef
		if envelope {
			if field == fData {
				s.dataMember = s.env.len()
			}
			m = s.env.push()
		} else {
			m = s.dat.push()
		}
		m.ks, m.ke, m.vs, m.field, m.kesc, m.exact = int32(ks), int32(ke), int32(s.i), int8(field), kesc, exact
		if !s.member(field, depth) {
			return false
		}
		m.ve = int32(s.i)
		if more, ok := s.more('}'); !more {
			return ok
		}
	}
}

// key reads the object key at s.i.
func (s *scanner) key() (ks, ke int, esc, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, 0, false, s.fail("expected a string key")
	}
	return s.str()
}

// colon reads the ':' after an object key and the white space around it.
func (s *scanner) colon() bool {
	s.skipWS()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return s.fail("expected ':' after an object key")
	}
	s.i++
	s.skipWS()
	return true
}

// open enters the object or array at s.i, which end closes, at nesting
// depth depth; empty says it closed at once.
func (s *scanner) open(depth int, end byte) (empty, ok bool) {
	if depth > maxNestingDepth {
		return false, s.fail("exceeded max depth")
	}
	s.checkDepth(depth)
	s.i++
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		return true, true
	}
	return false, true
}

// more reads what follows a member of an object or array that end closes:
// after a ',' (and white space) more is true; after end, more is false and
// ok true; anything else fails.
func (s *scanner) more(end byte) (more, ok bool) {
	s.skipWS()
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ',':
			s.i++
			s.skipWS()
			return true, true
		case end:
			s.i++
			return false, true
		}
	}
	if end == '}' {
		return false, s.fail("expected ',' or '}'")
	}
	return false, s.fail("expected ',' or ']'")
}

// member scans the value of field, whose object is at depth.
func (s *scanner) member(field, depth int) bool {
	c := s.b[s.i]
	switch {
	case field == fUnknown:
		return s.value(depth + 1)
	case field == fData:
		switch c {
		case '{':
			for f := fCustomerID; f < numFields; f++ {
				s.spans[f] = span{}
			}
			s.data = dataObject
			s.dat.reset()
			s.inData = true
			ok := s.object(depth+1, false)
			s.inData = false
			return ok
		case 'n':
			s.data = dataNull
			return s.literal("null")
		}
		s.data = dataWrongType
		return s.value(depth + 1)
	case field == fSeverity || field == fAmount || field == fCost:
		start := s.i
		if !s.value(depth + 1) {
			return false
		}
		s.spans[field] = span{start: int32(start), end: int32(s.i), set: true}
		return true
	case field == fSchemaVersion:
		switch c {
		case '"':
			st, en, esc, ok := s.str()
			if !ok {
				return false
			}
			if !validNumber(decodeString(make([]byte, 0, 32), s.b[st:en], esc)) {
				s.i = st
				return s.fail("schemaversion is a string that is not a number")
			}
			s.spans[field] = span{start: int32(st), end: int32(en), set: true, esc: esc}
			return true
		case 'n':
			s.spans[field] = span{}
			return s.literal("null")
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			start := s.i
			if !s.number() {
				return false
			}
			s.spans[field] = span{start: int32(start), end: int32(s.i), set: true}
			return true
		}
		return s.wrongType(field, depth)
	}
	// A string field.
	switch c {
	case '"':
		st, en, esc, ok := s.str()
		if !ok {
			return false
		}
		s.spans[field] = span{start: int32(st), end: int32(en), set: true, esc: esc}
		return true
	case 'n':
		return s.literal("null") // null leaves a string as it was
	}
	return s.wrongType(field, depth)
}

// wrongType handles a value of the wrong JSON type for field: in the envelope
// it fails the decode; in data it is remembered and the scan goes on, since
// the syntax of the whole payload is checked first.
func (s *scanner) wrongType(field, depth int) bool {
	if field < fCustomerID {
		pos := s.i
		if !s.value(depth + 1) {
			return false
		}
		s.i = pos
		return s.fail("wrong JSON type for " + envelopeNames[field].name)
	}
	s.data = dataWrongType
	return s.value(depth + 1)
}

// value skips over any JSON value at s.i, checking its syntax. depth is the
// nesting depth an object or array at s.i would have.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return s.fail("expected a value")
	}
	switch s.b[s.i] {
	case '"':
		_, _, _, ok := s.str()
		return ok
	case '{':
		if empty, ok := s.open(depth, '}'); empty || !ok {
			return ok
		}
		for {
			ks, ke, kesc, ok := s.key()
			if !ok {
				return false
			}
			s.checkKey(ks, ke, kesc)
			if !s.colon() {
				return false
			}
			if !s.value(depth + 1) {
				return false
			}
			if more, ok := s.more('}'); !more {
				return ok
			}
		}
	case '[':
		if empty, ok := s.open(depth, ']'); empty || !ok {
			return ok
		}
		for {
			if !s.value(depth + 1) {
				return false
			}
			if more, ok := s.more(']'); !more {
				return ok
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return s.number()
	}
	return s.fail("invalid character")
}

// literal scans the literal lit (true, false or null).
func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		for j := 0; j < len(lit) && s.i < len(s.b) && s.b[s.i] == lit[j]; j++ {
			s.i++
		}
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return true
}

// number scans a number per the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	n := scanNumber(s.b[s.i:])
	if n <= 0 {
		s.i -= n
		return s.fail("invalid number")
	}
	s.i += n
	return true
}

// scanNumber returns the length of the JSON number at the start of b, or
// minus the offset of the offending byte when there is none.
func scanNumber[T string | []byte](b T) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -i
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	default:
		return -i
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -i
		}
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -i
		}
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	return i
}

// validNumber reports whether b is exactly one JSON number.
func validNumber(b []byte) bool {
	n := scanNumber(b)
	return n > 0 && n == len(b)
}

// str scans the string at s.i (its opening quote) and returns the bounds of
// its content and whether that holds escapes.
func (s *scanner) str() (start, end int, esc, ok bool) {
	b := s.b
	i := s.i + 1
	start = i
	for {
		for i < len(b) && !strClass[b[i]] {
			i++
		}
		if i >= len(b) {
			s.i = i
			return 0, 0, false, s.fail("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return start, i, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				s.i = i + 1
				return 0, 0, false, s.fail("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(b) || unhex(b[j]) < 0 {
						s.i = j
						return 0, 0, false, s.fail("invalid \\u escape in string")
					}
				}
				if r := u4(b[i:]); utf16.IsSurrogate(r) {
					if r < 0xdc00 {
						if r2 := u4(b[i+6:]); r2 >= 0xdc00 && r2 < 0xe000 {
							i += 12
							continue
						}
					}
					if s.lone == nil {
						s.lone = reject(ReasonInvalidUTF8, "", "a string holds a lone UTF-16 surrogate (%s at offset %d), which is not a character", string(b[i:i+6]), i)
					}
				}
				i += 6
			default:
				s.i = i + 1
				return 0, 0, false, s.fail("invalid escape in string")
			}
		default:
			s.i = i
			return 0, 0, false, s.fail("control character in string")
		}
	}
}

// unhex returns the value of a hex digit, or -1.
func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// u4 decodes the \uXXXX escape at the start of b, or returns -1.
func u4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		h := unhex(c)
		if h < 0 {
			return -1
		}
		r = r<<4 | h
	}
	return r
}

// decodeString appends the content of a scanned string to dst, decoding its
// escapes the way encoding/json does: a \u escape of a lone or badly paired
// UTF-16 surrogate becomes U+FFFD.
func decodeString(dst, b []byte, esc bool) []byte {
	if !esc {
		return append(dst, b...)
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			j := i + 1
			for j < len(b) && b[j] != '\\' {
				j++
			}
			dst = append(dst, b[i:j]...)
			i = j
			continue
		}
		switch b[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := u4(b[i:])
			i += 6
			if utf16.IsSurrogate(r) {
				if r2 := u4(b[i:]); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, b[i+1])
		}
		i += 2
	}
	return dst
}

// lookup returns the field a key names, fUnknown for none, and whether the
// key is exactly the field's name.
func (s *scanner) lookup(key []byte, esc, envelope bool) (int, bool) {
	if f := s.lookupExact(key, esc, envelope); f != fUnknown {
		return f, true
	}
	return s.lookupFold(key, esc, envelope), false
}

// lookupExact returns the field whose name the unescaped key is.
func (s *scanner) lookupExact(key []byte, esc, envelope bool) int {
	if !esc {
		if envelope {
			switch string(key) {
			case "specversion":
				return fSpecVersion
			case "id":
				return fID
			case "source":
				return fSource
			case "type":
				return fType
			case "time":
				return fTime
			case "subject":
				return fSubject
			case "datacontenttype":
				return fContentType
			case "schemaversion":
				return fSchemaVersion
			case "data":
				return fData
			}
		} else {
			switch string(key) {
			case "customer_id":
				return fCustomerID
			case "category":
				return fCategory
			case "segment":
				return fSegment
			case "channel":
				return fChannel
			case "root_cause":
				return fRootCause
			case "product":
				return fProduct
			case "region":
				return fRegion
			case "severity":
				return fSeverity
			case "complaint_id":
				return fComplaintID
			case "resolution":
				return fResolution
			case "reason":
				return fReason
			case "referred_customer_id":
				return fReferredID
			case "competitor":
				return fCompetitor
			case "amount":
				return fAmount
			case "cost":
				return fCost
			case "currency":
				return fCurrency
			case "topic":
				return fTopic
			case "detail":
				return fDetail
			}
		}
	}
	return fUnknown
}

// lookupFold matches a key with escapes, or under case folding.
func (s *scanner) lookupFold(key []byte, esc, envelope bool) int {
	// A key that matches a name is at most 3 bytes per name byte long.
	const maxKey = 3 * len("referred_customer_id")
	if !esc && len(key) > maxKey {
		return fUnknown
	}
	var buf [maxKey]byte
	k := decodeString(buf[:0], key, esc)
	if len(k) > maxKey {
		return fUnknown
	}
	if envelope {
		for _, n := range envelopeNames {
			if foldEqual(k, n.name) {
				return n.field
			}
		}
		return fUnknown
	}
	for _, n := range dataNames {
		if foldEqual(k, n.name) {
			return n.field
		}
	}
	return fUnknown
}

// foldEqual reports whether key equals name, a lower-case ASCII field name,
// under Unicode simple case folding, as encoding/json matches keys. The only
// non-ASCII runes that fold to ASCII letters are U+017F (ſ, to s) and U+212A
// (Kelvin sign, to k).
func foldEqual(key []byte, name string) bool {
	j := 0
	for i := 0; i < len(key); {
		if j >= len(name) {
			return false
		}
		c := key[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != name[j] {
				return false
			}
			i++
			j++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		switch {
		case r == 0x17F && name[j] == 's', r == 0x212A && name[j] == 'k':
		default:
			return false
		}
		i += n
		j++
	}
	return j == len(name)
}

// materialize copies the values of the fields that were set into one string
// and fills w with substrings of it: one allocation for every field.
func (s *scanner) materialize(w *wireEvent) {
	total := 0
	for i := range s.spans {
		if sp := &s.spans[i]; sp.set {
			total += int(sp.end - sp.start)
		}
	}
	if total == 0 {
		return
	}
	var sb strings.Builder
	sb.Grow(total) // decoded strings are never longer than their source
	var ends [numFields]int32
	var tmp [256]byte
	for i := range s.spans {
		sp := &s.spans[i]
		if sp.set {
			if sp.esc {
				sb.Write(decodeString(tmp[:0], s.b[sp.start:sp.end], true))
			} else {
				sb.Write(s.b[sp.start:sp.end])
			}
		}
		ends[i] = int32(sb.Len())
	}
	all := sb.String()
	var out [numFields]string
	start := int32(0)
	for i := range out {
		out[i] = all[start:ends[i]]
		start = ends[i]
	}
	w.SpecVersion, w.ID, w.Source, w.Type = out[fSpecVersion], out[fID], out[fSource], out[fType]
	w.Time, w.Subject, w.ContentType = out[fTime], out[fSubject], out[fContentType]
	w.SchemaVersion, w.HasSchemaVersion = out[fSchemaVersion], s.spans[fSchemaVersion].set
	d := &w.Data
	d.CustomerID, d.Category, d.Segment, d.Channel = out[fCustomerID], out[fCategory], out[fSegment], out[fChannel]
	d.RootCause, d.Product, d.Region, d.Severity = out[fRootCause], out[fProduct], out[fRegion], out[fSeverity]
	d.ComplaintID, d.Resolution, d.Reason, d.ReferredID = out[fComplaintID], out[fResolution], out[fReason], out[fReferredID]
	d.Competitor, d.Cost = out[fCompetitor], out[fCost]
	d.Amount, d.Currency, d.Topic, d.Detail = out[fAmount], out[fCurrency], out[fTopic], out[fDetail]
}

// slug returns Slug(s) without allocating when s is already a slug.
func slug(s string) string {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return Slug(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		case c == '-' && s[i-1] != '-':
		default:
			return Slug(s)
		}
	}
	return s
}
