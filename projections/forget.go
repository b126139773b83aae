package projections

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/scrub"
)

// After a customer is forgotten (eventstore's Forget) the log reads their
// pseudonym, but projection states still hold what they folded before:
// their own string tables (strtab.go) may hold the customer id (a spec
// grouped by customer_id, the active-customer base), and a spec's sums may
// count values the erasure removed. Every projection is therefore rebuilt
// from the rewritten log, which gives by construction what a replay gives,
// and the old states are then overwritten in projections.db's free pages.
//
// The engine records how many erasures its states reflect. One that opens
// on a log with more (the erasure ran offline, or a crash came between the
// log's erasure and the rebuild) discards every saved state before serving,
// scrubs the file, and rebuilds in the background.

var (
	bucketEngine = []byte("engine")
	keyErasures  = []byte("erasures")
)

// ForgetReport says what Forget did to the projections.
type ForgetReport struct {
	Rebuilt       int           `json:"projections_rebuilt"`
	PagesScrubbed int           `json:"pages_scrubbed"`
	Took          time.Duration `json:"took_ns"`
}

// Naming returns the projections whose definition names customer (a spec
// filtering on their id): an erasure cannot keep them as they are, so it
// refuses until they are changed or dropped.
func (e *Engine) Naming(customer string) []string {
	quoted, _ := json.Marshal(customer)
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range []map[string]*projection{e.projs, e.next} {
		for name, p := range m {
			if def, err := json.Marshal(p.def); err == nil && strings.Contains(string(def), string(quoted)) {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Forget rebuilds every projection from the log after an erasure, while the
// old states keep serving, swaps the new states in, saves them, and
// overwrites projections.db's free pages; then it checks that none of
// needles is left in the file (ErrNotErased otherwise). needles are the
// values that no data of the log holds any more (eventstore.ForgetPlan's
// Needles without the Kept ones).
func (e *Engine) Forget(ctx context.Context, needles [][]byte) (ForgetReport, error) {
	start := time.Now()
	var rep ForgetReport
	e.mu.Lock()
	all := make([]*projection, 0, len(e.projs)+len(e.next))
	for _, m := range []map[string]*projection{e.projs, e.next} {
		for _, p := range m {
			all = append(all, p)
		}
	}
	e.mu.Unlock()
	for _, p := range all {
		if err := e.rebuildNow(ctx, p); err != nil {
			return rep, fmt.Errorf("forget: rebuild %s: %w", p.name, err)
		}
		rep.Rebuilt++
	}
	e.asOf.reset()
	if e.statePath == "" {
		rep.Took = time.Since(start)
		return rep, nil
	}
	if err := e.recordErasures(); err != nil {
		return rep, fmt.Errorf("forget: %w", err)
	}
	var sr scrub.Report
	err := e.withDB(func(db *bolt.DB) error {
		var err error
		sr, err = scrub.FreePages(ctx, db, scrub.Options{})
		return err
	})
	rep.PagesScrubbed = sr.Pages
	if err != nil {
		return rep, fmt.Errorf("forget: %w", err)
	}
	if err := checkFile(e.statePath, needles); err != nil {
		return rep, fmt.Errorf("forget: %w", err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// rebuildNow folds the whole log into a new state for p, brings it to p's
// position and puts it in p's place.
func (e *Engine) rebuildNow(ctx context.Context, p *projection) error {
	f, err := e.newFold(p.def)
	if err != nil {
		return err
	}
	target := e.log.LastSeq()
	if err := foldRange(ctx, e.log, f, 1, target, &e.o, new(atomic.Uint64)); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped {
		return nil
	}
	to := max(p.cp, target)
	if err := foldRange(ctx, e.log, f, target+1, to, &e.o, new(atomic.Uint64)); err != nil {
		return err
	}
	p.setFold(f)
	p.cp, p.dirty = to, true
	e.advanced(p, 1, to, true)
	p.answers.reset()
	p.pub()
	if !p.built {
		return nil // its build saves it once it has caught up
	}
	return e.save(p, nil)
}

// recordErasures stores how many erasures the saved states reflect.
func (e *Engine) recordErasures() error {
	n := e.log.Erasures()
	return e.withDB(func(db *bolt.DB) error {
		return db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketEngine)
			if err != nil {
				return err
			}
			return b.Put(keyErasures, binary.BigEndian.AppendUint64(nil, n))
		})
	})
}

// discardIfErased runs at open, before the states are read: when the log
// holds erasures the saved states do not reflect, it deletes every saved
// state, entries included (their projections rebuild from the start), overwrites the free
// pages, and records the erasures.
func (e *Engine) discardIfErased() error {
	n := e.log.Erasures()
	var seen uint64
	err := e.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketEngine); b != nil {
			if v := b.Get(keyErasures); len(v) == 8 {
				seen = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	if err != nil || seen >= n {
		return err
	}
	e.o.logger.Info("rebuilding every projection: the log forgot a customer since they were saved", "erasures", n-seen)
	err = e.db.Update(func(tx *bolt.Tx) error {
		mb, sb := tx.Bucket(bucketMeta), tx.Bucket(bucketState)
		if mb == nil || sb == nil {
			return nil
		}
		var metas [][2][]byte
		err := mb.ForEach(func(k, v []byte) error {
			var m meta
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("projection %s: %w", k, err)
			}
			m.Checkpoint, m.CheckCRC, m.Built = 0, 0, false
			nv, err := json.Marshal(m)
			if err != nil {
				return err
			}
			metas = append(metas, [2][]byte{append([]byte(nil), k...), nv})
			return nil
		})
		if err != nil {
			return err
		}
		for _, kv := range metas {
			if err := mb.Put(kv[0], kv[1]); err != nil {
				return err
			}
			if err := sb.Delete(kv[0]); err != nil {
				return err
			}
		}
		// The entries of incrementally saved states go too.
		if tx.Bucket(bucketEntries) != nil {
			return tx.DeleteBucket(bucketEntries)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := scrub.FreePages(context.Background(), e.db, scrub.Options{}); err != nil {
		return err
	}
	return e.recordErasures()
}

// checkFile searches path for needles, like `grep -a`.
func checkFile(path string, needles [][]byte) error {
	hits, err := scrub.Find(path, needles)
	if err != nil || len(hits) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s holds an erased value at byte %d (and %d more places)", eventstore.ErrNotErased, path, hits[0].Offset, len(hits)-1)
}

// reset forgets every answer: after an erasure the log up to a sequence
// reads differently.
func (c *asOfCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.order = nil, nil
}

// isErasure reports whether records of type t are erasure records, which
// no projection counts (an analyst's spec without a type filter included).
func isErasure(t domain.Type) bool { return t == domain.TypeCustomerForgotten }
