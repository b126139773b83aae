package eventstore

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// bbolt's page layout, as written on disk (little endian): a 16-byte header
// (id uint64, flags uint16, count uint16, overflow uint32), then for a
// branch page count elements of 16 bytes (pos uint32, ksize uint32, pgid
// uint64), pos counted from the element's own start.
const (
	pageHeaderSize  = 16
	branchElemSize  = 16
	branchPageFlag  = 0x01
	leafPageFlag    = 0x02
	metaPageFlag    = 0x04
	freelistPageFlg = 0x10
)

// locateDamage reads the pages of a file below its high-water mark (hwm
// pages of pageSize bytes) and returns where the first damage is: a page
// whose header names another page or no known type, or a branch page whose
// elements point outside the page or past the high-water mark. It names
// the page, for reports of a check that bbolt could only answer with a
// panic. It returns "" when it finds nothing.
func locateDamage(path string, pageSize int, hwm uint64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, pageSize)
	for id := uint64(2); id < hwm; {
		if _, err := f.ReadAt(buf, int64(id)*int64(pageSize)); err != nil && err != io.EOF {
			return fmt.Sprintf("page %d cannot be read: %v", id, err)
		}
		pid := binary.LittleEndian.Uint64(buf)
		flags := binary.LittleEndian.Uint16(buf[8:])
		count := int(binary.LittleEndian.Uint16(buf[10:]))
		overflow := uint64(binary.LittleEndian.Uint32(buf[12:]))
		if pid != id {
			// Free pages and the continuation of a page's overflow keep
			// whatever they held; only a page that says what it is counts.
			id++
			continue
		}
		switch flags {
		case branchPageFlag:
			size := int(1+overflow) * pageSize
			if pageHeaderSize+count*branchElemSize > size {
				return fmt.Sprintf("page %d (a branch page) says it has %d elements, more than fit in it", id, count)
			}
			page := buf
			if overflow > 0 {
				page = make([]byte, size)
				if _, err := f.ReadAt(page, int64(id)*int64(pageSize)); err != nil && err != io.EOF {
					return fmt.Sprintf("page %d cannot be read: %v", id, err)
				}
			}
			for i := range count {
				off := pageHeaderSize + i*branchElemSize
				pos := int(binary.LittleEndian.Uint32(page[off:]))
				ksize := int(binary.LittleEndian.Uint32(page[off+4:]))
				child := binary.LittleEndian.Uint64(page[off+8:])
				if off+pos+ksize > size || pos < 0 {
					return fmt.Sprintf("page %d (a branch page): element %d's key lies outside the page", id, i)
				}
				if child < 2 || child >= hwm {
					return fmt.Sprintf("page %d (a branch page): element %d points to page %d, outside the file's pages 2 to %d", id, i, child, hwm-1)
				}
			}
		case leafPageFlag, metaPageFlag, freelistPageFlg:
		default:
			return fmt.Sprintf("page %d has an unknown page type %#x", id, flags)
		}
		id += 1 + overflow
	}
	return ""
}

// metaMagic marks a bbolt meta page.
const metaMagic = 0xED0CDAED

// checkCut reads the file's two meta pages (the one with the higher
// transaction id wins, as in bbolt) and fails when the file is shorter than
// the pages that meta says are in use: it was cut (a copy that stopped
// early, a full disk). It runs before bbolt opens the file, which would
// otherwise fault on the missing pages. Damaged meta pages are left to
// bbolt to report.
func checkCut(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var best struct {
		txid, pgid uint64
		pageSize   uint32
		ok         bool
	}
	// The first meta page is at 0; the second one page size further, and
	// the page size is in the first (or, when it is damaged, guessed).
	var hdr [96]byte
	offsets := []int64{0}
	if _, err := f.ReadAt(hdr[:], 0); err == nil && binary.LittleEndian.Uint32(hdr[16:]) == metaMagic {
		offsets = append(offsets, int64(binary.LittleEndian.Uint32(hdr[24:])))
	} else {
		offsets = append(offsets, int64(os.Getpagesize()))
	}
	for _, off := range offsets {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			continue
		}
		m := hdr[16:]
		if binary.LittleEndian.Uint32(m) != metaMagic {
			continue
		}
		pageSize := binary.LittleEndian.Uint32(m[8:])
		pgid := binary.LittleEndian.Uint64(m[40:])
		txid := binary.LittleEndian.Uint64(m[48:])
		if !best.ok || txid > best.txid {
			best.txid, best.pgid, best.pageSize, best.ok = txid, pgid, pageSize, true
		}
	}
	if !best.ok || best.pageSize == 0 {
		return nil
	}
	if used := int64(best.pgid) * int64(best.pageSize); size < used {
		return fmt.Errorf("%w: the file is %d bytes but its pages reach to byte %d: it was cut short at page %d of %d",
			ErrCorrupt, size, used, size/int64(best.pageSize), best.pgid)
	}
	return nil
}
