package customers

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/plaint/plaint/domain"
)

// item is one event of a customer's history, decoded.
type item struct {
	t          int64 // event time, Unix ns
	typ        domain.Type
	sev        uint8
	hasCost    bool
	seg        uint32 // the event's own segment (0: none)
	cat        uint32 // complaint category
	ch         uint32 // complaint channel
	reason     uint32 // defection or renewal reason
	competitor uint32
	cur        uint32 // 0: no amount
	amount     domain.Money
	cost       domain.Money
	complaint  uint32 // complaint_id hash
}

func itemOf(f *Fact) item {
	return item{t: f.Time, typ: f.Type, sev: f.Severity, hasCost: f.HasCost, seg: f.Segment, cat: f.Category,
		ch: f.Channel, reason: f.Reason, competitor: f.Competitor, cur: f.Currency, amount: f.Amount, cost: f.Cost,
		complaint: f.Complaint}
}

// A customer's history is its items in event-time order (ties in log order),
// each encoded as:
//
//	header byte: type (bits 0-3), has amount (4), has cost (5), has complaint id (6)
//	time: uvarint of the nanoseconds since the previous item (the first: since
//	      the Unix epoch), shifted left once; bit 0 set means nanoseconds,
//	      clear means whole seconds (the value is then divided by 1e9)
//	segment: uvarint
//	by type: complaint.filed category, channel (uvarint), severity (byte);
//	         renewed and defected reason (uvarint); defected competitor (uvarint)
//	amount: currency (uvarint), amount (varint) when flagged; cost (varint) when flagged
//	complaint id hash: 4 bytes little endian when flagged
//
// The same bytes are the customer's saved entry, so a checkpoint writes the
// changed customers' histories as they are.
const (
	flagAmount    = 1 << 4
	flagCost      = 1 << 5
	flagComplaint = 1 << 6
)

var errHistory = errors.New("customer history is damaged")

// appendItem appends it, whose predecessor has time prev, to dst.
func appendItem(dst []byte, it *item, prev int64) []byte {
	h := itemHeader(it)
	dst = append(dst, h)
	d := uint64(it.t - prev)
	if d%1e9 == 0 {
		dst = binary.AppendUvarint(dst, d/1e9<<1)
	} else {
		dst = binary.AppendUvarint(dst, d<<1|1)
	}
	return appendItemBody(dst, h, it)
}

// itemHeader returns the header byte of it: its type and flags.
func itemHeader(it *item) byte {
	h := byte(it.typ) & 0x0f
	if it.cur != 0 {
		h |= flagAmount
		if it.hasCost {
			h |= flagCost
		}
	}
	if it.complaint != 0 {
		h |= flagComplaint
	}
	return h
}

// appendItemBody appends what follows the time of it, whose header is h.
func appendItemBody(dst []byte, h byte, it *item) []byte {
	dst = binary.AppendUvarint(dst, uint64(it.seg))
	switch it.typ {
	case domain.TypeComplaintFiled:
		dst = binary.AppendUvarint(dst, uint64(it.cat))
		dst = binary.AppendUvarint(dst, uint64(it.ch))
		dst = append(dst, it.sev)
	case domain.TypeCustomerRenewed:
		dst = binary.AppendUvarint(dst, uint64(it.reason))
	case domain.TypeCustomerDefected:
		dst = binary.AppendUvarint(dst, uint64(it.reason))
		dst = binary.AppendUvarint(dst, uint64(it.competitor))
	}
	if h&flagAmount != 0 {
		dst = binary.AppendUvarint(dst, uint64(it.cur))
		dst = binary.AppendVarint(dst, int64(it.amount))
		if h&flagCost != 0 {
			dst = binary.AppendVarint(dst, int64(it.cost))
		}
	}
	if h&flagComplaint != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, it.complaint)
	}
	return dst
}

// decodeHistory appends the items of hist to dst.
func decodeHistory(dst []item, hist []byte) ([]item, error) {
	var prev int64
	b := hist
	for len(b) > 0 {
		h := b[0]
		it := item{typ: domain.Type(h & 0x0f)}
		d, k := binary.Uvarint(b[1:])
		if k <= 0 {
			return dst, errHistory
		}
		if d&1 == 0 {
			d = d >> 1 * 1e9
		} else {
			d >>= 1
		}
		it.t = prev + int64(d)
		prev = it.t
		var err error
		if b, err = readItemBody(b[1+k:], h, &it); err != nil {
			return dst, err
		}
		dst = append(dst, it)
	}
	return dst, nil
}

// readItemBody reads into it what follows the time of an item of header h
// at the start of b, and returns the rest of b.
func readItemBody(b []byte, h byte, it *item) ([]byte, error) {
	uv := func() uint64 {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			b = nil
			return 0
		}
		b = b[k:]
		return v
	}
	it.seg = uint32(uv())
	switch it.typ {
	case domain.TypeComplaintFiled:
		it.cat, it.ch = uint32(uv()), uint32(uv())
		if len(b) == 0 {
			return nil, errHistory
		}
		it.sev, b = b[0], b[1:]
	case domain.TypeCustomerRenewed:
		it.reason = uint32(uv())
	case domain.TypeCustomerDefected:
		it.reason, it.competitor = uint32(uv()), uint32(uv())
	case domain.TypeComplaintResolved, domain.TypeCustomerAcquired, domain.TypeReferralMade, domain.TypeRevenueRecorded:
	default:
		return nil, fmt.Errorf("%w: type %d", errHistory, it.typ)
	}
	if h&flagAmount != 0 {
		it.cur = uint32(uv())
		v, k := binary.Varint(b)
		if k <= 0 {
			return nil, errHistory
		}
		b, it.amount = b[k:], domain.Money(v)
		if h&flagCost != 0 {
			v, k := binary.Varint(b)
			if k <= 0 {
				return nil, errHistory
			}
			b, it.cost, it.hasCost = b[k:], domain.Money(v), true
		}
	}
	if h&flagComplaint != 0 {
		if len(b) < 4 {
			return nil, errHistory
		}
		it.complaint, b = binary.LittleEndian.Uint32(b), b[4:]
	}
	if b == nil {
		return nil, errHistory
	}
	return b, nil
}

// encodeHistory returns the encoding of items (sorted by time).
func encodeHistory(dst []byte, items []item) []byte {
	var prev int64
	for i := range items {
		dst = appendItem(dst, &items[i], prev)
		prev = items[i].t
	}
	return dst
}
