package eventstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"

	"github.com/google/uuid"

	"github.com/plaint/plaint/domain"
)

// Record is one stored event in its compact binary form. Its accessors read
// single fields without decoding the rest, which is what makes projection
// scans fast. A Record is only valid inside the transaction it was read in.
//
// Layout (format 2; format 1 is the same without the tags from 9 on and
// flagJSON), little endian:
//
//	0  crc32c of bytes [4:]       4
//	4  format version (1 or 2)    1
//	5  type                       1
//	6  schema version             1
//	7  flags                      1
//	8  event time, unix ns        8
//	16 record time, unix ns       8
//	24 source        dict id      4
//	28 customer_id   dict id      4
//	32 category      dict id      4
//	36 segment       dict id      4
//	40 channel       dict id      4
//	44 root_cause    dict id      4
//	48 product       dict id      4
//	52 region        dict id      4
//	56 severity                   1
//	57 id: 16 bytes when flagUUID, else uvarint length + bytes
//	.. subject: uvarint length + bytes when flagSubject
//	.. tagged optional fields until the end: tag byte, then a value
//
// The as-sent members of an event (domain.AsSent) take one tag: a count,
// then per member the dictionary id of its name shifted left by one with the
// data flag in bit 0, and its compact JSON value with a length (0 for a
// member marked absent). Typical events have none and carry nothing extra.
//
// Format 1 records (written before plaint kept every field) read as they did:
// datacontenttype application/json, no as-sent members, and amounts in the
// minor units of the time (domain.LegacyScale).
type Record []byte

const (
	formatVersion = 2 // the format of new records and of the log
	formatV1      = 1
	fixedLen      = 57

	flagUUID    = 1 << 0 // id is a canonical UUID stored as 16 bytes
	flagSubject = 1 << 1 // an explicit subject follows the id (else subject = customer_id)
	flagNoSubj  = 1 << 2 // the event had no subject
	flagJSON    = 1 << 3 // datacontenttype was exactly application/json (format 2)
)

// Field names a dimension stored at a fixed offset as a dictionary id.
type Field uint8

// The fixed dictionary fields of a record.
const (
	FieldSource Field = iota
	FieldCustomer
	FieldCategory
	FieldSegment
	FieldChannel
	FieldRootCause
	FieldProduct
	FieldRegion
	numFixed
)

// Tags of optional fields in a record's tail.
const (
	tagComplaintID = 1 // uvarint len + bytes
	tagResolution  = 2 // uvarint dict id
	tagReason      = 3 // uvarint dict id
	tagReferred    = 4 // uvarint dict id
	tagAmount      = 5 // varint minor units
	tagCurrency    = 6 // uvarint dict id
	tagTopic       = 7 // uvarint len + bytes
	tagDetail      = 8 // uvarint len + bytes
	// Format 2.
	tagCompetitor  = 9  // uvarint dict id
	tagCost        = 10 // varint minor units of the currency
	tagContentType = 11 // uvarint len + bytes (when not flagJSON)
	tagAsSent      = 12 // uvarint count, then members (see above)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Type returns the event type.
func (r Record) Type() domain.Type { return domain.Type(r[5]) }

// Format returns the record's format version (1 or 2).
func (r Record) Format() uint8 { return r[4] }

// Schema returns the data schema version the event was written with.
func (r Record) Schema() uint8 { return r[6] }

// EventTime returns the event time in Unix nanoseconds.
func (r Record) EventTime() int64 { return int64(binary.LittleEndian.Uint64(r[8:])) }

// RecordTime returns the time the event was appended, in Unix nanoseconds.
func (r Record) RecordTime() int64 { return int64(binary.LittleEndian.Uint64(r[16:])) }

// Dim returns the dictionary id of a fixed field; 0 means absent.
func (r Record) Dim(f Field) uint32 { return binary.LittleEndian.Uint32(r[24+4*int(f):]) }

// Severity returns the complaint severity, 0 when absent.
func (r Record) Severity() uint8 { return r[56] }

// check verifies the record's checksum and framing.
func (r Record) check() error {
	if len(r) < fixedLen+1 {
		return fmt.Errorf("record is %d bytes, shorter than the %d byte header", len(r), fixedLen+1)
	}
	if want, got := binary.LittleEndian.Uint32(r), crc32.Checksum(r[4:], castagnoli); want != got {
		return fmt.Errorf("checksum mismatch: stored %08x, computed %08x", want, got)
	}
	if r[4] != formatVersion && r[4] != formatV1 {
		return fmt.Errorf("unknown record format %d", r[4])
	}
	if !domain.Type(r[5]).Valid() {
		return fmt.Errorf("unknown event type %d", r[5])
	}
	return nil
}

// interner maps strings to dictionary ids, adding new ones.
type interner interface {
	intern(s string) uint32
}

// encodeRecord appends the binary form of ev to dst.
func encodeRecord(dst []byte, ev *domain.Event, recordTime int64, in interner) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, fixedLen)...)
	h := dst[start:]
	h[4] = formatVersion
	h[5] = byte(ev.Type)
	h[6] = ev.Schema
	binary.LittleEndian.PutUint64(h[8:], uint64(ev.Time.UnixNano()))
	binary.LittleEndian.PutUint64(h[16:], uint64(recordTime))
	d := &ev.Data
	for f, s := range [numFixed]string{ev.Source, d.CustomerID, d.Category, d.Segment, d.Channel, d.RootCause, d.Product, d.Region} {
		if s != "" {
			binary.LittleEndian.PutUint32(h[24+4*f:], in.intern(s))
		}
	}
	h[56] = d.Severity
	var flags byte
	if u, ok := parseCanonicalUUID(ev.ID); ok {
		flags |= flagUUID
		dst = append(dst, u[:]...)
	} else {
		dst = appendString(dst, ev.ID)
	}
	switch ev.Subject {
	case "":
		flags |= flagNoSubj
	case d.CustomerID:
	default:
		flags |= flagSubject
		dst = appendString(dst, ev.Subject)
	}
	if ev.ContentType == "application/json" {
		flags |= flagJSON
	}
	dst[start+7] = flags
	if d.ComplaintID != "" {
		dst = appendString(append(dst, tagComplaintID), d.ComplaintID)
	}
	for _, t := range [...]struct {
		tag byte
		s   string
	}{{tagResolution, d.Resolution}, {tagReason, d.Reason}, {tagReferred, d.ReferredID}, {tagCompetitor, d.Competitor}} {
		if t.s != "" {
			dst = binary.AppendUvarint(append(dst, t.tag), uint64(in.intern(t.s)))
		}
	}
	if d.Currency != "" {
		dst = binary.AppendVarint(append(dst, tagAmount), int64(d.Amount))
		dst = binary.AppendUvarint(append(dst, tagCurrency), uint64(in.intern(d.Currency)))
		if d.HasCost {
			dst = binary.AppendVarint(append(dst, tagCost), int64(d.Cost))
		}
	}
	if d.Topic != "" {
		dst = appendString(append(dst, tagTopic), d.Topic)
	}
	if d.Detail != "" {
		dst = appendString(append(dst, tagDetail), d.Detail)
	}
	if ev.ContentType != "" && flags&flagJSON == 0 {
		dst = appendString(append(dst, tagContentType), ev.ContentType)
	}
	if !ev.AsSent.IsZero() {
		dst = append(dst, tagAsSent)
		dst = binary.AppendUvarint(dst, uint64(ev.AsSent.Len()))
		for m := range ev.AsSent.All() {
			id := uint64(in.intern(m.Name)) << 1
			if m.Data {
				id |= 1
			}
			dst = binary.AppendUvarint(dst, id)
			dst = appendString(dst, m.Raw)
		}
	}
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:], castagnoli))
	return dst
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func readString(b []byte) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, fmt.Errorf("truncated string")
	}
	return string(b[k : k+int(n)]), b[k+int(n):], nil
}

// readMoney reads the signed varint of an amount or cost field (tag
// tagAmount or tagCost) at the start of b into amount, or into cost with
// hasCost set, and returns the bytes after it.
func readMoney(tag byte, b []byte, amount, cost *domain.Money, hasCost *bool) ([]byte, error) {
	v, k := binary.Varint(b)
	if k <= 0 {
		return nil, fmt.Errorf("tag %d: truncated", tag)
	}
	if tag == tagAmount {
		*amount = domain.Money(v)
	} else {
		*cost, *hasCost = domain.Money(v), true
	}
	return b[k:], nil
}

// ID returns the event id.
func (r Record) ID() (string, error) {
	id, _, err := r.idAndRest()
	return id, err
}

func (r Record) idAndRest() (string, []byte, error) { return readEventID(r[7], r[fixedLen:]) }

// readEventID reads the event id at the start of b, a record's bytes after its
// fixed header whose flags are flags, and returns it and the bytes after it.
func readEventID(flags byte, b []byte) (string, []byte, error) {
	if flags&flagUUID != 0 {
		if len(b) < 16 {
			return "", nil, fmt.Errorf("truncated uuid")
		}
		return uuid.UUID(b[:16]).String(), b[16:], nil
	}
	return readString(b)
}

// appendEventID appends the event id at the start of b (as readEventID
// reads it) to dst: a uuid in its canonical form, xxxxxxxx-xxxx-xxxx-xxxx-
// xxxxxxxxxxxx in lower-case hex, as uuid.UUID.String writes it.
func appendEventID(dst []byte, flags byte, b []byte) ([]byte, error) {
	if flags&flagUUID == 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return dst, fmt.Errorf("truncated string")
		}
		return append(dst, b[k:k+int(n)]...), nil
	}
	if len(b) < 16 {
		return dst, fmt.Errorf("truncated uuid")
	}
	const digits = "0123456789abcdef"
	for i, x := range b[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, digits[x>>4], digits[x&0xf])
	}
	return dst, nil
}

// lookup resolves dictionary ids.
type lookup interface {
	str(id uint32) (string, error)
}

// decodeRecord turns a record back into an event. It does not verify the
// checksum; call check first when reading untrusted bytes.
func decodeRecord(r Record, dict lookup) (domain.Event, error) {
	var ev domain.Event
	if len(r) < fixedLen {
		return ev, fmt.Errorf("record is %d bytes, shorter than the header", len(r))
	}
	ev.Type = r.Type()
	ev.Schema = r.Schema()
	ev.Time = timeFromNanos(r.EventTime())
	d := &ev.Data
	outs := [numFixed]*string{&ev.Source, &d.CustomerID, &d.Category, &d.Segment, &d.Channel, &d.RootCause, &d.Product, &d.Region}
	for f := Field(0); f < numFixed; f++ {
		if id := r.Dim(f); id != 0 {
			s, err := dict.str(id)
			if err != nil {
				return ev, fmt.Errorf("field %d: %w", f, err)
			}
			*outs[f] = s
		}
	}
	d.Severity = r.Severity()
	v1 := r.Format() == formatV1
	if v1 || r[7]&flagJSON != 0 {
		ev.ContentType = "application/json"
	}
	id, b, err := r.idAndRest()
	if err != nil {
		return ev, fmt.Errorf("id: %w", err)
	}
	ev.ID = id
	switch {
	case r[7]&flagNoSubj != 0:
	case r[7]&flagSubject != 0:
		if ev.Subject, b, err = readString(b); err != nil {
			return ev, fmt.Errorf("subject: %w", err)
		}
	default:
		ev.Subject = d.CustomerID
	}
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch tag {
		case tagComplaintID, tagTopic, tagDetail:
			var s string
			if s, b, err = readString(b); err != nil {
				return ev, fmt.Errorf("tag %d: %w", tag, err)
			}
			switch tag {
			case tagComplaintID:
				d.ComplaintID = s
			case tagTopic:
				d.Topic = s
			default:
				d.Detail = s
			}
		case tagResolution, tagReason, tagReferred, tagCurrency, tagCompetitor:
			if v1 && tag == tagCompetitor {
				return ev, fmt.Errorf("unknown field tag %d in a format-1 record", tag)
			}
			v, k := binary.Uvarint(b)
			if k <= 0 {
				return ev, fmt.Errorf("tag %d: truncated", tag)
			}
			b = b[k:]
			s, err := dict.str(uint32(v))
			if err != nil {
				return ev, fmt.Errorf("tag %d: %w", tag, err)
			}
			switch tag {
			case tagResolution:
				d.Resolution = s
			case tagReason:
				d.Reason = s
			case tagReferred:
				d.ReferredID = s
			case tagCompetitor:
				d.Competitor = s
			default:
				d.Currency = s
			}
		case tagAmount, tagCost:
			if v1 && tag == tagCost {
				return ev, fmt.Errorf("unknown field tag %d in a format-1 record", tag)
			}
			if b, err = readMoney(tag, b, &d.Amount, &d.Cost, &d.HasCost); err != nil {
				return ev, err
			}
		case tagContentType, tagAsSent:
			if v1 {
				return ev, fmt.Errorf("unknown field tag %d in a format-1 record", tag)
			}
			if tag == tagContentType {
				if ev.ContentType, b, err = readString(b); err != nil {
					return ev, fmt.Errorf("datacontenttype: %w", err)
				}
				continue
			}
			if ev.AsSent, b, err = readAsSent(b, dict); err != nil {
				return ev, fmt.Errorf("as-sent members: %w", err)
			}
		default:
			return ev, fmt.Errorf("unknown field tag %d", tag)
		}
	}
	if v1 && d.Currency != "" {
		// Amounts of the few currencies that gained minor digits since.
		// The text format 1 rendered stays the as-sent form, so that the
		// output is what it was.
		a, scaled, err := format1Amount(d.Amount, d.Currency)
		if err != nil {
			return ev, err
		}
		if scaled {
			// These currencies had two minor digits then, as USD has.
			was := strconv.Quote(d.Amount.Format("USD"))
			d.Amount = a
			var sb domain.AsSentBuilder
			sb.Add(true, "amount", []byte(was))
			ev.AsSent = sb.AsSent()
		}
	}
	return ev, nil
}

// readAsSent reads the members of a tagAsSent field.
func readAsSent(b []byte, dict lookup) (domain.AsSent, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return domain.AsSent{}, nil, fmt.Errorf("truncated count")
	}
	b = b[k:]
	var sb domain.AsSentBuilder
	for range n {
		id, k := binary.Uvarint(b)
		if k <= 0 {
			return domain.AsSent{}, nil, fmt.Errorf("truncated name")
		}
		b = b[k:]
		name, err := dict.str(uint32(id >> 1))
		if err != nil {
			return domain.AsSent{}, nil, fmt.Errorf("name: %w", err)
		}
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return domain.AsSent{}, nil, fmt.Errorf("truncated value of %q", name)
		}
		sb.Add(id&1 != 0, name, b[k:k+int(l)])
		b = b[k+int(l):]
	}
	return sb.AsSent(), b, nil
}
