package eventstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/plaint/plaint/internal/scrub"
)

// ErrNotErased is returned (wrapped, with where) when a value an erasure
// removed is still found in a file afterwards.
var ErrNotErased = errors.New("erased data is still on disk")

// checkErased searches the log file and its key snapshot for the plan's
// needles that no other data of the log holds (ForgetPlan.Kept), like
// `grep -a`. A hit is explained when events appended since the plan hold
// the value (the customer came back and starts afresh); any other hit is an
// error naming the file, the page and whether the page is in use.
func (l *Log) checkErased(plan *ForgetPlan) error {
	var needles [][]byte
	for i, n := range plan.needles {
		if !plan.kept[i] {
			needles = append(needles, []byte(n))
		}
	}
	if len(needles) == 0 {
		return nil
	}
	files := []string{l.path}
	if _, err := os.Stat(l.keySnapshotPath()); err == nil {
		files = append(files, l.keySnapshotPath())
	}
	var problems []string
	for _, path := range files {
		hits, err := scrub.Find(path, needles)
		if err != nil {
			return err
		}
		for _, h := range hits {
			explained, err := l.heldSince(plan, needles[h.Needle])
			if err != nil {
				return err
			}
			if explained {
				continue
			}
			where := fmt.Sprintf("%s at byte %d", path, h.Offset)
			if path == l.path {
				where += l.pageState(h.Offset)
			}
			problems = append(problems, where)
		}
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
		}
		return fmt.Errorf("%w: %s", ErrNotErased, strings.Join(problems, "; "))
	}
	return nil
}

// heldSince reports whether data added to the log after the plan holds
// needle: a dictionary string other than the erased entry, or a record
// appended after the plan that is not the erasure's.
func (l *Log) heldSince(plan *ForgetPlan, needle []byte) (bool, error) {
	held := false
	err := l.View(func(s *Snapshot) error {
		for id, str := range s.dict {
			if id > 0 && uint32(id) != plan.dictID && strings.Contains(str, string(needle)) {
				held = true
				return nil
			}
		}
		return s.Scan(plan.LastSeq+1, 0, func(seq uint64, r Record) error {
			if r.Dim(FieldCustomer) != plan.dictID && bytes.Contains(r, needle) {
				held = true
				return ErrStop
			}
			return nil
		})
	})
	return held, err
}

// pageState says which page of the log file holds offset and whether that
// page is in use.
func (l *Log) pageState(offset int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	tx, err := l.db.Begin(true) // Tx.Page reads the free list, which only the writer may
	if err != nil {
		return ""
	}
	defer tx.Rollback()
	id := int(offset / int64(l.db.Info().PageSize))
	info, err := tx.Page(id)
	switch {
	case err != nil || info == nil:
		return fmt.Sprintf(" (page %d, beyond the data)", id)
	case info.Type == "free":
		return fmt.Sprintf(" (page %d, free: the scrub missed it)", id)
	default:
		return fmt.Sprintf(" (page %d, in use: a %s page)", id, info.Type)
	}
}
