// Package scrub erases what deleted data leaves behind in a bbolt file, and
// searches files for byte strings that must be gone.
//
// bbolt never overwrites a page in place: a transaction that changes a page
// writes a new copy and frees the old one, which keeps its bytes until a
// later transaction reuses it. So after a value is deleted or rewritten,
// its old bytes stay in the file's free pages, and a copy of the file
// (bbolt's Tx.WriteTo, plaint's backups) carries them along. FreePages
// overwrites every free page with zeros.
//
// A freed page is first "pending": a read transaction that began before
// the freeing transaction committed may still read it. bbolt moves pending
// pages to the free list at the start of a write transaction once no such
// reader is left, and its Tx.Page reports both pending and free pages as
// "free". So FreePages zeroes pages only inside a write transaction that
// began with no page pending: it first runs an empty write transaction,
// whose close records the pending count in DB.Stats, and then begins the
// scrubbing transaction; if that one's id is the empty one's, no write
// transaction committed in between and nothing can have become pending.
// While it holds the write lock no transaction can reuse a free page, and
// readers that begin meanwhile see the newest meta page, from which no free
// page is reachable.
package scrub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configures FreePages.
type Options struct {
	// MaxHold bounds how long bbolt's write lock (and Lock) is held at a
	// time; the scrub goes on in further transactions. Default 100ms.
	MaxHold time.Duration
	// Wait bounds how long FreePages waits for read transactions that may
	// still read pending pages (a backup being streamed, say). Default 5m.
	Wait time.Duration
	// Lock, if set, is held with each write transaction, so that the
	// owner's own writers (which take it before bbolt's lock) wait instead
	// of committing between the two transactions of a step.
	Lock sync.Locker
}

func (o *Options) setDefaults() {
	o.MaxHold = cmp.Or(o.MaxHold, 100*time.Millisecond)
	o.Wait = cmp.Or(o.Wait, 5*time.Minute)
}

// Report says what FreePages did.
type Report struct {
	Pages   int           `json:"pages"`    // free pages overwritten with zeros
	Steps   int           `json:"steps"`    // write transactions it took
	Waited  time.Duration `json:"waited"`   // time spent waiting for old readers
	MaxHold time.Duration `json:"max_hold"` // longest hold of the write lock
}

// ErrReaders is returned (wrapped) by FreePages when read transactions kept
// pages pending for longer than Options.Wait.
var ErrReaders = errors.New("read transactions keep freed pages in use")

// FreePages overwrites every free page of db with zeros, through its own
// handle on the file, in write transactions of at most MaxHold each, and
// syncs the file.
func FreePages(ctx context.Context, db *bolt.DB, o Options) (Report, error) {
	o.setDefaults()
	var rep Report
	f, err := os.OpenFile(db.Path(), os.O_WRONLY, 0)
	if err != nil {
		return rep, fmt.Errorf("scrub %s: %w", db.Path(), err)
	}
	defer f.Close()
	pageSize := int64(db.Info().PageSize)
	zeros := make([]byte, 256*pageSize)
	next := 2 // pages 0 and 1 are the meta pages
	for {
		done, err := step(ctx, db, f, &next, pageSize, zeros, &o, &rep)
		if err != nil {
			return rep, fmt.Errorf("scrub %s: %w", db.Path(), err)
		}
		if done {
			break
		}
	}
	if err := f.Sync(); err != nil {
		return rep, fmt.Errorf("scrub %s: %w", db.Path(), err)
	}
	return rep, nil
}

// step zeroes the free pages from *next on for at most o.MaxHold. It
// reports whether it reached the end of the file.
func step(ctx context.Context, db *bolt.DB, f *os.File, next *int, pageSize int64, zeros []byte, o *Options, rep *Report) (bool, error) {
	tx, held, err := beginClean(ctx, db, o, rep)
	if err != nil {
		return false, err
	}
	defer func() {
		_ = tx.Rollback()
		o.unlock()
		rep.MaxHold = max(rep.MaxHold, time.Since(held))
	}()
	deadline := held.Add(o.MaxHold)
	size := tx.Size() / pageSize // the high-water mark: pages beyond were never written
	run, runStart := 0, 0        // consecutive free pages not yet written
	flush := func() error {
		for run > 0 {
			n := min(run, len(zeros)/int(pageSize))
			if _, err := f.WriteAt(zeros[:int64(n)*pageSize], int64(runStart)*pageSize); err != nil {
				return err
			}
			rep.Pages += n
			runStart += n
			run -= n
		}
		return nil
	}
	first := *next
	for ; int64(*next) < size; *next++ {
		if *next-first >= 1024 && *next%1024 == 0 && time.Now().After(deadline) {
			return false, flush()
		}
		info, err := tx.Page(*next)
		if err != nil {
			return false, err
		}
		if info == nil {
			break
		}
		if info.Type == "free" {
			if run == 0 {
				runStart = *next
			}
			run++
			continue
		}
		if err := flush(); err != nil {
			return false, err
		}
		*next += info.OverflowCount // the rest of a page in use
	}
	return true, flush()
}

// beginClean takes o.Lock and begins a write transaction with no page
// pending, waiting for old readers to finish, and returns it with the time
// the lock was taken; the caller rolls it back and unlocks. While it waits
// it holds the lock at most o.MaxHold at a time.
func beginClean(ctx context.Context, db *bolt.DB, o *Options, rep *Report) (*bolt.Tx, time.Time, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, time.Time{}, err
		}
		if o.Lock != nil {
			o.Lock.Lock()
		}
		held := time.Now()
		for time.Since(held) < o.MaxHold {
			empty, err := db.Begin(true)
			if err != nil {
				o.unlock()
				return nil, held, err
			}
			id := empty.ID()
			_ = empty.Rollback() // its close records the pending pages left after releasing
			if db.Stats().PendingPageN == 0 {
				tx, err := db.Begin(true)
				if err != nil {
					o.unlock()
					return nil, held, err
				}
				if tx.ID() == id {
					rep.Steps++
					return tx, held, nil
				}
				_ = tx.Rollback() // a transaction committed in between: again
			}
			time.Sleep(time.Millisecond) // old readers are finishing
		}
		o.unlock()
		rep.MaxHold = max(rep.MaxHold, time.Since(held))
		// Let the writers go on for a while before trying again.
		w := time.Now()
		select {
		case <-ctx.Done():
			return nil, held, ctx.Err()
		case <-time.After(o.MaxHold):
		}
		rep.Waited += time.Since(w) + o.MaxHold
		if rep.Waited > o.Wait {
			return nil, held, fmt.Errorf("%w for over %s (is a backup being copied?)", ErrReaders, o.Wait)
		}
	}
}

func (o *Options) unlock() {
	if o.Lock != nil {
		o.Lock.Unlock()
	}
}
