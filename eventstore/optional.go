package eventstore

import (
	"encoding/binary"
	"fmt"

	"github.com/plaint/plaint/domain"
)

// Optional holds the tagged optional fields of a record that a projection
// reads without decoding the whole event: dictionary ids (0 when absent) and
// amounts in today's minor units of Currency.
type Optional struct {
	// ComplaintID points into the record: it is valid only inside the
	// transaction the record was read in.
	ComplaintID []byte
	Resolution  uint32
	Reason      uint32
	Referred    uint32
	Competitor  uint32
	Currency    uint32 // 0: no amount
	Amount      domain.Money
	Cost        domain.Money
	HasCost     bool
}

// Optional reads the optional fields of r (see Optional), skipping the
// free-text and as-sent ones. Amounts of format-1 records are scaled to
// today's minor units as Decode does.
func (s *Snapshot) Optional(r Record) (Optional, error) { return readOptional(r, s.dict) }

// readOptional is Optional with the dictionary dict.
func readOptional(r Record, dict dictView) (Optional, error) {
	if len(r) < fixedLen {
		return Optional{}, fmt.Errorf("record is %d bytes, shorter than the header", len(r))
	}
	return readOptionalTail(r.Format(), r[7], r[fixedLen:], dict)
}

// readOptionalTail is readOptional of the record of format and flags whose
// bytes after the fixed header are b (a block keeps them apart).
func readOptionalTail(format, flags byte, b []byte, dict dictView) (Optional, error) {
	var o Optional
	if flags&flagUUID != 0 {
		if len(b) < 16 {
			return o, fmt.Errorf("truncated uuid")
		}
		b = b[16:]
	} else if b = skipString(b); b == nil {
		return o, fmt.Errorf("truncated id")
	}
	if flags&flagSubject != 0 {
		if b = skipString(b); b == nil {
			return o, fmt.Errorf("truncated subject")
		}
	}
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch tag {
		case tagComplaintID:
			n, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < n {
				return o, fmt.Errorf("truncated complaint id")
			}
			o.ComplaintID = b[k : k+int(n) : k+int(n)]
			b = b[k+int(n):]
		case tagTopic, tagDetail, tagContentType:
			if b = skipString(b); b == nil {
				return o, fmt.Errorf("tag %d: truncated", tag)
			}
		case tagResolution, tagReason, tagReferred, tagCurrency, tagCompetitor:
			v, k := binary.Uvarint(b)
			if k <= 0 || v > 1<<32-1 {
				return o, fmt.Errorf("tag %d: truncated", tag)
			}
			b = b[k:]
			*[...]*uint32{tagResolution: &o.Resolution, tagReason: &o.Reason, tagReferred: &o.Referred,
				tagCurrency: &o.Currency, tagCompetitor: &o.Competitor}[tag] = uint32(v)
		case tagAmount, tagCost:
			var err error
			if b, err = readMoney(tag, b, &o.Amount, &o.Cost, &o.HasCost); err != nil {
				return o, err
			}
		case tagAsSent:
			n, k := binary.Uvarint(b)
			if k <= 0 || n > uint64(len(b)) {
				return o, fmt.Errorf("as-sent members: truncated count")
			}
			b = b[k:]
			for range n {
				if _, k := binary.Uvarint(b); k > 0 {
					b = skipString(b[k:])
				} else {
					b = nil
				}
				if b == nil {
					return o, fmt.Errorf("as-sent members: truncated")
				}
			}
		default:
			return o, fmt.Errorf("unknown field tag %d", tag)
		}
	}
	if format == formatV1 && o.Currency != 0 {
		cur, err := dict.str(o.Currency)
		if err != nil {
			return o, fmt.Errorf("currency: %w", err)
		}
		if o.Amount, _, err = format1Amount(o.Amount, cur); err != nil {
			return o, err
		}
	}
	return o, nil
}

// skipString returns b after a length-prefixed string, or nil when b is
// too short to hold it.
func skipString(b []byte) []byte {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil
	}
	return b[k+int(n):]
}
