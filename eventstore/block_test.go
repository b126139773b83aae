package eventstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plaint/plaint/domain"
)

// blockCorpus generates records of every shape a log holds: UUID and other
// ids, subjects, optional fields, as-sent members, format-1 records, times
// in and out of order, one or many types, and dimensions of one value or
// many.
type blockCorpus struct {
	r    *rand.Rand
	d    *mapDict
	rt   int64
	last int64
}

func newBlockCorpus(seed uint64) *blockCorpus {
	return &blockCorpus{r: rand.New(rand.NewPCG(seed, seed*7+1)), d: &mapDict{ids: map[string]uint32{}, strs: []string{""}},
		rt: 1_700_000_000_000_000_000, last: 1_690_000_000_000_000_000}
}

func (g *blockCorpus) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// records returns n records; the shape of the block (how varied its
// columns are) is drawn once for all of them.
func (g *blockCorpus) records(n int) []Record {
	varied := g.r.IntN(4) // 0: every column of one value ... 3: everything varies
	step := []int64{1, 1000, 1e9, 7_777_777}[g.r.IntN(4)]
	recs := make([]Record, n)
	for i := range recs {
		if g.r.IntN(50) == 0 {
			g.rt += g.r.Int64N(1e9) // a later commit
		}
		ev := domain.Event{ID: fmt.Sprintf("id-%d", g.r.Uint64()), Source: "crm", Type: domain.TypeComplaintFiled, Schema: 1,
			Data: domain.Data{CustomerID: "C-1", Category: "billing"}}
		switch {
		case varied == 0:
			g.last += step
		case g.r.IntN(10) == 0:
			g.last -= g.r.Int64N(1000) * step // late
		default:
			g.last += g.r.Int64N(1000) * step
		}
		ev.Time = time.Unix(0, g.last).UTC()
		if varied > 0 {
			var u uuid.UUID
			for j := range u {
				u[j] = byte(g.r.Uint32())
			}
			ev.ID = u.String()
			ev.Data.CustomerID = fmt.Sprintf("C-%d", g.r.IntN(1+varied*100))
			ev.Data.Category = g.pick("billing", "delivery", "quality", "support")
			ev.Data.Severity = uint8(g.r.IntN(6))
			ev.Subject = ev.Data.CustomerID
		}
		if varied > 1 {
			ev.Type = domain.Types()[g.r.IntN(len(domain.Types()))]
			ev.Source = g.pick("crm", "web", "phone")
			ev.Data.Segment = g.pick("", "retail", "smb")
			ev.Data.Channel = g.pick("", "email", "chat")
			ev.Data.RootCause = g.pick("", "bug", "policy")
			ev.Data.Product = g.pick("", "card", "loan")
			ev.Data.Region = g.pick("", "eu", "us", "apac")
			ev.Subject = g.pick("", ev.Data.CustomerID, "other subject")
			ev.ContentType = g.pick("", "application/json", "text/plain")
		}
		if varied > 2 {
			ev.Data.ComplaintID = g.pick("", "CMP-1", "CMP-22")
			ev.Data.Resolution = g.pick("", "refund")
			if g.r.IntN(3) == 0 {
				ev.Data.Currency, ev.Data.Amount = "EUR", domain.Money(g.r.Int64N(1e6)-1000)
				ev.Data.Cost, ev.Data.HasCost = domain.Money(g.r.Int64N(100)), g.r.IntN(2) == 0
			}
			ev.Data.Topic = g.pick("", "late", "wrong item")
			if g.r.IntN(4) == 0 {
				sent, err := domain.NewAsSent(domain.Member{Data: true, Name: "plan", Raw: `"gold"`})
				if err == nil {
					ev.AsSent = sent
				}
			}
		}
		r := Record(encodeRecord(nil, &ev, g.rt, g.d))
		v1ok := !ev.Data.HasCost && ev.AsSent.IsZero() && (ev.ContentType == "" || ev.ContentType == "application/json")
		if varied > 2 && v1ok && g.r.IntN(3) == 0 {
			r[4] = formatV1 // the codec keeps any record's bytes, whatever its format
			binary.LittleEndian.PutUint32(r, crc32.Checksum(r[4:], castagnoli))
		}
		recs[i] = r
	}
	return recs
}

// TestBlockRoundTrip checks, on many generated blocks, that decoding a
// block gives back the exact bytes of its records and that its header
// says what it holds.
func TestBlockRoundTrip(t *testing.T) {
	var enc blockEncoder
	dec := blockDecoder{check: true}
	for seed := range uint64(400) {
		g := newBlockCorpus(seed)
		n := 1 + g.r.IntN(blockMaxEvents)
		if seed%5 == 0 {
			n = 1 + g.r.IntN(3)
		}
		recs := g.records(n)
		first := 1 + g.r.Uint64N(1<<40)
		b, err := enc.appendBlock([]byte("prefix"), first, recs)
		if err != nil {
			t.Fatalf("seed %d: encode: %v", seed, err)
		}
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("seed %d: appendBlock lost what dst held", seed)
		}
		blk := block(b[len("prefix"):])
		if !isBlock(blk) {
			t.Fatalf("seed %d: isBlock is false for a block", seed)
		}
		if err := dec.decode(blk); err != nil {
			t.Fatalf("seed %d: decode: %v", seed, err)
		}
		if len(dec.recs) != n {
			t.Fatalf("seed %d: %d records back, want %d", seed, len(dec.recs), n)
		}
		for i := range recs {
			if !bytes.Equal(dec.recs[i], recs[i]) {
				t.Fatalf("seed %d: record %d:\n got %x\nwant %x", seed, i, []byte(dec.recs[i]), []byte(recs[i]))
			}
		}
		// One record alone (Get) gives the same bytes.
		var one blockDecoder
		for _, i := range []int{0, n / 2, n - 1, g.r.IntN(n)} {
			r, err := one.decodeAt(blk, i)
			if err != nil || !bytes.Equal(r, recs[i]) {
				t.Fatalf("seed %d: decodeAt %d: %v:\n got %x\nwant %x", seed, i, err, []byte(r), []byte(recs[i]))
			}
			if rt, err := timeAt(one.cols[colRecordTime], i); err != nil || rt != recs[i].RecordTime() {
				t.Fatalf("seed %d: timeAt %d: %d, %v, want %d", seed, i, rt, err, recs[i].RecordTime())
			}
		}
		if _, err := one.decodeAt(blk, n); err == nil {
			t.Fatalf("seed %d: decodeAt past the block's end", seed)
		}
		h := dec.hdr
		if h.first != first || h.n != n || h.last() != first+uint64(n)-1 {
			t.Fatalf("seed %d: header first %d n %d, want %d %d", seed, h.first, h.n, first, n)
		}
		minT, maxT := recs[0].EventTime(), recs[0].EventTime()
		counts := map[domain.Type]uint32{}
		for _, r := range recs {
			minT, maxT = min(minT, r.EventTime()), max(maxT, r.EventTime())
			counts[r.Type()]++
		}
		if h.minTime != minT || h.maxTime != maxT || h.firstRT != recs[0].RecordTime() || h.lastRT != recs[n-1].RecordTime() {
			t.Fatalf("seed %d: header times %+v", seed, h)
		}
		for _, ty := range domain.Types() {
			if h.count(ty) != counts[ty] {
				t.Fatalf("seed %d: header counts %d of %v, want %d", seed, h.count(ty), ty, counts[ty])
			}
		}
		if len(h.types) != len(counts) {
			t.Fatalf("seed %d: header has %d types, want %d", seed, len(h.types), len(counts))
		}
		// Every record decoded from the block is whole: its event decodes
		// as the original's.
		for i := range recs {
			a, err1 := decodeRecord(recs[i], dictView(g.d.strs))
			b, err2 := decodeRecord(dec.recs[i], dictView(g.d.strs))
			if err1 != nil || err2 != nil || a != b || dec.recs[i].check() != nil {
				t.Fatalf("seed %d: record %d decodes to %v %v / %v %v", seed, i, a, err1, b, err2)
			}
		}
	}
}

// TestBlockEncodeRejects checks that a block refuses what it cannot hold:
// no records, too many, a damaged record, a sequence that overflows.
func TestBlockEncodeRejects(t *testing.T) {
	var enc blockEncoder
	g := newBlockCorpus(1)
	recs := g.records(blockMaxEvents + 1)
	if _, err := enc.appendBlock(nil, 1, nil); err == nil {
		t.Fatal("empty block accepted")
	}
	if _, err := enc.appendBlock(nil, 1, recs); err == nil {
		t.Fatalf("block of %d accepted", len(recs))
	}
	if _, err := enc.appendBlock(nil, 0, recs[:3]); err == nil {
		t.Fatal("block at sequence 0 accepted")
	}
	if _, err := enc.appendBlock(nil, 1<<64-2, recs[:3]); err == nil {
		t.Fatal("block past the last sequence accepted")
	}
	bad := append(Record(nil), recs[2]...)
	bad[len(bad)-1] ^= 1
	if _, err := enc.appendBlock(nil, 1, []Record{recs[0], bad}); err == nil {
		t.Fatal("damaged record accepted")
	}
}

// TestBlockDamage checks that any one damaged byte of a block is found by a
// checking decode, and that a decode without the check never panics on it.
func TestBlockDamage(t *testing.T) {
	var enc blockEncoder
	g := newBlockCorpus(7)
	for _, n := range []int{1, 5, 300} {
		b, err := enc.appendBlock(nil, 10, g.records(n))
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			for _, x := range []byte{1, 0x80, 0xff} {
				bad := append(block(nil), b...)
				bad[i] ^= x
				if err := (&blockDecoder{check: true}).decode(bad); err == nil {
					t.Fatalf("n=%d: byte %d ^ %#x not found", n, i, x)
				}
				_ = (&blockDecoder{}).decode(bad)
			}
		}
		for l := range len(b) {
			if err := (&blockDecoder{}).decode(b[:l]); err == nil {
				t.Fatalf("n=%d: block cut at %d of %d bytes decoded", n, l, len(b))
			}
		}
	}
}

// TestBlockSmallerThanRecords checks the point of blocks on the benchmark
// corpus: a block of complaints takes well under half their records' bytes.
func TestBlockSmallerThanRecords(t *testing.T) {
	recs, d := benchmarkRecords(4096)
	var enc blockEncoder
	var blockBytes, recBytes int
	for i := 0; i < len(recs); i += blockMaxEvents {
		b, err := enc.appendBlock(nil, uint64(i+1), recs[i:i+blockMaxEvents])
		if err != nil {
			t.Fatal(err)
		}
		blockBytes += len(b)
	}
	for _, r := range recs {
		recBytes += len(r)
	}
	if blockBytes*2 > recBytes {
		t.Fatalf("blocks take %d bytes for records of %d", blockBytes, recBytes)
	}
	_ = d
}
