// Package projections is plaint's projection engine: named, versioned folds
// over the event log whose state and checkpoint are kept in their own bbolt
// file, caught up before every answer, rebuilt from the start of the log
// when their definition changes, and replayable byte for byte. It holds the
// built-in month-over-month trends and analysts' spec projections.
package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/plaint/plaint/domain"
)

var (
	bucketMeta  = []byte("meta")
	bucketState = []byte("state")
)

// nextSuffix marks the stored replacement of a projection being rebuilt.
const nextSuffix = "#next"

// Engine runs projections over one event log. It is safe for concurrent use.
type Engine struct {
	log Log
	// db is the state file (nil: state is kept in memory only). Compaction
	// replaces it: use it through withDB, or hold dbMu.
	db        *bolt.DB
	dbMu      sync.RWMutex
	statePath string
	o         options

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	projs map[string]*projection // serving, by name
	next  map[string]*projection // replacements being built, by name

	hooks    hooks         // advance hooks (OnAdvance)
	asOf     asOfCache     // answers to "as of" questions
	computed atomic.Uint64 // live trend answers computed (not served from cache)
}

// projection is one named fold and its position in the log.
type projection struct {
	name string
	def  *Definition
	key  string // canonical definition

	cancel context.CancelFunc // stops its build

	mu   sync.Mutex // guards the fields below
	f    Fold
	kind *Kind
	// savedAs is the key f's entries were last saved under (EntryState):
	// "" when f was never saved or its last save failed, so that the next
	// save writes all of them.
	savedAs   string
	cp        uint64 // checkpoint: the last sequence folded
	built     bool   // has caught up with the log at least once
	isNext    bool   // a replacement being built, saved under name+nextSuffix
	dropped   bool   // dropped or superseded: never saved again
	dirty     bool   // advanced since last saved
	savedAt   time.Time
	createdAt time.Time

	answers answerCache[*TrendResult] // a trend's answers (read only)

	ready     chan struct{} // closed once built (or failed)
	readyOnce sync.Once
	err       atomic.Pointer[error]

	// cpPub and builtPub publish cp and built for status readers, who must
	// not wait for a build holding mu.
	cpPub    atomic.Uint64
	builtPub atomic.Bool

	memPub   atomic.Int64 // estimated bytes of the state, published with cp
	lastUsed atomic.Int64 // Unix ns of the last question (trend caches)

	building   atomic.Bool
	buildFrom  atomic.Uint64 // checkpoint the build started from
	buildSeen  atomic.Uint64 // records read by the build
	buildTotal atomic.Uint64 // sequence the build is heading for
	buildStart atomic.Int64  // Unix ns
}

// pub publishes cp and built; p.mu must be held.
func (p *projection) pub() {
	p.cpPub.Store(p.cp)
	p.builtPub.Store(p.built)
	p.memPub.Store(memBytes(p.f))
}

// retire cancels p's build and keeps it from being saved again.
func (p *projection) retire() {
	if p.cancel != nil {
		p.cancel()
	}
	p.mu.Lock()
	p.dropped = true
	p.mu.Unlock()
}

func (p *projection) markReady() { p.readyOnce.Do(func() { close(p.ready) }) }

func (p *projection) fail(err error) {
	p.err.Store(&err)
	p.markReady()
}

func (p *projection) failure() error {
	if e := p.err.Load(); e != nil {
		return *e
	}
	return nil
}

// meta is a projection's saved description.
type meta struct {
	Name       string      `json:"name"`
	Def        *Definition `json:"def"`
	Checkpoint uint64      `json:"checkpoint"`
	CheckCRC   uint32      `json:"check_crc"` // checksum of the record at Checkpoint
	Built      bool        `json:"built"`
	Created    time.Time   `json:"created"`
}

// Open starts an engine over log, keeping projection state in the bbolt file
// statePath (created when missing). An empty statePath keeps everything in
// memory, for offline commands. Projections found in the file are loaded and
// interrupted builds resume from their checkpoints in the background.
func Open(log Log, statePath string, opts ...Option) (*Engine, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	e := &Engine{log: log, o: o, projs: map[string]*projection{}, next: map[string]*projection{}}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if statePath == "" {
		return e, nil
	}
	db, err := bolt.Open(statePath, 0o600, stateOptions)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf("projection state %s is in use by another process", statePath)}
	}
	if err != nil {
		return nil, fmt.Errorf("open projection state %s: %w", statePath, err)
	}
	e.db, e.statePath = db, statePath
	if err := e.discardIfErased(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open projection state %s: %w", statePath, err)
	}
	if err := e.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open projection state %s: %w", statePath, err)
	}
	// A file left mostly free (by drops before a crash, or by trend caches
	// an older version saved) is compacted now.
	if before, after, err := e.compactState(); err != nil {
		e.o.logger.Error("compacting the projection state failed", "err", err)
	} else if after < before {
		e.o.logger.Info("projection state compacted", "path", statePath, "bytes_before", before, "bytes_after", after)
	}
	return e, nil
}

// load reads every saved projection and resumes what needs building.
func (e *Engine) load() error {
	type saved struct {
		m     meta
		state []byte
	}
	var all []saved
	err := e.db.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		sb, err := tx.CreateBucketIfNotExists(bucketState)
		if err != nil {
			return err
		}
		return mb.ForEach(func(k, v []byte) error {
			var s saved
			if err := json.Unmarshal(v, &s.m); err != nil {
				return fmt.Errorf("projection %s: %w", k, err)
			}
			s.m.Name = string(k)
			s.state = append([]byte(nil), sb.Get(k)...)
			all = append(all, s)
			return nil
		})
	})
	if err != nil {
		return err
	}
	var start []*projection
	var stale []string
	for _, s := range all {
		name, isNext := strings.CutSuffix(s.m.Name, nextSuffix)
		if s.m.Def != nil && s.m.Def.Kind == kindTrend {
			// Saved by a version that kept trends for ever; now a cache.
			stale = append(stale, s.m.Name)
			continue
		}
		p, err := e.newProjection(name, s.m.Def)
		if err != nil {
			e.o.logger.Error("dropping a projection that cannot be loaded", "projection", s.m.Name, "err", err)
			continue
		}
		p.createdAt = s.m.Created
		stale := s.m.Def.Version != codeVersion(s.m.Def.Kind)
		if s.m.Checkpoint > 0 && e.checkpointValid(s.m.Checkpoint, s.m.CheckCRC) {
			if err := e.loadState(p, s.m.Name, s.state); err == nil {
				p.cp, p.built = s.m.Checkpoint, s.m.Built
				p.pub()
			} else {
				e.o.logger.Warn("rebuilding a projection whose state cannot be read", "projection", s.m.Name, "err", err)
				if f, err := e.newFold(p.def); err == nil {
					p.setFold(f)
				}
			}
		}
		if stale && !isNext {
			// Built by other code: serve it (if it loaded) while a current
			// version builds beside it.
			def := *s.m.Def
			def.Version = codeVersion(def.Kind)
			nx, err := e.newProjection(name, &def)
			if err != nil {
				return err
			}
			nx.createdAt, nx.isNext = p.createdAt, true
			e.next[name] = nx
			start = append(start, nx)
			if !p.built {
				continue
			}
		}
		switch {
		case isNext:
			p.isNext = true
			e.next[name] = p
		default:
			e.projs[name] = p
		}
		if p.built {
			p.markReady()
		} else {
			start = append(start, p)
		}
	}
	if err := e.deleteSaved(stale...); err != nil {
		return err
	}
	for _, p := range start {
		e.startBuild(p)
	}
	return nil
}

// loadState loads the state saved under name into p's fold: from its
// entries when it was saved by entries, else from the state saved whole (by
// its kind, or by an earlier version of a kind now saved by entries: the
// next save then writes all its entries).
func (e *Engine) loadState(p *projection, name string, state []byte) error {
	if string(state) != string(incrementalMarker) {
		ws, ok := p.f.(interface{ UnmarshalState([]byte) error })
		if !ok {
			return fmt.Errorf("state saved whole, but %s folds are saved by entries", p.def.Kind)
		}
		return ws.UnmarshalState(state)
	}
	es, ok := p.f.(EntryState)
	if !ok {
		return fmt.Errorf("state saved by entries, but %s folds are not", p.def.Kind)
	}
	err := e.withDB(func(db *bolt.DB) error {
		return db.View(func(tx *bolt.Tx) error { return loadIncremental(tx, es, []byte(name)) })
	})
	if err == nil {
		p.savedAs = name
	}
	return err
}

// checkpointValid reports whether the log still holds, at seq, the record
// the checkpoint was taken at (it may have been replaced by another log).
func (e *Engine) checkpointValid(seq uint64, crc uint32) bool {
	sum, err := e.log.RecordSum(seq)
	return err == nil && sum == crc
}

// env is what the engine gives kinds' New.
func (e *Engine) env() Env { return Env{MaxGroups: e.o.maxGroups, e: e} }

func (e *Engine) newProjection(name string, def *Definition) (*projection, error) {
	f, k, err := def.newFold(e.env())
	if err != nil {
		return nil, err
	}
	return &projection{name: name, def: def, key: def.canonical(), f: f, kind: k, ready: make(chan struct{}), createdAt: time.Now().UTC()}, nil
}

// setFold puts f, a new state, in p's place; p.mu must be held.
func (p *projection) setFold(f Fold) {
	p.f, p.savedAs = f, ""
}

// startBuild folds the log into p in the background until it has caught up.
func (e *Engine) startBuild(p *projection) {
	ctx, cancel := context.WithCancel(e.ctx)
	p.cancel = cancel
	p.building.Store(true)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer cancel()
		err := e.build(ctx, p)
		p.building.Store(false)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return // closed or dropped; resumes from its checkpoint on next open
		default:
			e.o.logger.Error("projection build failed", "projection", p.name, "err", err)
			p.mu.Lock()
			e.failLocked(p, err)
			p.mu.Unlock()
			return
		}
		p.markReady()
		e.promote(p)
	}()
}

// build folds the log into p chunk by chunk, saving checkpoints, until p has
// caught up with the log.
func (e *Engine) build(ctx context.Context, p *projection) error {
	p.mu.Lock()
	p.buildFrom.Store(p.cp)
	p.mu.Unlock()
	p.buildSeen.Store(0)
	p.buildStart.Store(time.Now().UnixNano())
	for {
		target := e.log.LastSeq()
		p.buildTotal.Store(target)
		p.mu.Lock()
		if p.cp >= target {
			p.built = true
			p.pub()
			p.dirty = true
			err := e.save(p, nil)
			p.mu.Unlock()
			return err
		}
		from, end := p.cp+1, min(target, p.cp+e.o.chunk)
		err := foldRange(ctx, e.log, p.f, from, end, &e.o, &p.buildSeen)
		if err == nil {
			p.cp, p.dirty = end, true
			p.pub()
			e.advanced(p, from, end, false)
			if e.o.checkpointEvery == 0 || time.Since(p.savedAt) >= e.o.checkpointEvery {
				err = e.save(p, nil)
			}
		}
		p.mu.Unlock()
		if err != nil {
			return fmt.Errorf("build %s: %w", p.name, err)
		}
	}
}

// promote makes a finished replacement the serving projection.
func (e *Engine) promote(p *projection) {
	e.mu.Lock()
	if e.next[p.name] != p {
		e.mu.Unlock()
		return // not a replacement, or dropped or superseded meanwhile
	}
	delete(e.next, p.name)
	old := e.projs[p.name]
	e.projs[p.name] = p
	e.mu.Unlock()
	// The old version stops being saved before the new one is: a save of the
	// old one already under way finishes first and is overwritten below, and
	// none can follow it under the same name.
	if old != nil && old != p {
		old.retire()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dirty, p.isNext = true, false
	e.advanced(p, 1, p.cp, true)
	if err := e.save(p, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Delete([]byte(p.name + nextSuffix)); err != nil {
			return err
		}
		if err := deleteEntries(tx, []byte(p.name+nextSuffix)); err != nil {
			return err
		}
		return tx.Bucket(bucketState).Delete([]byte(p.name + nextSuffix))
	}); err != nil {
		e.o.logger.Error("saving a rebuilt projection failed", "projection", p.name, "err", err)
	}
}

// save writes p's state and checkpoint in one transaction, with extra run in
// the same transaction. p.mu must be held.
func (e *Engine) save(p *projection, extra func(*bolt.Tx) error) error {
	if e.statePath == "" || !p.dirty || p.dropped || p.kind.Persist == PersistNone {
		return nil
	}
	es, byEntries := p.f.(EntryState)
	byEntries = byEntries && p.kind.Persist == PersistEntries
	state := incrementalMarker
	if !byEntries {
		var err error
		if state, err = p.f.(WholeState).MarshalState(); err != nil {
			return err
		}
	}
	var crc uint32
	if p.cp > 0 {
		var err error
		if crc, err = e.log.RecordSum(p.cp); err != nil {
			return fmt.Errorf("checkpoint %s: %w", p.name, err)
		}
	}
	key := []byte(p.name)
	if p.isNext {
		key = []byte(p.name + nextSuffix)
	}
	m, err := json.Marshal(meta{Name: p.name, Def: p.def, Checkpoint: p.cp, CheckCRC: crc, Built: p.built, Created: p.createdAt})
	if err != nil {
		return err
	}
	err = e.withDB(func(db *bolt.DB) error {
		return db.Update(func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketMeta).Put(key, m); err != nil {
				return err
			}
			if err := tx.Bucket(bucketState).Put(key, state); err != nil {
				return err
			}
			if byEntries {
				if err := saveIncremental(tx, es, key, p.savedAs != string(key)); err != nil {
					return err
				}
			}
			if extra != nil {
				return extra(tx)
			}
			return nil
		})
	})
	if err != nil {
		p.savedAs = "" // what the fold handed to the failed save is lost
		return fmt.Errorf("save %s: %w", p.name, err)
	}
	if byEntries {
		p.savedAs = string(key)
	}
	p.dirty, p.savedAt = false, time.Now()
	if e.o.onCheckpoint != nil && (p.cp > 0 || p.built) { // a registration is no checkpoint
		e.o.onCheckpoint(string(key), p.cp)
	}
	return nil
}
