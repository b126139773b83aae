package eventstore

import (
	"bytes"
	"testing"
)

// FuzzBlock checks that generated records of every shape survive the block
// round trip byte for byte (the whole block, and one record alone), and
// that decoding arbitrary bytes, or a block with bytes of the input laid
// over it, never panics and, when the decode
// checks, never passes damage.
func FuzzBlock(f *testing.F) {
	f.Add(uint64(1), uint16(3), uint16(0), []byte{})
	f.Add(uint64(9), uint16(700), uint16(40), []byte{0xff, 0, 3})
	f.Add(uint64(2), uint16(1), uint16(5), []byte{3, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, seed uint64, n, at uint16, junk []byte) {
		g := newBlockCorpus(seed)
		recs := g.records(1 + int(n)%blockMaxEvents)
		var enc blockEncoder
		b, err := enc.appendBlock(nil, 1+seed>>1, recs)
		if err != nil {
			t.Fatal(err)
		}
		dec := blockDecoder{check: true}
		if err := dec.decode(b); err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			if !bytes.Equal(dec.recs[i], recs[i]) {
				t.Fatalf("record %d changed", i)
			}
		}
		i := int(at) % len(recs)
		if r, err := (&blockDecoder{}).decodeAt(b, i); err != nil || !bytes.Equal(r, recs[i]) {
			t.Fatalf("decodeAt %d: %v", i, err)
		}
		_ = (&blockDecoder{}).decode(block(junk))
		_ = (&blockDecoder{check: true}).decode(block(junk))
		_, _ = (&blockDecoder{}).decodeAt(block(junk), int(n))
		if len(junk) > 0 {
			bad := append(block(nil), b...)
			off := int(at) % len(bad)
			changed := copy(bad[off:], junk) > 0 && !bytes.Equal(bad, b)
			_ = (&blockDecoder{}).decode(bad)
			_, _ = (&blockDecoder{}).decodeAt(bad, i)
			if err := (&blockDecoder{check: true}).decode(bad); err == nil && changed {
				// The checksum may, rarely, match other bytes; they must
				// then still decode to sound records.
				for i, r := range (&blockDecoder{check: true}).recsOf(bad) {
					if r.check() != nil {
						t.Fatalf("record %d of a damaged block passed", i)
					}
				}
			}
		}
	})
}

// recsOf returns the records of b, or nil when it does not decode.
func (d *blockDecoder) recsOf(b block) []Record {
	if d.decode(b) != nil {
		return nil
	}
	return d.recs
}
