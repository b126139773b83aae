package eventstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
)

// Forgetting a customer (GDPR art. 17) without breaking an aggregate.
//
// The technique is dictionary replacement, not crypto-shredding. A
// customer's id lives once in the log's dictionary; records hold its 4-byte
// dictionary id (customer_id, referred_customer_id). Erasure renames that
// one entry to a pseudonym, erased-<n>, so every record that pointed at the
// customer now reads the pseudonym: counts and distinct-customer counts stay
// exactly the same, replaying gives the same aggregates, and nothing has to
// be decrypted on every read. Crypto-shredding (a key per customer, deleted
// on erasure) would cost a key lookup and a decryption per record in every
// projection scan, and the records would still have to be rewritten to drop
// the fields that may not stay readable; with the dictionary there is one
// entry to replace.
//
// What the dictionary does not cover is rewritten: each of the customer's
// own events loses its explicit subject (it then reads as the customer id,
// i.e. the pseudonym) and every custom data field and extension attribute
// (see eraseEvent), and the customer id is replaced by the pseudonym inside
// its other free-text fields. Other events that name the customer (a
// referral by someone else) have a subject or text equal to the customer id
// replaced. The rewrite decodes each record and encodes it again, so it does
// not depend on the record format.
//
// The steps, so that ingest is never blocked for long:
//
//  1. PlanForget reads the whole log in one read transaction (parallel, no
//     lock) and finds the records to change and JetStream's copies of them.
//  2. Forget rewrites those records in small write transactions.
//  3. One short transaction rewrites what was appended meanwhile, renames
//     the dictionary entry and appends the customer.forgotten event (the
//     commit point: before it a crash leaves the customer in the log, and
//     forgetting again finishes the job).
//  4. bbolt's copy-on-write left the old bytes in free pages: they are
//     overwritten with zeros (internal/scrub), in steps of at most
//     MaxHold, once no reader older than the rewrite is open.
//  5. The file is searched for the erased values; any left where the log
//     does not legitimately hold them fails the erasure loudly.
//
// A forgotten customer who sends events later gets a new dictionary entry
// and starts afresh; their old (source, id) keys stay in the dedupe set, so
// a redelivered old message is still a duplicate.

// Erasures returns how many customers the log has forgotten (its
// customer.forgotten events).
func (l *Log) Erasures() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counters.byType[domain.TypeCustomerForgotten]
}

// Contains reports whether the log holds the event (source, id).
func (l *Log) Contains(source, id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys != nil && l.keys.has(keyOf(source, id))
}

// ForgetPlan is what forgetting a customer changes, found by PlanForget
// before anything changes.
type ForgetPlan struct {
	CustomerID string `json:"-"`
	Pseudonym  string `json:"pseudonym"`
	// LastSeq is the end of the log when it was read.
	LastSeq uint64 `json:"scanned_to"`
	// Events are the customer's own events; Mentions other events that name
	// them (a referral of them by another customer).
	Events   int `json:"events"`
	Mentions int `json:"mentions"`
	// Rewrite is how many of those records change (the rest only read the
	// pseudonym through the dictionary).
	Rewrite int `json:"rewrite"`
	// StreamSeqs are the JetStream stream sequences of the copies of those
	// events in the events stream (and of duplicates of them), sorted.
	StreamSeqs []uint64 `json:"-"`
	// Unmapped counts the events among them whose stream sequence the log
	// does not know (stored by an older version, or not through NATS).
	Unmapped int           `json:"unmapped"`
	ScanTook time.Duration `json:"scan_ns"`

	dictID  uint32
	nth     uint64   // the erasure's ordinal: the pseudonym's number
	seqs    []uint64 // own events and mentions, sorted
	needles []string // erased values that must be gone (the customer id first)
	kept    []bool   // per needle: other data of the log holds it too
}

// Needles returns the erased values that must not be found in any file
// afterwards (the customer id first), except those that other data of the
// log holds too (Kept).
func (p *ForgetPlan) Needles() [][]byte {
	out := make([][]byte, len(p.needles))
	for i, n := range p.needles {
		out[i] = []byte(n)
	}
	return out
}

// Kept reports, per needle, whether other events legitimately hold it (an
// id such as C-10421 holds C-1042): byte searches cannot tell those apart,
// so they are not checked.
func (p *ForgetPlan) Kept() []bool { return slices.Clone(p.kept) }

// PlanForget reads the log and returns what forgetting customer changes. It
// holds no lock while it reads. A customer the log does not know is an
// ENOTFOUND error; one whose erasure plaint cannot do without changing other
// data is ECONFLICT.
func (l *Log) PlanForget(ctx context.Context, customer string) (*ForgetPlan, error) {
	start := time.Now()
	if l.opts.readOnly {
		return nil, ErrReadOnly
	}
	if customer == "" {
		return nil, domain.FieldErrorf("customer", "is required")
	}
	if domain.IsPseudonym(customer) {
		return nil, domain.FieldErrorf("customer", "%q is the pseudonym of a customer already forgotten", customer)
	}
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	id, known := l.dict.ids[customer]
	nth := l.counters.byType[domain.TypeCustomerForgotten] + 1
	last := l.last.Load()
	l.mu.Unlock()
	if !known {
		return nil, domain.Errorf(domain.ENOTFOUND, "no customer %q in the log", customer)
	}
	p := &ForgetPlan{CustomerID: customer, Pseudonym: domain.Pseudonym(nth), LastSeq: last, dictID: id, nth: nth}
	var f finder
	f.init(customer, id, l.dict.snapshot())
	found, err := l.findMentions(ctx, &f, 1, last)
	if err != nil {
		return nil, fmt.Errorf("forget: %w", err)
	}
	if found.conflict != "" {
		return nil, domain.Errorf(domain.ECONFLICT, "cannot forget %q: %s", customer, found.conflict)
	}
	if len(found.own)+len(found.mentions) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "no event of customer %q in the log", customer)
	}
	p.Events, p.Mentions, p.Rewrite = len(found.own), len(found.mentions), found.rewrite
	p.seqs = append(append(p.seqs, found.own...), found.mentions...)
	slices.Sort(p.seqs)
	p.needles = append([]string{customer}, found.needles...)
	p.kept = make([]bool, len(p.needles))
	p.kept[0] = found.keptID
	if err := l.keptNeedles(ctx, p); err != nil {
		return nil, fmt.Errorf("forget: %w", err)
	}
	err = l.View(func(s *Snapshot) error {
		keys := map[eventKey]bool{}
		var buf []byte
		for _, seq := range p.seqs {
			if st, ok := s.StreamSeq(seq); ok {
				p.StreamSeqs = append(p.StreamSeqs, st)
			} else {
				p.Unmapped++
			}
			r, err := s.Get(seq)
			if err != nil {
				return err
			}
			var k eventKey
			if k, buf, err = recordKey(r, s.dict, buf); err != nil {
				return err
			}
			keys[k] = true
		}
		p.StreamSeqs = append(p.StreamSeqs, s.streamDupsOf(keys)...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("forget: %w", err)
	}
	slices.Sort(p.StreamSeqs)
	p.StreamSeqs = slices.Compact(p.StreamSeqs)
	p.ScanTook = time.Since(start)
	return p, nil
}

// finder tells the records that name a customer from the rest, cheaply: a
// record is decoded only when its bytes hold the customer id's text or its
// dictionary id (in a fixed field, or as a uvarint in the tail).
type finder struct {
	customer string
	id       uint32
	ids      fixedDict // the dictionary, string to id
	text     []byte
	uvarint  []byte
}

func (f *finder) init(customer string, id uint32, dict dictView) {
	f.customer, f.id, f.text = customer, id, []byte(customer)
	f.ids = make(fixedDict, len(dict))
	for i, s := range dict {
		f.ids[s] = uint32(i)
	}
	f.uvarint = binary.AppendUvarint(nil, uint64(id))
}

// candidate reports whether r may name the customer: a fixed dictionary
// field holds its id, or the tail (after the fixed fields) holds its id as
// a uvarint or its text.
func (f *finder) candidate(r Record) bool {
	for fld := range numFixed {
		if r.Dim(fld) == f.id {
			return true
		}
	}
	tail := r[fixedLen:]
	return bytes.Contains(tail, f.uvarint) || bytes.Contains(tail, f.text)
}

// mentions is what findMentions found.
type mentions struct {
	own, mentions []uint64 // sequences
	rewrite       int      // records whose bytes change
	needles       []string // erased values besides the customer id
	keptID        bool     // records not erased hold the customer id's text
	conflict      string   // why the erasure cannot be done, or ""
	conflicts     int
}

func (m *mentions) add(o *mentions) {
	m.own = append(m.own, o.own...)
	m.mentions = append(m.mentions, o.mentions...)
	m.rewrite += o.rewrite
	m.needles = append(m.needles, o.needles...)
	m.keptID = m.keptID || o.keptID
	if m.conflict == "" {
		m.conflict = o.conflict
	}
	m.conflicts += o.conflicts
}

// findMentions scans the records from..to, one part per core, and
// classifies those that name the customer.
func (l *Log) findMentions(ctx context.Context, f *finder, from, to uint64) (*mentions, error) {
	out := &mentions{}
	parts := make([]mentions, runtime.GOMAXPROCS(0))
	bufs := make([][]byte, len(parts))
	err := l.scanParallel(ctx, from, to, func(w int, s *Snapshot, seq uint64, r Record) error {
		if !f.candidate(r) {
			return nil
		}
		var err error
		bufs[w], err = f.classify(&parts[w], seq, r, s.dict, bufs[w])
		return err
	})
	if err != nil {
		return nil, err
	}
	for w := range parts {
		out.add(&parts[w])
	}
	slices.Sort(out.needles)
	out.needles = slices.Compact(out.needles)
	if out.conflicts > 1 {
		out.conflict += fmt.Sprintf(" (and %d more events like it)", out.conflicts-1)
	}
	return out, nil
}

// scanParallel calls fn for the records from..to, split into one
// consecutive part per core (one for small ranges), each read in its own
// read transaction; w is the part's index, below GOMAXPROCS.
func (l *Log) scanParallel(ctx context.Context, from, to uint64, fn func(w int, s *Snapshot, seq uint64, r Record) error) error {
	if from > to {
		return nil
	}
	n := to - from + 1
	workers := runtime.GOMAXPROCS(0)
	if n < 100_000 {
		workers = 1
	}
	if n >= 1<<20 {
		stop := make(chan struct{})
		defer close(stop)
		l.Prefetch(stop)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo := from + n*uint64(w)/uint64(workers)
		hi := from + n*uint64(w+1)/uint64(workers) - 1
		wg.Go(func() {
			errs[w] = l.View(func(s *Snapshot) error {
				i := 0
				return s.Scan(lo, hi, func(seq uint64, r Record) error {
					if i++; i&0xffff == 0 {
						if err := ctx.Err(); err != nil {
							return err
						}
					}
					return fn(w, s, seq, r)
				})
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// classify decodes a candidate record and records whether it is one of the
// customer's own events, another event that names them, or neither.
func (f *finder) classify(m *mentions, seq uint64, r Record, dict dictView, buf []byte) ([]byte, error) {
	ev, err := decodeRecord(r, dict)
	if err != nil {
		return buf, fmt.Errorf("record %d: %w", seq, err)
	}
	c := f.customer
	d := &ev.Data
	own := d.CustomerID == c
	quoted, _ := json.Marshal(c)
	names := own || d.ReferredID == c || ev.Subject == c || d.ComplaintID == c || d.Topic == c || d.Detail == c ||
		memberEqual(ev.AsSent, string(quoted))
	// The dictionary entry is renamed: it must stand for the customer only.
	for _, s := range []struct{ field, v string }{{"source", ev.Source}, {"category", d.Category}, {"segment", d.Segment},
		{"channel", d.Channel}, {"root_cause", d.RootCause}, {"product", d.Product}, {"region", d.Region},
		{"resolution", d.Resolution}, {"reason", d.Reason}, {"competitor", d.Competitor}, {"currency", d.Currency}} {
		if s.v == c {
			m.conflicts++
			if m.conflict == "" {
				m.conflict = fmt.Sprintf("event %d has it as its %s too, and renaming it would rename that", seq, s.field)
			}
		}
	}
	// An event's (source, id) is its identity for ever: it cannot change.
	if own && (strings.Contains(ev.ID, c) || strings.Contains(ev.Source, c)) {
		m.conflicts++
		if m.conflict == "" {
			m.conflict = fmt.Sprintf("event %d carries the customer id in its source or id, which identify it for ever (deduplication)", seq)
		}
	}
	if !names {
		// The text is part of a longer value (C-10421 holds C-1042), or
		// the dictionary id bytes occur by chance.
		m.keptID = m.keptID || bytes.Contains(r, f.text)
		return buf, nil
	}
	if own {
		m.own = append(m.own, seq)
	} else {
		m.mentions = append(m.mentions, seq)
	}
	erased := ev
	for _, n := range eraseEvent(&erased, c, "", own) {
		if len(n) >= minNeedle && n != c {
			m.needles = append(m.needles, n)
		}
	}
	if erased != ev {
		m.rewrite++
	}
	if !own {
		buf = encodeRecord(buf[:0], &erased, r.RecordTime(), f.ids)
		if bytes.Contains(buf, f.text) {
			m.keptID = true // another customer's value holds the id as a part
		}
	}
	return buf, nil
}

// fixedDict interns strings already in the dictionary, for planning;
// eraseEvent adds none (a pseudonym replaces text outside the dictionary).
type fixedDict map[string]uint32

func (d fixedDict) intern(s string) uint32 { return d[s] }

// eraseEvent removes from ev what identifies customer c, whose pseudonym is
// p (empty while planning), and returns the erased values that must then be
// gone from every file (besides c itself).
//
// The customer's own events lose their explicit subject (they then read as
// the customer id, which the dictionary maps to the pseudonym) and
// everything the producer sent beyond plaint's known fields: the data fields
// plaint does not know and the extension attributes (domain.AsSent; the
// as-sent spelling of known fields goes with it, their canonical values
// stay). c is replaced by p inside their other free-text fields. Other
// events that name c have a subject, text or as-sent member equal to c
// replaced by p.
func eraseEvent(ev *domain.Event, c, p string, own bool) (needles []string) {
	d := &ev.Data
	if p == "" {
		p = domain.PseudonymPrefix // planning: any text without c
	}
	if own {
		if ev.Subject != "" && ev.Subject != d.CustomerID {
			needles = append(needles, ev.Subject)
			ev.Subject = d.CustomerID
		}
		for _, s := range []*string{&d.ComplaintID, &d.Topic, &d.Detail} {
			*s = strings.ReplaceAll(*s, c, p)
		}
		for m := range ev.AsSent.All() {
			needles = append(needles, valueNeedles(m.Raw)...)
		}
		ev.AsSent = domain.AsSent{}
		return needles
	}
	for _, s := range []*string{&ev.Subject, &d.ComplaintID, &d.Topic, &d.Detail} {
		if *s == c {
			*s = p
		}
	}
	if quoted, _ := json.Marshal(c); memberEqual(ev.AsSent, string(quoted)) {
		var ms []domain.Member
		pq, _ := json.Marshal(p)
		for m := range ev.AsSent.All() {
			if m.Raw == string(quoted) {
				m.Raw = string(pq)
			}
			ms = append(ms, m)
		}
		if a, err := domain.NewAsSent(ms...); err == nil {
			ev.AsSent = a
		}
	}
	return needles
}

// memberEqual reports whether a member of a has the raw value raw.
func memberEqual(a domain.AsSent, raw string) bool {
	for m := range a.All() {
		if m.Raw == raw {
			return true
		}
	}
	return false
}

// minNeedle is the shortest erased value searched for in files: shorter
// ones (a score of 9, "gold") occur by chance in any file.
const minNeedle = 4

// valueNeedles returns the strings and numbers inside a JSON value (not
// its object keys) that are long enough to search for.
func valueNeedles(raw string) []string {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
		if len(s) >= minNeedle {
			out = append(out, s)
		}
	}
	walk(v)
	return out
}

// keptNeedles marks the needles besides the customer id that other data of
// the log holds too: records that are not the customer's, and dictionary
// strings. A needle that only the customer's events held must be gone from
// every file afterwards.
func (l *Log) keptNeedles(ctx context.Context, p *ForgetPlan) error {
	dict := l.dict.snapshot()
	for i, n := range p.needles {
		for id, s := range dict {
			if id > 0 && uint32(id) != p.dictID && strings.Contains(s, n) {
				p.kept[i] = true
			}
		}
	}
	if len(p.needles) == 1 {
		return nil
	}
	own := map[uint64]bool{}
	for _, s := range p.seqs {
		own[s] = true
	}
	needles := make([][]byte, len(p.needles))
	for i, n := range p.needles {
		needles[i] = []byte(n)
	}
	kept := make([][]bool, runtime.GOMAXPROCS(0))
	for w := range kept {
		kept[w] = make([]bool, len(needles))
	}
	err := l.scanParallel(ctx, 1, p.LastSeq, func(w int, _ *Snapshot, seq uint64, r Record) error {
		if own[seq] {
			return nil
		}
		tail := r[fixedLen:] // where a record keeps text
		for j := 1; j < len(needles); j++ {
			if !kept[w][j] && bytes.Contains(tail, needles[j]) {
				kept[w][j] = true
			}
		}
		return nil
	})
	for w := range kept {
		for j := range needles {
			p.kept[j] = p.kept[j] || kept[w][j]
		}
	}
	return err
}

// ForgetOptions configures Forget.
type ForgetOptions struct {
	// Reason is the operator's free text; it must not contain the customer
	// id. RequestedBy names who asked (required).
	Reason      string
	RequestedBy string
	// MaxHold bounds how long one step holds the log's write lock, and so
	// how long ingest waits. Default 200ms.
	MaxHold time.Duration
	// ScrubWait bounds the wait for read transactions older than the
	// rewrite (a backup being copied) before the free pages can be
	// overwritten. Default 5 minutes.
	ScrubWait time.Duration
}

func (o *ForgetOptions) setDefaults() {
	o.MaxHold = cmp.Or(o.MaxHold, 200*time.Millisecond)
	o.ScrubWait = cmp.Or(o.ScrubWait, 5*time.Minute)
}

// ForgetReport says what Forget did.
type ForgetReport struct {
	Pseudonym string `json:"pseudonym"`
	// Seq is the sequence of the customer.forgotten event.
	Seq       uint64 `json:"seq"`
	Events    int    `json:"events"`
	Mentions  int    `json:"mentions"`
	Rewritten int    `json:"records_rewritten"`
	// Late are events of the customer appended while Forget ran, caught
	// in its last step; LateStreamSeqs their JetStream copies.
	Late           int      `json:"late_events,omitempty"`
	LateStreamSeqs []uint64 `json:"-"`
	// PagesScrubbed free pages were overwritten with zeros.
	PagesScrubbed int `json:"pages_scrubbed"`
	// MaxHold is the longest the log's write lock was held at a time, the
	// longest ingest waited; the others say in which step.
	MaxHold     time.Duration `json:"max_lock_hold_ns"`
	RewriteHold time.Duration `json:"rewrite_lock_hold_ns"`
	CommitHold  time.Duration `json:"commit_lock_hold_ns"`
	ScrubHold   time.Duration `json:"scrub_lock_hold_ns"`
	Took        time.Duration `json:"took_ns"`
}

// Forget erases the customer of plan (see the top of this file): it
// rewrites their records, renames their dictionary entry to the plan's
// pseudonym, appends the customer.forgotten event, overwrites the free pages
// of the file and checks that the erased values are gone. The plan must be
// the log's latest (ECONFLICT otherwise: plan again).
func (l *Log) Forget(ctx context.Context, plan *ForgetPlan, o ForgetOptions) (*ForgetReport, error) {
	if err := l.Checked(); err != nil {
		return nil, err
	}
	start := time.Now()
	o.setDefaults()
	rec := domain.Forgotten{Pseudonym: plan.Pseudonym, Reason: o.Reason, RequestedBy: o.RequestedBy, Time: l.opts.now()}
	if err := rec.Check(plan.CustomerID); err != nil {
		return nil, err
	}
	l.forgetMu.Lock()
	defer l.forgetMu.Unlock()
	rep := &ForgetReport{Pseudonym: plan.Pseudonym, Events: plan.Events, Mentions: plan.Mentions}
	l.mu.Lock()
	id, known := l.dict.ids[plan.CustomerID]
	nth := l.counters.byType[domain.TypeCustomerForgotten] + 1
	l.mu.Unlock()
	if !known || id != plan.dictID || nth != plan.nth {
		return nil, domain.Errorf(domain.ECONFLICT, "the log changed since the erasure was planned; plan it again")
	}
	// 2. The records, in small transactions.
	for i := 0; i < len(plan.seqs); {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		n, err := l.rewriteSome(plan, plan.seqs[i:], o.MaxHold, rep)
		if err != nil {
			return rep, fmt.Errorf("forget: %w", err)
		}
		i += n
	}
	// 3. What came meanwhile, the dictionary and the erasure event.
	err := l.commitForget(ctx, plan, &rec, rep)
	rep.MaxHold = max(rep.RewriteHold, rep.CommitHold)
	if err != nil {
		return rep, fmt.Errorf("forget: %w", err)
	}
	// 4. The free pages.
	pages, hold, err := l.scrubFree(ctx, o.MaxHold, o.ScrubWait)
	rep.PagesScrubbed, rep.ScrubHold = pages, hold
	rep.MaxHold = max(rep.RewriteHold, rep.CommitHold, rep.ScrubHold)
	if err != nil {
		return rep, fmt.Errorf("forget: the customer is erased from the log's records, but the free pages of %s were not overwritten yet (the next start does it): %w", l.path, err)
	}
	// 5. The check.
	if err := l.checkErased(plan); err != nil {
		return rep, fmt.Errorf("forget: %w", err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// rewriteSome rewrites the records of seqs, from the first, in one write
// transaction of at most maxHold, and returns how many it handled.
func (l *Log) rewriteSome(plan *ForgetPlan, seqs []uint64, maxHold time.Duration, rep *ForgetReport) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	held := time.Now()
	defer func() { rep.RewriteHold = max(rep.RewriteHold, time.Since(held)) }()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	tx, err := l.db.Begin(true)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	td := l.dict.begin()
	dict := l.dict.snapshot()
	n, rewritten := 0, 0
	// Leave time for the commit (an fsync) within maxHold.
	for n < len(seqs) && (n == 0 || n < 4096 && time.Since(held) < maxHold/2) {
		changed, err := rewriteRecord(tx, seqs[n], plan, dict, td)
		if err != nil {
			return 0, err
		}
		if changed {
			rewritten++
		}
		n++
	}
	if err := putDictAdded(tx, td); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	td.publish()
	rep.Rewritten += rewritten
	return n, nil
}

// rewriteRecord erases the customer from the record at seq, in tx, and
// reports whether its bytes changed.
func rewriteRecord(tx *bolt.Tx, seq uint64, plan *ForgetPlan, dict dictView, in interner) (bool, error) {
	b := tx.Bucket(bucketEvents)
	r, err := storedRecord(b, seq)
	if err != nil {
		return false, fmt.Errorf("record %d: %w", seq, err)
	}
	if r == nil {
		return false, fmt.Errorf("record %d is missing", seq)
	}
	ev, err := decodeRecord(r, dict)
	if err != nil {
		return false, fmt.Errorf("record %d: %w", seq, err)
	}
	erased := ev
	eraseEvent(&erased, plan.CustomerID, plan.Pseudonym, ev.Data.CustomerID == plan.CustomerID)
	if erased == ev {
		return false, nil // it reads the pseudonym through the dictionary
	}
	out := encodeRecord(nil, &erased, r.RecordTime(), in)
	if err := replaceRecord(b, seq, out); err != nil {
		return false, fmt.Errorf("record %d: %w", seq, err)
	}
	return true, nil
}

// pinned interns one string to a given id, and the rest through in.
type pinned struct {
	in interner
	s  string
	id uint32
}

func (p pinned) intern(s string) uint32 {
	if s == p.s {
		return p.id
	}
	return p.in.intern(s)
}

// commitForget is step 3: in one transaction it erases the customer from
// the records appended since the plan, renames the dictionary entry and
// appends the customer.forgotten event.
func (l *Log) commitForget(ctx context.Context, plan *ForgetPlan, rec *domain.Forgotten, rep *ForgetReport) error {
	var f finder
	f.init(plan.CustomerID, plan.dictID, l.dict.snapshot())
	l.mu.Lock()
	defer l.mu.Unlock()
	held := time.Now()
	defer func() { rep.CommitHold = time.Since(held) }()
	if l.closed.Load() {
		return ErrClosed
	}
	// The records appended since the plan (few: a short scan under the lock).
	late, err := l.findMentions(ctx, &f, plan.LastSeq+1, l.last.Load())
	if err != nil {
		return err
	}
	if late.conflict != "" {
		return domain.Errorf(domain.ECONFLICT, "cannot forget %q: %s", plan.CustomerID, late.conflict)
	}
	ev := rec.Event()
	key := keyOf(ev.Source, ev.ID)
	if l.keys.has(key) {
		return domain.Errorf(domain.ECONFLICT, "the log already holds the erasure %s", ev.ID)
	}
	if _, taken := l.dict.ids[plan.Pseudonym]; taken {
		return domain.Errorf(domain.ECONFLICT, "the dictionary already holds %q", plan.Pseudonym)
	}
	tx, err := l.db.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	td := l.dict.begin()
	dict := l.dict.snapshot()
	lateSeqs := append(late.own, late.mentions...)
	for _, seq := range lateSeqs {
		changed, err := rewriteRecord(tx, seq, plan, dict, td)
		if err != nil {
			return err
		}
		if changed {
			rep.Rewritten++
		}
	}
	// The dictionary: the customer's entry now holds the pseudonym.
	fwd, rev := tx.Bucket(bucketDict), tx.Bucket(bucketDictIDs)
	if err := fwd.Delete([]byte(plan.CustomerID)); err != nil {
		return err
	}
	if err := fwd.Put([]byte(plan.Pseudonym), dictKey(plan.dictID)); err != nil {
		return err
	}
	if err := rev.Put(dictKey(plan.dictID), []byte(plan.Pseudonym)); err != nil {
		return err
	}
	// The erasure event; its customer_id is the pseudonym, the same entry.
	seq := l.last.Load() + 1
	rt := max(l.opts.now().UnixNano(), l.lastRT)
	r := encodeRecord(nil, &ev, rt, pinned{td, plan.Pseudonym, plan.dictID})
	if err := tx.Bucket(bucketEvents).Put(seqKey(seq), r); err != nil {
		return err
	}
	if err := putDictAdded(tx, td); err != nil {
		return err
	}
	cnt := l.counters
	cnt.byType[ev.Type]++
	et := ev.Time.UnixNano()
	if cnt.firstTime == 0 || et < cnt.firstTime {
		cnt.firstTime = et
	}
	cnt.lastTime = max(cnt.lastTime, et)
	if err := cnt.write(tx.Bucket(bucketMeta)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	l.dict.rename(plan.dictID, plan.CustomerID, plan.Pseudonym)
	td.publish()
	l.keys.add(key)
	l.counters = cnt
	l.lastRT = rt
	l.last.Store(seq)
	l.notify()
	rep.Seq = seq
	rep.Late = len(lateSeqs)
	if len(lateSeqs) > 0 {
		err = l.View(func(s *Snapshot) error {
			for _, q := range lateSeqs {
				if st, ok := s.StreamSeq(q); ok {
					rep.LateStreamSeqs = append(rep.LateStreamSeqs, st)
				}
			}
			return nil
		})
	}
	return err
}

// putDictAdded stores the strings a transaction added to the dictionary.
func putDictAdded(tx *bolt.Tx, td *txDict) error {
	if len(td.added) == 0 {
		return nil
	}
	fwd, rev := tx.Bucket(bucketDict), tx.Bucket(bucketDictIDs)
	rev.FillPercent = 1.0
	base := td.next - uint32(len(td.added))
	for i, s := range td.added {
		id := dictKey(base + uint32(i))
		if err := fwd.Put([]byte(s), id); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		if err := rev.Put(id, []byte(s)); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
	}
	return nil
}

// rename makes dictionary id hold s instead of old, after the transaction
// doing so committed. Readers keep the views they loaded.
func (d *dict) rename(id uint32, old, s string) {
	cur := *d.strs.Load()
	next := slices.Clone(cur)
	next[id] = s
	delete(d.ids, old)
	d.ids[s] = id
	d.strs.Store(&next)
}
