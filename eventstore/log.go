// Package eventstore is plaint's append-only event log, kept in a bbolt file.
//
// Every event gets a global sequence number (1, 2, 3...), a record time and a
// checksum. (source, id) is deduplicated permanently: appending an event whose
// identity was ever stored returns it as a duplicate and stores nothing.
// Appends are transactional: Append returns only after the bbolt transaction
// holding the batch has been committed and fsynced.
package eventstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/plaint/plaint/domain"
)

var (
	bucketEvents  = []byte("events")
	bucketDict    = []byte("dict")
	bucketDictIDs = []byte("dict_ids")
	bucketMeta    = []byte("meta")

	metaFormat       = []byte("format")
	metaDuplicates   = []byte("duplicates")
	metaDeadLettered = []byte("dead_lettered")
	metaFirstTime    = []byte("first_event_time")
	metaLastTime     = []byte("last_event_time")
	metaTypePrefix   = "count/"
)

// Log is the append-only event log. It is safe for concurrent use: appends
// are serialised, reads run in their own read transactions.
type Log struct {
	db   *bolt.DB
	path string
	opts options
	id   string // the log's identity (see ID)

	forgetMu sync.Mutex // serialises erasures (forget.go)

	mu   sync.Mutex // serialises appends and guards the fields below
	keys *keySet
	// keysFromSnapshot is the position of the key snapshot loaded at open
	// (0: the set was rebuilt from the whole log); keysNote says how the
	// set was loaded (KeysLoaded).
	keysFromSnapshot uint64
	keysNote         string
	// check is the page check of the open (see pagecheck.go).
	check    *pageCheck
	lastRT   int64
	counters counters
	enc      blockEncoder // the appender's, when it writes blocks
	tail     tailBlock    // the appender's copy of the last block (putBlocks)
	scratch  appendScratch

	dict    *dict
	last    atomic.Uint64
	closed  atomic.Bool
	changed atomic.Pointer[chan struct{}]
	ahead   atomic.Pointer[readAhead] // the PrefetchScan under way, if any
}

// counters are the running totals kept in the meta bucket.
type counters struct {
	byType       [256]uint64
	duplicates   uint64
	deadLettered uint64
	firstTime    int64
	lastTime     int64
}

// Open opens (creating if needed and writable) the log at path. A writable
// open rebuilds the deduplication index from the log, which takes about a
// second per few million events, and checks every page of the file with
// bbolt's consistency check meanwhile, so that a server never starts on a
// damaged file.
//
// A file that is not a sound log is an error wrapping ErrCorrupt that says
// what was found: both meta pages damaged, a file cut inside its pages, a
// damaged page (bbolt's panics on it are recovered). An existing file of 0
// bytes is ErrEmpty (unless WithInitEmpty), never silently a new log.
func Open(path string, opts ...Option) (*Log, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if o.readOnly {
			return nil, fmt.Errorf("open log %s: %w", path, ErrNotExist)
		}
	case err != nil:
		return nil, fmt.Errorf("open log %s: %w", path, err)
	case fi.IsDir():
		return nil, fmt.Errorf("open log %s: it is a directory, not a log file", path)
	case fi.Size() == 0 && (o.readOnly || !o.initEmpty):
		return nil, fmt.Errorf("open log %s: %w", path, ErrEmpty)
	default:
		if err := checkCut(path, fi.Size()); err != nil {
			return nil, fmt.Errorf("open log %s: %w", path, err)
		}
	}
	var db *bolt.DB
	err = guard("open", func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:         o.lockTimeout,
			ReadOnly:        o.readOnly,
			NoSync:          o.noSync,
			InitialMmapSize: o.mmapSize,
			FreelistType:    bolt.FreelistMapType,
		})
		return err
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open log %s: %w", path, ErrLocked)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, fmt.Errorf("open log %s: %w: both meta pages (pages 0 and 1, at the start of the file) are damaged: %v",
			path, ErrCorrupt, err)
	case err != nil:
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l := &Log{db: db, path: path, opts: o, dict: newDict(), check: doneCheck()}
	ch := make(chan struct{})
	l.changed.Store(&ch)
	if err := l.init(); err != nil {
		err = l.openError(err)
		db.Close()
		if l.keys != nil {
			l.keys.release()
		}
		return nil, err
	}
	return l, nil
}

// openError says that opening the log failed with err, naming the first
// damaged page when the log is corrupt.
func (l *Log) openError(err error) error {
	if IsCorrupt(err) {
		if loc := l.locate(); loc != "" && !strings.Contains(err.Error(), loc) {
			err = fmt.Errorf("%w (%s)", err, loc)
		}
	}
	return fmt.Errorf("open log %s: %w", l.path, err)
}

// locate names the first damaged page it finds (see locateDamage), "" when
// it finds none.
func (l *Log) locate() string {
	var loc string
	_ = guard("locate", func() error {
		return l.db.View(func(tx *bolt.Tx) error {
			ps := tx.DB().Info().PageSize
			loc = locateDamage(l.path, ps, uint64(tx.Size())/uint64(ps))
			return nil
		})
	})
	return loc
}

// checkPages runs bbolt's consistency check of every page (Tx.Check) and
// returns the first problems it found as an error wrapping ErrCorrupt.
func (l *Log) checkPages() error {
	return guard("page check", func() error {
		return l.db.View(func(tx *bolt.Tx) error {
			var problems []string
			n := 0
			for err := range tx.Check() {
				if n++; n <= 5 {
					problems = append(problems, err.Error())
				}
			}
			if n > 0 {
				where := ""
				ps := tx.DB().Info().PageSize
				if loc := locateDamage(l.path, ps, uint64(tx.Size())/uint64(ps)); loc != "" {
					where = " (" + loc + ")"
				}
				return fmt.Errorf("%w: bbolt's page check found %d problem(s)%s: %s", ErrCorrupt, n, where, strings.Join(problems, "; "))
			}
			return nil
		})
	})
}

func (l *Log) init() error {
	// A writable open reads the log and its key snapshot ahead from the
	// start when they are cold, and maps and checks the snapshot while it
	// reads the dictionary: the dictionary's pages lie all over the file,
	// and read by their faults alone they took 110-180 ms of a cold open
	// of the 10M benchmark log, before anything else. The page check, once
	// started, ends the log's read (readAhead).
	readAhead := make(chan struct{})
	checking, taken := false, false
	var snap chan *keySnap
	if !l.opts.readOnly {
		keysAhead := l.prefetchOpen(readAhead)
		snap = make(chan *keySnap, 1)
		go func() { snap <- readKeySnapshot(l.keySnapshotPath(), keysAhead) }()
		defer func() {
			if !checking {
				close(readAhead)
			}
			// A snapshot that loadKeys did not take is given back.
			if !taken {
				if ks := <-snap; ks.file != nil {
					ks.file.release()
				}
			}
		}()
		err := guard("create buckets", func() error {
			return l.db.Update(func(tx *bolt.Tx) error {
				for _, b := range [][]byte{bucketEvents, bucketDict, bucketDictIDs, bucketMeta, bucketStreamSeqs, bucketStreamDups, bucketDeadLetters} {
					if _, err := tx.CreateBucketIfNotExists(b); err != nil {
						return err
					}
				}
				// The log's format is that of the newest records it may
				// hold: a format-1 log opened for writing becomes format 2
				// (its old records stay as they are), so that an older
				// plaint refuses it instead of calling new records corrupt.
				m := tx.Bucket(bucketMeta)
				if f := m.Get(metaFormat); f == nil || len(f) == 1 && f[0] == formatV1 {
					if err := m.Put(metaFormat, []byte{formatVersion}); err != nil {
						return err
					}
				}
				return l.ensureID(tx)
			})
		})
		if err != nil {
			return err
		}
	}
	err := guard("dictionary and counters", func() error { return l.db.View(l.readState) })
	if err != nil || l.opts.readOnly {
		return err
	}
	// The page check runs beside the key loading, on another core. After
	// a clean stop (the keys come from their snapshot) it starts once they
	// are loaded, so that it does not compete with them for the cores, and
	// goes on in the background while the log is already read (see
	// pagecheck.go). A cold log is read ahead from the start, beside the
	// snapshot's own read: the disk serves the two reads together faster
	// than one after the other.
	var check *pageCheck
	startCheck := func() { check, checking = l.startPageCheck(readAhead), true }
	taken = true
	keysErr := l.loadKeys(<-snap, startCheck)
	if check == nil {
		startCheck()
	}
	if keysErr != nil || l.keysFromSnapshot == 0 {
		if err := check.wait(); err != nil {
			return err
		}
	}
	if keysErr != nil {
		return keysErr
	}
	l.check = check
	return l.scrubIfPending()
}

// readState reads the dictionary, the position and the counters.
func (l *Log) readState(tx *bolt.Tx) error {
	ev := tx.Bucket(bucketEvents)
	if ev == nil {
		return nil // a read-only open of an empty, new file
	}
	if f := tx.Bucket(bucketMeta).Get(metaFormat); len(f) != 1 || (f[0] != formatBlock && f[0] != formatVersion && f[0] != formatV1) {
		return fmt.Errorf("%w: unsupported log format %v (this plaint reads formats 1, 2 and 3)", ErrCorrupt, f)
	}
	// Dictionary, sized up front from its last id (ids are dense).
	c := tx.Bucket(bucketDictIDs).Cursor()
	n := 0
	if k, _ := c.Last(); len(k) == 4 {
		n = int(binary.BigEndian.Uint32(k))
	}
	strs := make([]string, 1, n+1)
	l.dict.ids = make(map[string]uint32, n)
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if id := binary.BigEndian.Uint32(k); int(id) != len(strs) {
			return fmt.Errorf("%w: dictionary id %d out of order (expected %d)", ErrCorrupt, id, len(strs))
		}
		s := string(v)
		strs = append(strs, s)
		l.dict.ids[s] = uint32(len(strs) - 1)
	}
	l.dict.strs.Store(&strs)
	// Position and counters.
	if k, v := ev.Cursor().Last(); k != nil {
		l.last.Store(valueLast(k, v))
		l.lastRT = valueLastRT(v)
	}
	l.counters = readCounters(tx.Bucket(bucketMeta))
	l.id = readID(tx.Bucket(bucketMeta))
	return nil
}

// loadKeys loads the deduplication set from its snapshot ks (read by
// readKeySnapshot), or else rebuilds it from the log (calling rebuilding
// first): the file is read ahead sequentially when cold, the records are
// hashed by one worker per core, each over its own part of the log, and
// the set is sized up front.
func (l *Log) loadKeys(ks *keySnap, rebuilding func()) error {
	l.keys = &keySet{}
	last := l.last.Load()
	if last == 0 {
		if ks.file != nil {
			ks.file.release()
		}
		return nil
	}
	set, seq, err := l.keySetOf(ks)
	switch {
	case err == nil:
		l.keysNote = fmt.Sprintf("from the key snapshot at %d, and %d records after it", seq, last-seq)
	case errors.Is(err, os.ErrNotExist):
		l.keysNote = "rebuilt from the log: there was no key snapshot beside it (a clean stop writes one)"
	default:
		l.keysNote = fmt.Sprintf("rebuilt from the log: the key snapshot %s could not be used (%v)", l.keySnapshotPath(), err)
	}
	if err == nil {
		// The snapshot holds the keys up to seq; hash the records after it.
		l.keys, l.keysFromSnapshot = set, seq
		return l.View(func(s *Snapshot) error {
			var buf []byte
			return s.Scan(seq+1, last, func(seq uint64, r Record) error {
				k, b, err := recordKey(r, s.dict, buf)
				if err != nil {
					return fmt.Errorf("%w: record %d: %v", ErrCorrupt, seq, err)
				}
				buf = b
				l.keys.add(k)
				return nil
			})
		})
	}
	rebuilding()
	stop := make(chan struct{})
	defer close(stop)
	l.Prefetch(stop)
	l.keys.reserve(int(last))
	workers := runtime.GOMAXPROCS(0)
	if last < 100_000 {
		workers = 1
	}
	const chunk = 32 << 10
	keys := make(chan []eventKey, 2*workers)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo := 1 + last*uint64(w)/uint64(workers)
		hi := last * uint64(w+1) / uint64(workers)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- l.View(func(s *Snapshot) error {
				var buf []byte
				out := make([]eventKey, 0, chunk)
				err := s.Scan(lo, hi, func(seq uint64, r Record) error {
					if len(r) < fixedLen {
						return fmt.Errorf("%w: record %d is truncated", ErrCorrupt, seq)
					}
					var k eventKey
					var err error
					if k, buf, err = recordKey(r, s.dict, buf); err != nil {
						return fmt.Errorf("%w: record %d: %v", ErrCorrupt, seq, err)
					}
					if out = append(out, k); len(out) == chunk {
						keys <- out
						out = make([]eventKey, 0, chunk)
					}
					return nil
				})
				keys <- out
				return err
			})
		}()
	}
	go func() { wg.Wait(); close(keys) }()
	for ks := range keys {
		for _, k := range ks {
			l.keys.add(k)
		}
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func readCounters(m *bolt.Bucket) counters {
	var c counters
	get := func(k []byte) uint64 {
		if v := m.Get(k); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
		return 0
	}
	for _, t := range domain.Types() {
		c.byType[t] = get([]byte(metaTypePrefix + t.String()))
	}
	c.duplicates = get(metaDuplicates)
	c.deadLettered = get(metaDeadLettered)
	c.firstTime = int64(get(metaFirstTime))
	c.lastTime = int64(get(metaLastTime))
	return c
}

func (c *counters) write(m *bolt.Bucket) error {
	put := func(k []byte, v uint64) error {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], v)
		return m.Put(k, b[:])
	}
	for _, t := range domain.Types() {
		if err := put([]byte(metaTypePrefix+t.String()), c.byType[t]); err != nil {
			return err
		}
	}
	if err := put(metaDuplicates, c.duplicates); err != nil {
		return err
	}
	if err := put(metaDeadLettered, c.deadLettered); err != nil {
		return err
	}
	if err := put(metaFirstTime, uint64(c.firstTime)); err != nil {
		return err
	}
	return put(metaLastTime, uint64(c.lastTime))
}

// Path returns the file the log is stored in.
func (l *Log) Path() string { return l.path }

// LastSeq returns the sequence of the last committed event, 0 when empty.
func (l *Log) LastSeq() uint64 { return l.last.Load() }

// Changed returns a channel that is closed at the next commit that changes the
// log. Followers wait on it instead of polling.
func (l *Log) Changed() <-chan struct{} { return *l.changed.Load() }

func (l *Log) notify() {
	ch := make(chan struct{})
	old := l.changed.Swap(&ch)
	close(*old)
}

// Close closes the log. Appends in progress finish first. The dedupe key
// snapshot is written first; when that fails (a full disk, say) the log is
// still closed and sound, and Close returns ErrKeySnapshot with the cause:
// the next open rebuilds the set from the log, which is always right but
// slower.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil
	}
	var snapErr error
	checkErr := l.check.wait() // the check's read transaction ends before the file closes
	if !l.opts.readOnly && checkErr == nil {
		if err := l.saveKeySnapshot(); err != nil {
			snapErr = fmt.Errorf("close log: %w (the next start rebuilds the dedupe set from the log): %w", ErrKeySnapshot, err)
		}
	}
	l.closed.Store(true)
	if l.keys != nil {
		l.keys.release()
	}
	if err := l.db.Close(); err != nil {
		return errors.Join(fmt.Errorf("close log: %w", err), snapErr)
	}
	return snapErr
}

// Sync forces the file to disk; appends already do this unless WithNoSync.
func (l *Log) Sync() error { return l.db.Sync() }

func timeFromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// KeysLoaded says how a writable open loaded the deduplication set: from
// the key snapshot a clean stop wrote (and at which position), or rebuilt
// from the whole log, with the reason the snapshot was not used; "" for a
// read-only open or an empty log. A rebuild of a large log takes seconds,
// so a server says it when it starts.
func (l *Log) KeysLoaded() string { return l.keysNote }
