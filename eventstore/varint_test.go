package eventstore

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFastVarint checks fastVarint against binary.Varint: on varints of
// every length with bytes after them, on non-minimal encodings and on
// random bytes, it gives the same value and width, or 0 when it leaves the
// varint to binary.Varint.
func TestFastVarint(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	check := func(p []byte) {
		t.Helper()
		v, w := fastVarint(p)
		if w == 0 {
			if len(p) >= 8 {
				if _, bw := binary.Varint(p); bw > 0 && bw <= 8 {
					t.Fatalf("% x: left a varint of %d bytes", p, bw)
				}
			}
			return
		}
		bv, bw := binary.Varint(p)
		if v != bv || w != bw {
			t.Fatalf("% x: %d (%d bytes), binary.Varint %d (%d bytes)", p, v, w, bv, bw)
		}
	}
	vals := []int64{0, 1, -1, 63, -64, 64, 1 << 20, -(1 << 27), 1<<27 - 1, 1 << 55, -(1 << 55), 1<<55 - 1, math.MaxInt64, math.MinInt64}
	for range 20000 {
		vals = append(vals, r.Int64()>>r.IntN(64))
	}
	for _, v := range vals {
		p := binary.AppendVarint(nil, v)
		for range r.IntN(12) {
			p = append(p, byte(r.Uint32()))
		}
		check(p)
	}
	for range 20000 {
		p := make([]byte, r.IntN(14))
		for i := range p {
			p[i] = byte(r.Uint32())
			if r.IntN(3) > 0 {
				p[i] |= 0x80
			}
		}
		check(p)
	}
	// Non-minimal: a value padded with continuation bytes of zero bits.
	check([]byte{0x81, 0x80, 0x80, 0x00, 0, 0, 0, 0, 0})
	check([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
}
