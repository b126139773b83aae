package eventstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"slices"

	"github.com/plaint/plaint/domain"
)

// A block (record format 3) holds the records of consecutive sequences in one
// value, column by column, so that it takes about a third of their bytes and
// a scan can skip it by its header (docs/BLOCKS.md). It is a lossless form of
// the records: decoding a block gives back the exact bytes of every record
// (format 1 or 2) it was made of, checksum included, so that everything that
// reads records reads those of a block unchanged.
//
// Layout, little endian:
//
//	0  crc32c of bytes [4:]            4
//	4  format 3                        1
//	5  count n (1..blockMaxEvents)     2
//	7  sequence of the first record    8
//	15 least event time, unix ns       8
//	23 greatest event time             8
//	31 record time of the first record 8
//	39 record time of the last record  8
//	47 type counts: uvarint k, then k × (type byte, uvarint count), by type
//	.. column directory: the byte length of every column but the last (uvarint)
//	.. the columns, in the order of blockCol
//
// A packed column (the record's format, type, schema, flags and severity
// bytes, and the dictionary id of every fixed field) is its block-local
// dictionary — uvarint k, then its k distinct values ascending, the first as
// a uvarint and the others as uvarint deltas — and, when k > 1, each record's
// index into it bit-packed at bits.Len(k-1) bits, least significant first. A
// time column (event time, record time) is a unit byte u, the first time (8
// bytes) and, unless u is 0xff (all times equal), n-1 zigzag varints of the
// difference to the previous time divided by 10^u. The rest column is each
// record's bytes after its fixed header (id, subject, tagged fields), with a
// uvarint length.
type block []byte

const (
	formatBlock     = 3
	blockMaxEvents  = 1024
	blockHeaderLen  = 47
	unitAllEqual    = 0xff
	maxBlockUnitExp = 9
)

// blockCol names a column of a block.
type blockCol uint8

// The columns of a block, in their order.
const (
	colFormat blockCol = iota
	colType
	colSchema
	colFlags
	colSeverity
	colDim0       // the first fixed field (FieldSource); colDim0+Field(f) is f's
	colEventTime  = colDim0 + blockCol(numFixed)
	colRecordTime = colEventTime + 1
	colRest       = colEventTime + 2
	numBlockCols  = colEventTime + 3
)

// packedOffset is the record offset of each byte-sized packed column.
var packedOffset = [colDim0]int{colFormat: 4, colType: 5, colSchema: 6, colFlags: 7, colSeverity: 56}

var pow10 = [maxBlockUnitExp + 1]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// typeCount is how many records of one type a block holds.
type typeCount struct {
	t domain.Type
	n uint32
}

// blockHeader is what a block says of itself before its columns.
type blockHeader struct {
	n                int    // records in the block
	first            uint64 // sequence of the first
	minTime, maxTime int64  // least and greatest event time
	firstRT, lastRT  int64  // record times of the first and last record
	types            []typeCount
}

// last returns the sequence of the block's last record.
func (h *blockHeader) last() uint64 { return h.first + uint64(h.n) - 1 }

// count returns how many records of type t the block holds.
func (h *blockHeader) count(t domain.Type) uint32 {
	for _, tc := range h.types {
		if tc.t == t {
			return tc.n
		}
	}
	return 0
}

// isBlock says whether a value of the events bucket is a block rather than
// a single record (formats 1 and 2 keep their format at the same byte).
func isBlock(v []byte) bool { return len(v) > 4 && v[4] == formatBlock }

// blockEncoder encodes blocks, reusing its buffers from one to the next.
type blockEncoder struct {
	cols     []byte
	ends     [numBlockCols]int
	vals     []uint32
	distinct []uint32
	slots    []blockSlot
	times    []int64
}

// blockSlot is one slot of the encoder's table of distinct values.
type blockSlot struct {
	v, idx uint32
	used   bool
}

// appendBlock appends to dst the block of recs, whose first has sequence
// first. Every record must be sound (its checksum right): a block rebuilds
// the checksums, so it must not take in a damaged one.
func (e *blockEncoder) appendBlock(dst []byte, first uint64, recs []Record) ([]byte, error) {
	n := len(recs)
	if n == 0 || n > blockMaxEvents {
		return dst, fmt.Errorf("block of %d records (1 to %d)", n, blockMaxEvents)
	}
	if first == 0 || first+uint64(n)-1 < first {
		return dst, fmt.Errorf("block at sequence %d of %d records", first, n)
	}
	var types [256]uint32
	minT, maxT := recs[0].EventTime(), recs[0].EventTime()
	for i, r := range recs {
		if err := r.check(); err != nil {
			return dst, fmt.Errorf("record %d of the block: %w", i, err)
		}
		types[r[5]]++
		t := r.EventTime()
		minT, maxT = min(minT, t), max(maxT, t)
	}
	start := len(dst)
	dst = append(dst, make([]byte, blockHeaderLen)...)
	h := dst[start:]
	h[4] = formatBlock
	binary.LittleEndian.PutUint16(h[5:], uint16(n))
	binary.LittleEndian.PutUint64(h[7:], first)
	binary.LittleEndian.PutUint64(h[15:], uint64(minT))
	binary.LittleEndian.PutUint64(h[23:], uint64(maxT))
	binary.LittleEndian.PutUint64(h[31:], uint64(recs[0].RecordTime()))
	binary.LittleEndian.PutUint64(h[39:], uint64(recs[n-1].RecordTime()))
	k := 0
	for _, c := range types {
		if c > 0 {
			k++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(k))
	for t, c := range types {
		if c > 0 {
			dst = binary.AppendUvarint(append(dst, byte(t)), uint64(c))
		}
	}

	e.cols = e.cols[:0]
	e.vals = slices.Grow(e.vals[:0], n)[:n]
	for c := colFormat; c < colEventTime; c++ {
		for i, r := range recs {
			if c < colDim0 {
				e.vals[i] = uint32(r[packedOffset[c]])
			} else {
				e.vals[i] = r.Dim(Field(c - colDim0))
			}
		}
		e.packColumn()
		e.ends[c] = len(e.cols)
	}
	e.times = slices.Grow(e.times[:0], n)[:n]
	for i, r := range recs {
		e.times[i] = r.EventTime()
	}
	e.timeColumn()
	e.ends[colEventTime] = len(e.cols)
	for i, r := range recs {
		e.times[i] = r.RecordTime()
	}
	e.timeColumn()
	e.ends[colRecordTime] = len(e.cols)
	for _, r := range recs {
		e.cols = append(binary.AppendUvarint(e.cols, uint64(len(r)-fixedLen)), r[fixedLen:]...)
	}
	e.ends[colRest] = len(e.cols)

	prev := 0
	for c := range numBlockCols - 1 {
		dst = binary.AppendUvarint(dst, uint64(e.ends[c]-prev))
		prev = e.ends[c]
	}
	dst = append(dst, e.cols...)
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:], castagnoli))
	return dst, nil
}

// packColumn appends e.vals as a packed column.
func (e *blockEncoder) packColumn() {
	vals := e.vals
	allEqual := true
	for _, v := range vals[1:] {
		if v != vals[0] {
			allEqual = false
			break
		}
	}
	if allEqual {
		e.cols = binary.AppendUvarint(append(e.cols, 1), uint64(vals[0]))
		return
	}
	// The distinct values through a small open-addressed table (a block
	// holds at most blockMaxEvents values, the table twice as many slots),
	// then each value's index in their sorted order through the same table.
	if len(e.slots) == 0 {
		e.slots = make([]blockSlot, 2*blockMaxEvents)
	}
	logSize := bits.Len(uint(2*len(vals) - 1))
	slots := e.slots[:1<<logSize]
	clear(slots)
	mask := uint32(len(slots) - 1)
	shift := 32 - logSize
	e.distinct = e.distinct[:0]
	slot := func(v uint32) *blockSlot {
		for i := (v * 0x9e3779b1) >> shift; ; i = (i + 1) & mask {
			if s := &slots[i]; !s.used || s.v == v {
				return s
			}
		}
	}
	for _, v := range vals {
		if s := slot(v); !s.used {
			s.used, s.v = true, v
			e.distinct = append(e.distinct, v)
		}
	}
	d := e.distinct
	slices.Sort(d)
	for i, v := range d {
		slot(v).idx = uint32(i)
	}
	e.cols = binary.AppendUvarint(e.cols, uint64(len(d)))
	var prev uint32
	for _, v := range d {
		e.cols = binary.AppendUvarint(e.cols, uint64(v-prev))
		prev = v
	}
	w := uint(bits.Len(uint(len(d) - 1)))
	var acc uint64
	var have uint
	for _, v := range vals {
		acc |= uint64(slot(v).idx) << have
		have += w
		for have >= 8 {
			e.cols = append(e.cols, byte(acc))
			acc >>= 8
			have -= 8
		}
	}
	if have > 0 {
		e.cols = append(e.cols, byte(acc))
	}
}

// timeColumn appends e.times as a time column.
func (e *blockEncoder) timeColumn() {
	ts := e.times
	exp := maxBlockUnitExp
	allEqual := true
	for i := 1; i < len(ts); i++ {
		d := int64(uint64(ts[i]) - uint64(ts[i-1]))
		if d != 0 {
			allEqual = false
		}
		for exp > 0 && d%pow10[exp] != 0 {
			exp--
		}
	}
	if allEqual {
		exp = unitAllEqual
	}
	e.cols = binary.LittleEndian.AppendUint64(append(e.cols, byte(exp)), uint64(ts[0]))
	if allEqual {
		return
	}
	for i := 1; i < len(ts); i++ {
		d := int64(uint64(ts[i]) - uint64(ts[i-1]))
		e.cols = binary.AppendVarint(e.cols, d/pow10[exp])
	}
}

// readBlockHeader reads a block's header, and returns the columns that
// follow it, each with its bytes.
func readBlockHeader(b block, h *blockHeader, cols *[numBlockCols][]byte) error {
	if len(b) < blockHeaderLen+1 {
		return fmt.Errorf("block is %d bytes, shorter than its header", len(b))
	}
	if b[4] != formatBlock {
		return fmt.Errorf("value of format %d is not a block", b[4])
	}
	h.n = int(binary.LittleEndian.Uint16(b[5:]))
	h.first = binary.LittleEndian.Uint64(b[7:])
	h.minTime = int64(binary.LittleEndian.Uint64(b[15:]))
	h.maxTime = int64(binary.LittleEndian.Uint64(b[23:]))
	h.firstRT = int64(binary.LittleEndian.Uint64(b[31:]))
	h.lastRT = int64(binary.LittleEndian.Uint64(b[39:]))
	if h.n == 0 || h.n > blockMaxEvents {
		return fmt.Errorf("block of %d records (1 to %d)", h.n, blockMaxEvents)
	}
	if h.first == 0 || h.first+uint64(h.n)-1 < h.first {
		return fmt.Errorf("block at sequence %d of %d records", h.first, h.n)
	}
	p := b[blockHeaderLen:]
	k, w := binary.Uvarint(p)
	if w <= 0 || k > 256 {
		return fmt.Errorf("block type counts: bad count")
	}
	p = p[w:]
	h.types = h.types[:0]
	total := uint64(0)
	for i := range int(k) {
		if len(p) < 2 {
			return fmt.Errorf("block type counts: truncated")
		}
		t := domain.Type(p[0])
		c, w := binary.Uvarint(p[1:])
		if w <= 0 || c == 0 || c > uint64(h.n) || i > 0 && t <= h.types[i-1].t {
			return fmt.Errorf("block type counts: bad entry %d", i)
		}
		p = p[1+w:]
		total += c
		h.types = append(h.types, typeCount{t, uint32(c)})
	}
	if total != uint64(h.n) {
		return fmt.Errorf("block type counts add up to %d, not its %d records", total, h.n)
	}
	var lens [numBlockCols - 1]uint64
	for c := range lens {
		l, w := binary.Uvarint(p)
		if w <= 0 {
			return fmt.Errorf("block column directory: truncated")
		}
		lens[c], p = l, p[w:]
	}
	for c, l := range lens {
		if uint64(len(p)) < l {
			return fmt.Errorf("block column %d: %d bytes, past the end", c, l)
		}
		cols[c], p = p[:l:l], p[l:]
	}
	cols[colRest] = p
	return nil
}

// blockDecoder decodes blocks into records, reusing its buffers from one to
// the next. The records of a decoded block are valid until the next decode.
type blockDecoder struct {
	hdr   blockHeader
	cols  [numBlockCols][]byte
	vals  [colEventTime][]uint32
	et    []int64
	rt    []int64
	rest  [][]byte
	buf   []byte
	recs  []Record
	dict  []uint32
	check bool // also verify the block's checksum and header
}

// decode turns b into its records (d.recs, from sequence d.hdr.first).
// It never panics on damaged bytes; without d.check it trusts the checksum
// and the header's time range (a scan reads them; verify checks them).
func (d *blockDecoder) decode(b block) error {
	if err := readBlockHeader(b, &d.hdr, &d.cols); err != nil {
		return err
	}
	if d.check {
		if want, got := binary.LittleEndian.Uint32(b), crc32.Checksum(b[4:], castagnoli); want != got {
			return fmt.Errorf("block checksum mismatch: stored %08x, computed %08x", want, got)
		}
	}
	n := d.hdr.n
	for c := colFormat; c < colEventTime; c++ {
		var err error
		if d.vals[c], err = d.unpack(d.cols[c], n, d.vals[c]); err != nil {
			return fmt.Errorf("block column %d: %w", c, err)
		}
		if c < colDim0 {
			for _, v := range d.vals[c] {
				if v > 0xff {
					return fmt.Errorf("block column %d: value %d is not a byte", c, v)
				}
			}
		}
	}
	var err error
	if d.et, err = readTimes(d.cols[colEventTime], n, d.et); err != nil {
		return fmt.Errorf("block event times: %w", err)
	}
	if d.rt, err = readTimes(d.cols[colRecordTime], n, d.rt); err != nil {
		return fmt.Errorf("block record times: %w", err)
	}
	d.rest = d.rest[:0]
	p := d.cols[colRest]
	size := 0
	for i := range n {
		l, w := binary.Uvarint(p)
		if w <= 0 || uint64(len(p)-w) < l {
			return fmt.Errorf("block record %d: truncated", i)
		}
		d.rest = append(d.rest, p[w:w+int(l)])
		p = p[w+int(l):]
		size += fixedLen + int(l)
	}
	if len(p) != 0 {
		return fmt.Errorf("block: %d bytes after its last record", len(p))
	}
	d.buf = slices.Grow(d.buf[:0], size)[:size]
	d.recs = d.recs[:0]
	off := 0
	for i := range n {
		r := d.buf[off : off+fixedLen+len(d.rest[i]) : off+fixedLen+len(d.rest[i])]
		off += len(r)
		var v [colEventTime]uint32
		for c := range v {
			v[c] = d.vals[c][i]
		}
		assembleRecord(r, &v, d.et[i], d.rt[i], d.rest[i])
		d.recs = append(d.recs, Record(r))
	}
	if d.check {
		return d.checkHeader()
	}
	return nil
}

// assembleRecord writes into r (fixedLen+len(rest) bytes) the record of the
// packed column values v, the times et and rt and the rest of its bytes,
// and its checksum.
func assembleRecord(r []byte, v *[colEventTime]uint32, et, rt int64, rest []byte) {
	for c := colFormat; c < colDim0; c++ {
		r[packedOffset[c]] = byte(v[c])
	}
	binary.LittleEndian.PutUint64(r[8:], uint64(et))
	binary.LittleEndian.PutUint64(r[16:], uint64(rt))
	for f := range numFixed {
		binary.LittleEndian.PutUint32(r[24+4*int(f):], v[colDim0+blockCol(f)])
	}
	copy(r[fixedLen:], rest)
	binary.LittleEndian.PutUint32(r, crc32.Checksum(r[4:], castagnoli))
}

// decodeAt decodes record i of block b alone, into a new buffer: a read of
// one record (Get) does not decode the block's other records. Like decode
// without d.check, it trusts the checksum, and never panics.
func (d *blockDecoder) decodeAt(b block, i int) (Record, error) {
	if err := readBlockHeader(b, &d.hdr, &d.cols); err != nil {
		return nil, err
	}
	n := d.hdr.n
	if i < 0 || i >= n {
		return nil, fmt.Errorf("record %d of a block of %d", i, n)
	}
	var v [colEventTime]uint32
	for c := colFormat; c < colEventTime; c++ {
		x, err := unpackAt(d.cols[c], n, i)
		if err != nil {
			return nil, fmt.Errorf("block column %d: %w", c, err)
		}
		if c < colDim0 && x > 0xff {
			return nil, fmt.Errorf("block column %d: value %d is not a byte", c, x)
		}
		v[c] = x
	}
	et, err := timeAt(d.cols[colEventTime], i)
	if err != nil {
		return nil, fmt.Errorf("block event times: %w", err)
	}
	rt, err := timeAt(d.cols[colRecordTime], i)
	if err != nil {
		return nil, fmt.Errorf("block record times: %w", err)
	}
	p := d.cols[colRest]
	var rest []byte
	for j := 0; j <= i; j++ {
		l, w := binary.Uvarint(p)
		if w <= 0 || uint64(len(p)-w) < l {
			return nil, fmt.Errorf("block record %d: truncated", j)
		}
		rest, p = p[w:w+int(l)], p[w+int(l):]
	}
	r := make([]byte, fixedLen+len(rest))
	assembleRecord(r, &v, et, rt, rest)
	return Record(r), nil
}

// checkHeader checks that the header of the decoded block says what its
// columns hold.
func (d *blockDecoder) checkHeader() error {
	h := &d.hdr
	var types [256]uint32
	minT, maxT := d.et[0], d.et[0]
	for i, t := range d.vals[colType] {
		types[t]++
		minT, maxT = min(minT, d.et[i]), max(maxT, d.et[i])
	}
	for _, tc := range h.types {
		if types[tc.t] != tc.n {
			return fmt.Errorf("block header counts %d records of type %d, its columns %d", tc.n, tc.t, types[tc.t])
		}
	}
	if minT != h.minTime || maxT != h.maxTime {
		return fmt.Errorf("block header gives event times %d..%d, its records %d..%d", h.minTime, h.maxTime, minT, maxT)
	}
	if d.rt[0] != h.firstRT || d.rt[h.n-1] != h.lastRT {
		return fmt.Errorf("block header gives record times %d..%d, its records %d..%d", h.firstRT, h.lastRT, d.rt[0], d.rt[h.n-1])
	}
	return nil
}

// unpack reads a packed column of n values into dst.
func (d *blockDecoder) unpack(p []byte, n int, dst []uint32) ([]uint32, error) {
	dst = slices.Grow(dst[:0], n)[:n]
	k, w := binary.Uvarint(p)
	if w <= 0 || k == 0 || k > uint64(n) {
		return dst, fmt.Errorf("bad dictionary size")
	}
	p = p[w:]
	d.dict = d.dict[:0]
	var v uint64
	for i := range int(k) {
		dv, w := binary.Uvarint(p)
		if w <= 0 || i > 0 && dv == 0 {
			return dst, fmt.Errorf("bad dictionary entry %d", i)
		}
		if v += dv; v > 1<<32-1 {
			return dst, fmt.Errorf("dictionary entry %d overflows", i)
		}
		p = p[w:]
		d.dict = append(d.dict, uint32(v))
	}
	if k == 1 {
		if len(p) != 0 {
			return dst, fmt.Errorf("%d bytes after a single value", len(p))
		}
		for i := range dst {
			dst[i] = d.dict[0]
		}
		return dst, nil
	}
	width := uint(bits.Len(uint(k - 1)))
	if want := (uint(n)*width + 7) / 8; uint(len(p)) != want {
		return dst, fmt.Errorf("%d bytes of indexes, want %d", len(p), want)
	}
	mask := uint64(1)<<width - 1
	var acc uint64
	var have uint
	for i := range dst {
		for have < width {
			acc |= uint64(p[0]) << have
			p = p[1:]
			have += 8
		}
		idx := acc & mask
		acc >>= width
		have -= width
		if idx >= k {
			return dst, fmt.Errorf("index %d past the %d values", idx, k)
		}
		dst[i] = d.dict[idx]
	}
	return dst, nil
}

// unpackAt returns value i of a packed column of n values. It reads the
// column's dictionary up to the value's entry only.
func unpackAt(p []byte, n, i int) (uint32, error) {
	k, w := binary.Uvarint(p)
	if w <= 0 || k == 0 || k > uint64(n) {
		return 0, fmt.Errorf("bad dictionary size")
	}
	p = p[w:]
	// The indexes follow the k uvarints of the dictionary.
	end, seen, run := 0, uint64(0), 0
	for seen < k {
		if end == len(p) || run == binary.MaxVarintLen64 {
			return 0, fmt.Errorf("bad dictionary entry %d", seen)
		}
		if run++; p[end] < 0x80 {
			seen, run = seen+1, 0
		}
		end++
	}
	dict, idx := p[:end], uint64(0)
	if k > 1 {
		width := uint(bits.Len(uint(k - 1)))
		q := p[end:]
		if want := (uint(n)*width + 7) / 8; uint(len(q)) != want {
			return 0, fmt.Errorf("%d bytes of indexes, want %d", len(q), want)
		}
		// The index's bits start at bit i*width; width <= 10, so they
		// span at most 3 bytes.
		bit := uint(i) * width
		var acc uint64
		for j, b := range q[bit/8 : min(bit/8+3, uint(len(q)))] {
			acc |= uint64(b) << (8 * uint(j))
		}
		if idx = acc >> (bit % 8) & (1<<width - 1); idx >= k {
			return 0, fmt.Errorf("index %d past the %d values", idx, k)
		}
	}
	var v uint64
	for j := range idx + 1 {
		dv, w := binary.Uvarint(dict)
		if w <= 0 || j > 0 && dv == 0 {
			return 0, fmt.Errorf("bad dictionary entry %d", j)
		}
		if v += dv; v > 1<<32-1 {
			return 0, fmt.Errorf("dictionary entry %d overflows", j)
		}
		dict = dict[w:]
	}
	return uint32(v), nil
}

// timeAt returns time i of a time column.
func timeAt(p []byte, i int) (int64, error) {
	if len(p) < 9 {
		return 0, fmt.Errorf("truncated")
	}
	u := p[0]
	t := int64(binary.LittleEndian.Uint64(p[1:]))
	if u == unitAllEqual || i == 0 {
		return t, nil
	}
	if u > maxBlockUnitExp {
		return 0, fmt.Errorf("unit 10^%d", u)
	}
	p = p[9:]
	for j := 1; j <= i; j++ {
		q, w := binary.Varint(p)
		if w <= 0 {
			return 0, fmt.Errorf("truncated at %d", j)
		}
		p = p[w:]
		t = int64(uint64(t) + uint64(q*pow10[u]))
	}
	return t, nil
}

// readTimes reads a time column of n times into dst.
func readTimes(p []byte, n int, dst []int64) ([]int64, error) {
	dst = slices.Grow(dst[:0], n)[:n]
	if len(p) < 9 {
		return dst, fmt.Errorf("truncated")
	}
	u := p[0]
	t := int64(binary.LittleEndian.Uint64(p[1:]))
	p = p[9:]
	if u == unitAllEqual {
		if len(p) != 0 {
			return dst, fmt.Errorf("%d bytes after equal times", len(p))
		}
		for i := range dst {
			dst[i] = t
		}
		return dst, nil
	}
	if u > maxBlockUnitExp {
		return dst, fmt.Errorf("unit 10^%d", u)
	}
	dst[0] = t
	m := pow10[u]
	for i := 1; i < n; i++ {
		q, w := fastVarint(p)
		if w <= 0 {
			if q, w = binary.Varint(p); w <= 0 {
				return dst, fmt.Errorf("truncated at %d", i)
			}
		}
		p = p[w:]
		t = int64(uint64(t) + uint64(q*m))
		dst[i] = t
	}
	if len(p) != 0 {
		return dst, fmt.Errorf("%d bytes after the last time", len(p))
	}
	return dst, nil
}

// fastVarint decodes the zigzag varint at the start of p as binary.Varint
// does when it is at most 8 bytes and 8 bytes of p can be read: from one
// 64-bit load, without a loop. Otherwise it returns w 0, and the caller
// reads the varint with binary.Varint.
func fastVarint(p []byte) (v int64, w int) {
	if len(p) < 8 {
		return 0, 0
	}
	x := binary.LittleEndian.Uint64(p)
	stop := ^x & 0x8080808080808080 // the high bit of each byte that ends a varint
	if stop == 0 {
		return 0, 0
	}
	w = bits.TrailingZeros64(stop)/8 + 1
	x &= 0x7f7f7f7f7f7f7f7f >> (64 - 8*uint(w))
	// Gather the 7-bit groups: pairs into 14 bits, then 28, then 56.
	x = x&0x007f007f007f007f | x&0x7f007f007f007f00>>1
	x = x&0x00003fff00003fff | x&0x3fff00003fff0000>>2
	x = x&0x000000000fffffff | x&0x0fffffff00000000>>4
	return int64(x>>1) ^ -int64(x&1), w
}
