package projections

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
)

// ensure returns the serving projection name, creating it with def and
// starting its build when there is none.
func (e *Engine) ensure(name string, def *Definition) (*projection, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		return nil, errClosed
	}
	if p, ok := e.projs[name]; ok {
		return p, nil
	}
	p, err := e.newProjection(name, def)
	if err != nil {
		return nil, err
	}
	e.projs[name] = p
	e.startBuild(p)
	return p, nil
}

// Create registers an analyst's projection and starts building it over the
// whole log in the background; Status shows its progress. Creating a
// projection that exists with the same spec changes nothing; with another
// spec, the new one is built beside the old, which keeps serving until the
// new one has caught up.
func (e *Engine) Create(sp *Spec) (Status, error) {
	if _, err := compileSpec(sp); err != nil {
		return Status{}, err
	}
	if !nameRE.MatchString(sp.Name) {
		return Status{}, domain.FieldErrorf("name", "%q must be 1-64 lower case letters, digits, '.', '_' or '-'", sp.Name)
	}
	if err := e.define(sp.Name, specDefinition(sp)); err != nil {
		return Status{}, err
	}
	return e.Status(sp.Name)
}

// define makes def the definition of the projection called name: nothing
// changes when it is already; a new projection is built; one that exists
// with another definition keeps serving while the new one is built beside it.
func (e *Engine) define(name string, def *Definition) error {
	key := def.canonical()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		return errClosed
	}
	old, exists := e.projs[name]
	nx, building := e.next[name]
	switch {
	case exists && old.key == key:
		if building {
			nx.retire() // the definition went back to the serving one
			delete(e.next, name)
			if err := e.deleteSaved(name + nextSuffix); err != nil {
				return err
			}
		}
	case building && nx.key == key:
	default:
		p, err := e.newProjection(name, def)
		if err != nil {
			return err
		}
		if building {
			nx.retire() // no save of it can follow, and it must not overwrite p's
			delete(e.next, name)
		}
		p.isNext = exists
		// The registration is committed (and fsynced) before define
		// returns, so that a crash during the first build cannot lose a
		// projection the caller was told exists: a restart resumes it.
		p.mu.Lock()
		p.dirty = true
		err = e.save(p, nil)
		p.mu.Unlock()
		if err != nil {
			return fmt.Errorf("register projection %s: %w", name, err)
		}
		if exists {
			e.next[name] = p
		} else {
			e.projs[name] = p
		}
		e.startBuild(p)
	}
	return nil
}

// Drop removes an analyst's projection and its saved state, or evicts a
// trend cache entry (rebuilt when next asked for). The active customer base
// every trend uses cannot be dropped.
func (e *Engine) Drop(name string) error {
	if strings.HasPrefix(name, "builtin/") && !isTrendName(name) {
		return domain.Errorf(domain.EINVALID, "%s is built in (every trend uses it) and cannot be dropped", name)
	}
	e.mu.Lock()
	p, ok := e.projs[name]
	nx, building := e.next[name]
	delete(e.projs, name)
	delete(e.next, name)
	e.mu.Unlock()
	if !ok && !building {
		return domain.Errorf(domain.ENOTFOUND, "no projection named %q", name)
	}
	for _, q := range []*projection{p, nx} {
		if q != nil {
			q.retire()
			q.fail(domain.Errorf(domain.ENOTFOUND, "projection %q was dropped", name))
		}
	}
	e.asOf.reset()          // answers of it would keep its tables
	if !isTrendName(name) { // trend caches are never saved
		if err := e.deleteSaved(name, name+nextSuffix); err != nil {
			return err
		}
	}
	e.release()
	return nil
}

// deleteSaved removes the saved meta and state stored under keys.
func (e *Engine) deleteSaved(keys ...string) error {
	return e.withDB(func(db *bolt.DB) error {
		return db.Update(func(tx *bolt.Tx) error {
			for _, k := range keys {
				if err := tx.Bucket(bucketMeta).Delete([]byte(k)); err != nil {
					return fmt.Errorf("delete %s: %w", k, err)
				}
				if err := tx.Bucket(bucketState).Delete([]byte(k)); err != nil {
					return fmt.Errorf("delete %s: %w", k, err)
				}
				if err := deleteEntries(tx, []byte(k)); err != nil {
					return fmt.Errorf("delete %s: %w", k, err)
				}
			}
			return nil
		})
	})
}

// Status describes a projection: what it computes, where it is in the log,
// and how far its build has come.
type Status struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Version    int     `json:"version"`
	Spec       *Spec   `json:"spec,omitempty"`
	State      string  `json:"state"` // building, live, failed
	Error      string  `json:"error,omitempty"`
	Checkpoint uint64  `json:"checkpoint"`
	LastSeq    uint64  `json:"last_seq"`
	Progress   float64 `json:"progress_pct"`
	// EventsPerSecond and ETASeconds describe a build in progress.
	EventsPerSecond float64   `json:"events_per_second,omitempty"`
	ETASeconds      *float64  `json:"eta_seconds,omitempty"`
	Created         time.Time `json:"created"`
	// MemoryBytes estimates the memory the projection's state holds.
	MemoryBytes int64 `json:"memory_bytes"`
	// Cache describes a trend cache entry: when it last answered, and when
	// it will be evicted unless asked again.
	Cache *CacheStatus `json:"cache,omitempty"`
	// Rebuild is the replacement being built for a changed spec or version;
	// the projection itself keeps serving until it has caught up.
	Rebuild *Status `json:"rebuild,omitempty"`
}

// CacheStatus describes a trend cache entry.
type CacheStatus struct {
	LastUsed time.Time `json:"last_used"`
	// EvictAfter is when the entry is evicted for being idle (absent when
	// idle eviction is off); the memory bound may evict it sooner.
	EvictAfter *time.Time `json:"evict_after,omitempty"`
}

func (e *Engine) status(p *projection) Status {
	cp, built := p.cpPub.Load(), p.builtPub.Load()
	if p.building.Load() {
		// The build's own counters are more current than its checkpoint.
		cp = max(cp, p.buildFrom.Load()+p.buildSeen.Load())
	}
	last := e.log.LastSeq()
	st := Status{Name: p.name, Kind: p.def.Kind, Version: p.def.Version, Spec: p.def.Spec, Checkpoint: cp, LastSeq: last, Created: p.createdAt,
		MemoryBytes: p.memPub.Load()}
	if p.isCache() {
		used := time.Unix(0, p.lastUsed.Load()).UTC()
		st.Cache = &CacheStatus{LastUsed: used}
		if e.o.trendIdle > 0 {
			at := used.Add(e.o.trendIdle)
			st.Cache.EvictAfter = &at
		}
	}
	switch {
	case p.failure() != nil:
		st.State, st.Error = "failed", domain.ErrorMessage(p.failure())
	case built && !p.building.Load():
		st.State = "live"
	default:
		st.State = "building"
	}
	st.Progress = 100
	if last > 0 {
		st.Progress = min(100, float64(min(cp, last))*100/float64(last))
	}
	if p.building.Load() {
		el := time.Since(time.Unix(0, p.buildStart.Load())).Seconds()
		seen := float64(p.buildSeen.Load())
		if el > 0 && seen > 0 {
			st.EventsPerSecond = seen / el
			eta := float64(last-min(cp, last)) / st.EventsPerSecond
			st.ETASeconds = &eta
		}
	}
	st.Progress = float64(int(st.Progress*10)) / 10
	return st
}

// Status returns the status of the named projection.
func (e *Engine) Status(name string) (Status, error) {
	e.mu.Lock()
	p, ok := e.projs[name]
	nx := e.next[name]
	e.mu.Unlock()
	if !ok && nx == nil {
		return Status{}, domain.Errorf(domain.ENOTFOUND, "no projection named %q", name)
	}
	if !ok {
		return e.status(nx), nil
	}
	st := e.status(p)
	if nx != nil {
		r := e.status(nx)
		st.Rebuild = &r
	}
	return st, nil
}

// List returns the status of every projection, analysts' first, by name.
func (e *Engine) List() []Status {
	e.mu.Lock()
	names := map[string]bool{}
	for n := range e.projs {
		names[n] = true
	}
	for n := range e.next {
		names[n] = true
	}
	e.mu.Unlock()
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Slice(list, func(i, j int) bool {
		bi, bj := strings.HasPrefix(list[i], "builtin/"), strings.HasPrefix(list[j], "builtin/")
		if bi != bj {
			return bj
		}
		return list[i] < list[j]
	})
	out := make([]Status, 0, len(list))
	for _, n := range list {
		if st, err := e.Status(n); err == nil {
			out = append(out, st)
		}
	}
	return out
}

// AsOf selects the log as it was known at a sequence or record time, or
// at a position of the events stream (Stream: its JetStream stream
// sequence, a point every node reading the stream agrees on; sequences
// and record times are each node's own). The zero AsOf is now.
type AsOf struct {
	Seq    uint64
	Time   time.Time
	Stream uint64
}

// IsZero reports whether a is now.
func (a AsOf) IsZero() bool { return a.Seq == 0 && a.Time.IsZero() && a.Stream == 0 }

// StreamPrefix introduces a stream position in an as_of: "stream:12345".
const StreamPrefix = "stream:"

// ParseAsOf parses a sequence number, an RFC 3339 record time or a stream
// position ("stream:12345") ("" is now).
func ParseAsOf(s string) (AsOf, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return AsOf{}, nil
	}
	if rest, ok := strings.CutPrefix(s, StreamPrefix); ok {
		pos, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || pos == 0 {
			return AsOf{}, domain.FieldErrorf("as_of", "%q: a stream position is stream: and a stream sequence, from 1", s)
		}
		return AsOf{Stream: pos}, nil
	}
	var seq uint64
	if _, err := fmt.Sscanf(s, "%d", &seq); err == nil && fmt.Sprint(seq) == s {
		if seq == 0 {
			return AsOf{}, domain.FieldErrorf("as_of", "sequence numbers start at 1")
		}
		return AsOf{Seq: seq}, nil
	}
	t, err := parseTimeBound(s)
	var re *rangeError
	if errors.As(err, &re) {
		return AsOf{}, domain.FieldErrorf("as_of", "%s", re.msg)
	}
	if err != nil {
		return AsOf{}, domain.FieldErrorf("as_of", "%q is neither a sequence number nor a time", s)
	}
	return AsOf{Time: t}, nil
}

// resolve returns the sequence a stands for (at most the end of the log).
func (e *Engine) resolve(a AsOf) (uint64, error) {
	last := e.log.LastSeq()
	if a.Seq > 0 {
		return min(a.Seq, last), nil
	}
	var seq uint64
	err := e.log.ViewRecords(func(s Snapshot) error {
		var err error
		if a.Stream == 0 {
			seq, err = s.SeqAt(a.Time)
			return err
		}
		sv, ok := s.(streamView)
		if !ok {
			return domain.Errorf(domain.ENOTFOUND, "this log keeps no stream positions")
		}
		seq, err = sv.SeqAtStream(a.Stream)
		return err
	})
	return seq, err
}

// streamView is a view of a log that keeps the stream position of its
// events (eventstore.Snapshot does).
type streamView interface {
	SeqAtStream(pos uint64) (uint64, error)
}

// Query returns the table of the named projection (an analyst's, a trend
// cache entry or the active customer base), caught up with the log, or as of
// an earlier point. A trend cache entry that is not in the cache is built.
func (e *Engine) Query(ctx context.Context, name string, asOf AsOf) (*Table, error) {
	e.mu.Lock()
	p, ok := e.projs[name]
	e.mu.Unlock()
	if !ok {
		def, builtin := parseTrendName(name)
		switch name {
		case baseName:
			_, def = baseDefinition()
			builtin = true
		case firstsName:
			_, def = firstsDefinition()
			builtin = true
		}
		if !builtin {
			return nil, domain.Errorf(domain.ENOTFOUND, "no projection named %q", name)
		}
		var err error
		if p, err = e.ensure(name, def); err != nil {
			return nil, err
		}
	}
	if p.isCache() {
		p.touch()
	}
	if !asOf.IsZero() {
		seq, err := e.resolve(asOf)
		if err != nil {
			return nil, err
		}
		key := fmt.Sprintf("table %d %s", seq, p.key)
		if t, ok := e.asOf.get(key); ok {
			return t.(*Table), nil
		}
		f, err := e.newFold(p.def)
		if err != nil {
			return nil, err
		}
		if err := foldRange(ctx, e.log, f, 1, seq, &e.o, new(atomic.Uint64)); err != nil {
			return nil, err
		}
		t, err := tableOf(f, name)
		if err != nil {
			return nil, err
		}
		t.AsOfSeq = seq
		e.asOf.put(key, t)
		return t, nil
	}
	if err := e.catchUp(ctx, p, true); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t, err := tableOf(p.f, name)
	if err != nil {
		return nil, err
	}
	t.AsOfSeq = p.cp
	return t, nil
}
