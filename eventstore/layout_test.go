package eventstore

import (
	"fmt"
	"os"
	"testing"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// TestHelperBlockLayout prints where the bytes of the log file at
// PLAINT_BLOCK_LAYOUT go (it does nothing without it): the pages of each
// bucket, the bytes of each column of the blocks, and how many file pages
// hold the part of the blocks a column scan reads (header to record time
// column) against all the pages of block values. BENCHMARKS.md (issue 14,
// the cold build) and docs/BLOCKS.md quote it.
func TestHelperBlockLayout(t *testing.T) {
	path := os.Getenv("PLAINT_BLOCK_LAYOUT")
	if path == "" {
		return
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base, ps := db.Info().Data, uintptr(db.Info().PageSize)
	err = db.View(func(tx *bolt.Tx) error {
		fmt.Printf("file %d bytes, %d pages of %d\n", tx.Size(), tx.Size()/int64(ps), ps)
		if err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			s := b.Stats()
			fmt.Printf("bucket %-14s keys %9d  leaf pages %6d + overflow %6d  leaf bytes in use %11d of %11d  branch pages %4d\n",
				name, s.KeyN, s.LeafPageN, s.LeafOverflowN, s.LeafInuse, s.LeafAlloc, s.BranchPageN)
			return nil
		}); err != nil {
			return err
		}
		b := tx.Bucket(bucketEvents)
		if b == nil {
			return nil
		}
		var h blockHeader
		var cols [numBlockCols][]byte
		var colBytes [numBlockCols]int64
		var blocks, events, values, headers int64
		all, hot := map[uintptr]bool{}, map[uintptr]bool{}
		off := func(p []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(p))) - base }
		mark := func(m map[uintptr]bool, lo, hi uintptr) {
			for p := lo / ps; lo < hi && p <= (hi-1)/ps; p++ {
				m[p] = true
			}
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !isBlock(v) {
				continue
			}
			if err := readBlockHeader(v, &h, &cols); err != nil {
				return fmt.Errorf("block at %x: %w", k, err)
			}
			blocks++
			events += int64(h.n)
			values += int64(len(v))
			headers += int64(off(cols[0]) - off(v))
			for i := range cols {
				colBytes[i] += int64(len(cols[i]))
			}
			mark(all, off(v), off(v)+uintptr(len(v)))
			mark(hot, off(v), off(cols[colRecordTime])+uintptr(len(cols[colRecordTime])))
		}
		if events == 0 {
			fmt.Println("no blocks")
			return nil
		}
		fmt.Printf("blocks %d, events %d, block values %d bytes (%.2f an event), headers %d\n",
			blocks, events, values, float64(values)/float64(events), headers)
		names := [numBlockCols]string{colFormat: "format", colType: "type", colSchema: "schema", colFlags: "flags",
			colSeverity: "severity", colEventTime: "event time", colRecordTime: "record time", colRest: "rest"}
		for f, n := range [numFixed]string{"source", "customer", "category", "segment", "channel", "root_cause", "product", "region"} {
			names[colDim0+blockCol(f)] = n
		}
		for i, n := range colBytes {
			fmt.Printf("  column %-12s %11d bytes  %5.2f an event  %4.1f%%\n", names[i], n, float64(n)/float64(events), 100*float64(n)/float64(values))
		}
		fmt.Printf("pages of block values %d (%.1f MB); of them holding header to record time (what a column scan reads) %d (%.1f MB)\n",
			len(all), float64(len(all)*int(ps))/1e6, len(hot), float64(len(hot)*int(ps))/1e6)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
