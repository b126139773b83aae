package eventstore

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// This file is how the log keeps blocks (block.go) in its events bucket
// beside single records: a block is stored under the sequence of its first
// record, a record of format 1 or 2 under its own, and either may follow
// the other (a log written before blocks takes blocks after its records).

// blockSpan returns the first sequence and the count of the block v from
// its header, without decoding it; ok is false when v is not a block.
func blockSpan(v []byte) (first uint64, n int, ok bool) {
	if len(v) < blockHeaderLen || v[4] != formatBlock {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(v[7:]), int(binary.LittleEndian.Uint16(v[5:])), true
}

// valueLast returns the last sequence the value v stored under key k holds.
func valueLast(k, v []byte) uint64 {
	seq := binary.BigEndian.Uint64(k)
	if _, n, ok := blockSpan(v); ok && n > 0 {
		return seq + uint64(n) - 1
	}
	return seq
}

// valueLastRT returns the record time of the last record the value v holds.
func valueLastRT(v []byte) int64 {
	if isBlock(v) {
		if len(v) < blockHeaderLen {
			return 0
		}
		return int64(binary.LittleEndian.Uint64(v[39:]))
	}
	if len(v) < fixedLen {
		return 0
	}
	return Record(v).RecordTime()
}

// seekSeq positions c at the value that holds seq (a record stored under
// seq, or a block whose range covers it) or, when none does, at the first
// value after seq; k is nil when there is none.
func seekSeq(c *bolt.Cursor, seq uint64) (k, v []byte) {
	k, v = c.Seek(seqKey(seq))
	if k != nil && binary.BigEndian.Uint64(k) == seq {
		return k, v
	}
	var pk, pv []byte
	if k == nil {
		pk, pv = c.Last()
	} else {
		pk, pv = c.Prev()
	}
	if pk != nil && isBlock(pv) && binary.BigEndian.Uint64(pk) < seq && valueLast(pk, pv) >= seq {
		return pk, pv
	}
	return c.Seek(seqKey(seq))
}

// decodeStored decodes the block v stored under key k into a fresh buffer of
// d (so that the records stay valid for the transaction, as a record read
// from bbolt does), and checks that it is the block of its key.
func decodeStored(d *blockDecoder, k, v []byte) error {
	d.buf = nil
	seq := binary.BigEndian.Uint64(k)
	if err := d.decode(v); err != nil {
		return fmt.Errorf("%w: block at %d: %v", ErrCorrupt, seq, err)
	}
	if d.hdr.first != seq {
		return fmt.Errorf("%w: block at %d says it starts at %d", ErrCorrupt, seq, d.hdr.first)
	}
	return nil
}

// storedRecord returns the record at seq in the events bucket b, decoding
// it alone from the block that holds it when it is in one; nil when there
// is none.
func storedRecord(b *bolt.Bucket, seq uint64) (Record, error) {
	k, v := seekSeq(b.Cursor(), seq)
	if k == nil {
		return nil, nil
	}
	if !isBlock(v) {
		if binary.BigEndian.Uint64(k) != seq {
			return nil, nil
		}
		return Record(v), nil
	}
	first, n, _ := blockSpan(v)
	if key := binary.BigEndian.Uint64(k); first != key {
		return nil, fmt.Errorf("%w: block at %d says it starts at %d", ErrCorrupt, key, first)
	}
	if seq < first || seq-first >= uint64(n) {
		return nil, nil
	}
	var d blockDecoder
	r, err := d.decodeAt(v, int(seq-first))
	if err != nil {
		return nil, fmt.Errorf("%w: block at %d: %v", ErrCorrupt, first, err)
	}
	return r, nil
}

// recordTimeAt returns the record time of the record at seq, reading a
// block's header or its record time column only; ok is false when there is
// no record.
func recordTimeAt(b *bolt.Bucket, seq uint64) (rt int64, ok bool, err error) {
	k, v := seekSeq(b.Cursor(), seq)
	if k != nil && isBlock(v) {
		var h blockHeader
		var cols [numBlockCols][]byte
		if err := readBlockHeader(v, &h, &cols); err != nil {
			return 0, false, fmt.Errorf("%w: block at %d: %v", ErrCorrupt, binary.BigEndian.Uint64(k), err)
		}
		if key := binary.BigEndian.Uint64(k); h.first != key {
			return 0, false, fmt.Errorf("%w: block at %d says it starts at %d", ErrCorrupt, key, h.first)
		}
		switch {
		case seq < h.first || seq > h.last():
			return 0, false, nil
		case seq == h.first || h.firstRT == h.lastRT:
			return h.firstRT, true, nil
		case seq == h.last():
			return h.lastRT, true, nil
		}
		rt, err := timeAt(cols[colRecordTime], int(seq-h.first))
		if err != nil {
			return 0, false, fmt.Errorf("%w: block at %d: record times: %v", ErrCorrupt, h.first, err)
		}
		return rt, true, nil
	}
	r, err := storedRecord(b, seq)
	if err != nil || len(r) < fixedLen {
		return 0, false, err
	}
	return r.RecordTime(), true, nil
}

// putBlocks stores recs, the first at sequence first, as blocks in tx: the
// first of them extends the log's last block when it has room, so that small
// commits do not make small blocks. It marks the log format 3.
func putBlocks(tx *bolt.Tx, first uint64, recs []Record, enc *blockEncoder, tail *tailBlock) error {
	b := tx.Bucket(bucketEvents)
	if k, v := b.Cursor().Last(); k != nil && isBlock(v) {
		if bf, n, _ := blockSpan(v); n < blockMaxEvents && bf+uint64(n) == first {
			old, ok := tail.records(v)
			if !ok || len(old) != n {
				var d blockDecoder
				if err := decodeStored(&d, k, v); err != nil {
					return err
				}
				old = d.recs
			}
			recs = append(old[:n:n], recs...)
			first = bf
		}
	}
	tail.forget()
	for i := 0; i < len(recs); i += blockMaxEvents {
		// bbolt keeps the value until the commit: each block its own.
		block := recs[i:min(i+blockMaxEvents, len(recs))]
		v, err := enc.appendBlock(nil, first+uint64(i), block)
		if err != nil {
			return fmt.Errorf("block at %d: %w", first+uint64(i), err)
		}
		if err := b.Put(seqKey(first+uint64(i)), v); err != nil {
			return fmt.Errorf("block at %d: %w", first+uint64(i), err)
		}
		if len(block) < blockMaxEvents {
			tail.keep(v, block) // the last block, with room
		}
	}
	m := tx.Bucket(bucketMeta)
	if f := m.Get(metaFormat); len(f) != 1 || f[0] != formatBlock {
		// An older plaint refuses the log instead of calling blocks corrupt.
		if err := m.Put(metaFormat, []byte{formatBlock}); err != nil {
			return fmt.Errorf("format: %w", err)
		}
	}
	return nil
}

// replaceRecord puts r as the record at seq in the events bucket b: in
// place of the record stored under seq, or rewriting the block that holds
// it (an erasure rewrites the blocks it must).
func replaceRecord(b *bolt.Bucket, seq uint64, r Record) error {
	k, v := seekSeq(b.Cursor(), seq)
	if k == nil || !isBlock(v) {
		return b.Put(seqKey(seq), r)
	}
	var d blockDecoder
	if err := decodeStored(&d, k, v); err != nil {
		return err
	}
	i := seq - d.hdr.first
	if seq < d.hdr.first || i >= uint64(d.hdr.n) {
		return fmt.Errorf("record %d is missing", seq)
	}
	d.recs[i] = r
	var enc blockEncoder
	out, err := enc.appendBlock(nil, d.hdr.first, d.recs)
	if err != nil {
		return err
	}
	return b.Put(seqKey(d.hdr.first), out)
}
