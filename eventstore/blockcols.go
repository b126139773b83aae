package eventstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/plaint/plaint/domain"
)

// Columns is a run of consecutive records of one block read column by
// column, for folds that use a few fields of many records (see
// Snapshot.ScanBlocks): element i of each slice is the record at First+i.
// Only the columns asked for are decoded. It is valid until the callback it
// was given to returns.
type Columns struct {
	First       uint64
	Types       []uint32 // the domain.Type of each record
	Schemas     []uint32
	Severities  []uint32 // only when asked for
	EventTimes  []int64
	RecordTimes []int64
	dims        [numFixed][]uint32

	d    *blockDecoder
	lazy bool          // RecordTimes is nil until LoadRecordTimes (ScanBlocksLazy)
	full *blockDecoder // the whole block, once Record was called
	key  []byte
	v    block
	skip int // the block's records before First
	dict dictView
	tail bool // d holds the format, flags and rest columns (see Optional)
}

// Len returns the number of records.
func (c *Columns) Len() int { return len(c.Types) }

// RecordTimeRange returns the record times of the first and the last record
// of the whole block (its header says so). Record times never go backwards
// in a log (Append keeps them so, Verify reports a log where they do), so
// every record time of the block lies between the two.
func (c *Columns) RecordTimeRange() (first, last int64) { return c.d.hdr.firstRT, c.d.hdr.lastRT }

// LoadRecordTimes returns RecordTimes, decoding the block's record time
// column first when the scan left it (ScanBlocksLazy).
func (c *Columns) LoadRecordTimes() ([]int64, error) {
	if c.RecordTimes != nil || !c.lazy {
		return c.RecordTimes, nil
	}
	if err := c.d.decodeRecordTimes(); err != nil {
		return nil, err
	}
	c.RecordTimes = c.d.rt[c.skip : c.skip+c.Len()]
	return c.RecordTimes, nil
}

// Dim returns the dictionary ids of field f (asked for), one per record.
func (c *Columns) Dim(f Field) []uint32 { return c.dims[f] }

// Record returns record i whole, for the rare record a fold must decode
// (one of an older schema, say); it decodes the block once.
func (c *Columns) Record(i int) (Record, error) {
	if c.full == nil {
		c.full = &blockDecoder{}
		if err := decodeStored(c.full, c.key, c.v); err != nil {
			c.full = nil
			return nil, err
		}
	}
	return c.full.recs[c.skip+i], nil
}

// Optional returns the optional fields of record i, as Snapshot.Optional
// does of the record, without assembling the record: the first call of a
// block decodes its format and flags columns and splits its rest column.
// Optional.ComplaintID is valid for the transaction, as Snapshot.Optional's.
func (c *Columns) Optional(i int) (Optional, error) {
	if !c.tail {
		if err := c.d.decodeTail(); err != nil {
			return Optional{}, fmt.Errorf("%w: block at %d: %v", ErrCorrupt, c.d.hdr.first, err)
		}
		c.tail = true
	}
	j := c.skip + i
	o, err := readOptionalTail(byte(c.d.vals[colFormat][j]), byte(c.d.vals[colFlags][j]), c.d.rest[j], c.dict)
	if err != nil {
		return o, fmt.Errorf("record %d: %w", c.First+uint64(i), err)
	}
	return o, nil
}

// ID returns the event id of record i, as Record.ID does, without
// assembling the record (the first call of a block, or of Optional, decodes
// its format and flags columns and splits its rest column).
func (c *Columns) ID(i int) (string, error) {
	if !c.tail {
		if err := c.d.decodeTail(); err != nil {
			return "", fmt.Errorf("%w: block at %d: %v", ErrCorrupt, c.d.hdr.first, err)
		}
		c.tail = true
	}
	j := c.skip + i
	id, _, err := readEventID(byte(c.d.vals[colFlags][j]), c.d.rest[j])
	if err != nil {
		return "", fmt.Errorf("record %d: id: %w", c.First+uint64(i), err)
	}
	return id, nil
}

// AppendID appends the event id of record i, as ID returns it, to dst,
// without a string of its own: a scan that keeps the ids of many records
// of a block makes one string of them all.
func (c *Columns) AppendID(dst []byte, i int) ([]byte, error) {
	if !c.tail {
		if err := c.d.decodeTail(); err != nil {
			return dst, fmt.Errorf("%w: block at %d: %v", ErrCorrupt, c.d.hdr.first, err)
		}
		c.tail = true
	}
	j := c.skip + i
	out, err := appendEventID(dst, byte(c.d.vals[colFlags][j]), c.d.rest[j])
	if err != nil {
		return dst, fmt.Errorf("record %d: id: %w", c.First+uint64(i), err)
	}
	return out, nil
}

// decodeTail decodes, of the block whose columns decodeColumns read, the
// format and flags columns into d.vals and the rest column into d.rest.
func (d *blockDecoder) decodeTail() error {
	n := d.hdr.n
	for _, c := range [...]blockCol{colFormat, colFlags} {
		var err error
		if d.vals[c], err = d.unpack(d.cols[c], n, d.vals[c]); err != nil {
			return fmt.Errorf("column %d: %v", c, err)
		}
		for _, x := range d.vals[c] {
			if x > 0xff {
				return fmt.Errorf("column %d: value %d is not a byte", c, x)
			}
		}
	}
	d.rest = d.rest[:0]
	p := d.cols[colRest]
	for i := range n {
		l, w := binary.Uvarint(p)
		if w <= 0 || uint64(len(p)-w) < l {
			return fmt.Errorf("record %d: truncated", i)
		}
		d.rest = append(d.rest, p[w:w+int(l):w+int(l)])
		p = p[w+int(l):]
	}
	if len(p) != 0 {
		return fmt.Errorf("%d bytes after its last record", len(p))
	}
	return nil
}

// Count returns how many records of type t the whole block holds (its
// header says so, without decoding it).
func (c *Columns) Count(t domain.Type) uint32 { return c.d.hdr.count(t) }

// Whole says whether the run is its whole block (a scan's first and last
// block may be cut by its range).
func (c *Columns) Whole() bool { return c.Len() == c.d.hdr.n }

// AnyType says whether the whole block holds a record of a type for which
// pred is true (its header says so).
func (c *Columns) AnyType(pred func(domain.Type) bool) bool {
	for _, tc := range c.d.hdr.types {
		if pred(tc.t) {
			return true
		}
	}
	return false
}

// EventTimeRange returns the least and greatest event time of the whole
// block (its header says so).
func (c *Columns) EventTimeRange() (least, greatest int64) { return c.d.hdr.minTime, c.d.hdr.maxTime }

// ScanBlocks is Scan for folds that read columns: in log order, it calls
// block for the records from..to that the log keeps in blocks, once per
// block, with the type, schema, event time and record time columns decoded
// and those of fields (and severity when asked), and record for each
// record it keeps alone (formats 1 and 2). to == 0 means the end of the
// snapshot. Either may return ErrStop to end early.
func (s *Snapshot) ScanBlocks(from, to uint64, fields []Field, severity bool, block func(*Columns) error, record func(seq uint64, r Record) error) error {
	return s.scanBlocks(from, to, fields, severity, false, block, record)
}

// ScanBlocksLazy is ScanBlocks for folds that seldom need record times: it
// leaves a block's record time column undecoded (Columns.RecordTimes nil)
// until the block callback calls Columns.LoadRecordTimes, which a fold may
// skip when the block's RecordTimeRange tells it enough.
func (s *Snapshot) ScanBlocksLazy(from, to uint64, fields []Field, severity bool, block func(*Columns) error, record func(seq uint64, r Record) error) error {
	return s.scanBlocks(from, to, fields, severity, true, block, record)
}

// scanBlocks is ScanBlocks, or ScanBlocksLazy when lazy.
func (s *Snapshot) scanBlocks(from, to uint64, fields []Field, severity, lazy bool, block func(*Columns) error, record func(seq uint64, r Record) error) error {
	from, to, ok := s.span(from, to)
	if !ok {
		return nil
	}
	// Only a long scan keeps behind the read-ahead: a short one (a live
	// projection folding the last commits, near the end of the file) would
	// otherwise wait for a build's read-ahead to reach the end.
	follow := to-from+1 >= behindMin
	var want [colEventTime]bool
	want[colType], want[colSchema], want[colSeverity] = true, true, severity
	for _, f := range fields {
		want[colDim0+blockCol(f)] = true
	}
	var d blockDecoder
	var cols Columns
	c := s.tx.Bucket(bucketEvents).Cursor()
	for k, v := seekSeq(c, from); k != nil; k, v = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		if seq > to {
			break
		}
		var err error
		if !isBlock(v) {
			err = record(seq, Record(v))
		} else {
			if err := d.decodeColumns(k, v, &want, !lazy); err != nil {
				return err
			}
			lo, hi := max(from, seq)-seq, min(to, d.hdr.last())-seq+1
			cols = Columns{First: seq + lo, Types: d.vals[colType][lo:hi], Schemas: d.vals[colSchema][lo:hi],
				EventTimes: d.et[lo:hi], d: &d, lazy: lazy, key: k, v: v, skip: int(lo), dict: s.dict}
			if !lazy {
				cols.RecordTimes = d.rt[lo:hi]
			}
			if severity {
				cols.Severities = d.vals[colSeverity][lo:hi]
			}
			for _, f := range fields {
				cols.dims[f] = d.vals[colDim0+blockCol(f)][lo:hi]
			}
			err = block(&cols)
			if follow {
				s.behind(v) // before the cursor moves to the next value
			}
		}
		if err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// decodeColumns decodes, of the block v stored under key k, the event time
// column, the record time column when rt, and the packed columns of want
// only, into d.vals, d.et and d.rt.
func (d *blockDecoder) decodeColumns(k []byte, v block, want *[colEventTime]bool, rt bool) error {
	seq := binary.BigEndian.Uint64(k)
	if err := readBlockHeader(v, &d.hdr, &d.cols); err != nil {
		return fmt.Errorf("%w: block at %d: %v", ErrCorrupt, seq, err)
	}
	if d.hdr.first != seq {
		return fmt.Errorf("%w: block at %d says it starts at %d", ErrCorrupt, seq, d.hdr.first)
	}
	n := d.hdr.n
	for c := colFormat; c < colEventTime; c++ {
		if !want[c] {
			continue
		}
		var err error
		if d.vals[c], err = d.unpack(d.cols[c], n, d.vals[c]); err != nil {
			return fmt.Errorf("%w: block at %d: column %d: %v", ErrCorrupt, seq, c, err)
		}
		if c < colDim0 {
			for _, x := range d.vals[c] {
				if x > 0xff {
					return fmt.Errorf("%w: block at %d: column %d: value %d is not a byte", ErrCorrupt, seq, c, x)
				}
			}
		}
	}
	var err error
	if d.et, err = readTimes(d.cols[colEventTime], n, d.et); err != nil {
		return fmt.Errorf("%w: block at %d: event times: %v", ErrCorrupt, seq, err)
	}
	if rt {
		return d.decodeRecordTimes()
	}
	return nil
}

// decodeRecordTimes decodes, of the block whose columns decodeColumns read,
// the record time column into d.rt.
func (d *blockDecoder) decodeRecordTimes() error {
	var err error
	if d.rt, err = readTimes(d.cols[colRecordTime], d.hdr.n, d.rt); err != nil {
		return fmt.Errorf("%w: block at %d: record times: %v", ErrCorrupt, d.hdr.first, err)
	}
	return nil
}
