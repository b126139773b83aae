package eventstore

import (
	"testing"
	"time"

	"github.com/plaint/plaint/internal/benchenv"
)

// benchmarkRecords returns n records of the synthetic complaints of
// BenchmarkBytesPerEvent (benchenv.Complaints), stamped with a record time
// that advances once every 800 events, as group commits of the drain do.
func benchmarkRecords(n int) ([]Record, *mapDict) {
	g := benchenv.NewComplaints(1)
	d := &mapDict{ids: map[string]uint32{}, strs: []string{""}}
	rt := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	recs := make([]Record, n)
	var buf []byte
	for i := range recs {
		if i%800 == 0 {
			rt += int64(3 * time.Millisecond)
		}
		ev := g.Next()
		start := len(buf)
		buf = encodeRecord(buf, &ev, rt, d)
		recs[i] = Record(buf[start:len(buf):len(buf)])
	}
	return recs, d
}

// BenchmarkBlockCodec measures the block codec alone on the synthetic
// complaints of BenchmarkBytesPerEvent, in blocks of blockMaxEvents: the
// bytes an event takes as a format-2 record and inside a block (values
// only, without bbolt's key and page overhead), and the time to encode and
// to decode back to records, per event. PLAINT_BENCH_EVENTS sets the events
// (default 200k).
func BenchmarkBlockCodec(b *testing.B) {
	n := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 200_000)
	n -= n % blockMaxEvents
	if n == 0 {
		n = blockMaxEvents
	}
	recs, _ := benchmarkRecords(n)
	recBytes := 0
	for _, r := range recs {
		recBytes += len(r)
	}
	var enc blockEncoder
	var blocks [][]byte
	b.ResetTimer()
	for range b.N {
		blocks = blocks[:0]
		start := time.Now()
		for i := 0; i < n; i += blockMaxEvents {
			v, err := enc.appendBlock(nil, uint64(i+1), recs[i:i+blockMaxEvents])
			if err != nil {
				b.Fatal(err)
			}
			blocks = append(blocks, v)
		}
		encode := time.Since(start)
		var dec blockDecoder
		start = time.Now()
		for _, v := range blocks {
			if err := dec.decode(v); err != nil {
				b.Fatal(err)
			}
		}
		decode := time.Since(start)
		blockBytes := 0
		for _, v := range blocks {
			blockBytes += len(v)
		}
		b.ReportMetric(float64(recBytes)/float64(n), "record_bytes/event")
		b.ReportMetric(float64(blockBytes)/float64(n), "block_bytes/event")
		b.ReportMetric(float64(encode.Nanoseconds())/float64(n), "encode_ns/event")
		b.ReportMetric(float64(decode.Nanoseconds())/float64(n), "decode_ns/event")
		b.ReportMetric(0, "ns/op")
	}
}
