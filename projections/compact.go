package projections

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A bbolt file never shrinks: the pages a dropped projection held are
// reused by later writes but stay in the file. When free pages make up at
// least half the file and compactMinFree, the state is copied into a new
// file (bolt.Compact: only live data, densely) that replaces the old one.
const compactMinFree = 4 << 20

// stateOptions are the bbolt options of the state file.
var stateOptions = &bolt.Options{Timeout: 500 * time.Millisecond, FreelistType: bolt.FreelistMapType}

// withDB runs fn with the state file, under the lock that compaction takes
// to replace it; without a state file it does nothing. fn must not call
// withDB again.
func (e *Engine) withDB(fn func(db *bolt.DB) error) error {
	e.dbMu.RLock()
	defer e.dbMu.RUnlock()
	if e.db == nil {
		return nil
	}
	return fn(e.db)
}

// compactState compacts the state file when free pages make up most of it,
// and returns its sizes before and after (equal when it was left alone).
func (e *Engine) compactState() (before, after int64, err error) {
	e.dbMu.Lock()
	defer e.dbMu.Unlock()
	if e.db == nil {
		return 0, 0, nil
	}
	fi, err := os.Stat(e.statePath)
	if err != nil {
		return 0, 0, fmt.Errorf("compact projection state: %w", err)
	}
	before, after = fi.Size(), fi.Size()
	st := e.db.Stats()
	free := int64(st.FreeAlloc)
	if free < compactMinFree || free*2 < before {
		return before, after, nil
	}
	tmp := e.statePath + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType, NoSync: true})
	if err != nil {
		return before, after, fmt.Errorf("compact projection state: %w", err)
	}
	err = bolt.Compact(dst, e.db, 64<<20)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return before, after, fmt.Errorf("compact projection state: %w", err)
	}
	// Swap: close the old file, put the new one in its place, reopen.
	if err := e.db.Close(); err != nil {
		_ = os.Remove(tmp)
		return before, after, fmt.Errorf("compact projection state: %w", err)
	}
	e.db = nil
	if err := os.Rename(tmp, e.statePath); err != nil {
		_ = os.Remove(tmp)
	} else if d, err := os.Open(filepath.Dir(e.statePath)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	db, err := bolt.Open(e.statePath, 0o600, stateOptions)
	if err != nil {
		// Projections keep serving from memory; nothing is saved until a
		// restart reopens the file.
		return before, after, fmt.Errorf("reopen projection state after compaction (nothing is saved until a restart): %w", err)
	}
	e.db = db
	if fi, err := os.Stat(e.statePath); err == nil {
		after = fi.Size()
	}
	return before, after, nil
}

// release compacts the state file if a drop left it mostly free, and hands
// the memory the dropped state held back to the operating system.
func (e *Engine) release() {
	before, after, err := e.compactState()
	switch {
	case err != nil:
		e.o.logger.Error("compacting the projection state failed", "err", err)
	case after < before:
		e.o.logger.Info("projection state compacted", "path", e.statePath, "bytes_before", before, "bytes_after", after)
	}
	debug.FreeOSMemory()
}
