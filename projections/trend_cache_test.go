package projections

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
)

func names(st []Status) []string {
	var out []string
	for _, s := range st {
		out = append(out, s.Name)
	}
	return out
}

// TestTrendProjectionsAreACache: ad-hoc trend projections are evicted when
// idle and beyond the memory bound (least recently used first), are never
// saved, can be dropped, and come back on demand with the same answer.
func TestTrendProjectionsAreACache(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(21), 3000)
	state := filepath.Join(dir, "projections.db")
	e := openTestEngine(t, l, state, WithTrendCache(time.Hour, 0))
	ctx := context.Background()
	byCat := TrendQuery{By: []Dimension{DimCategory}}
	first, err := e.Trends(ctx, byCat)
	if err != nil {
		t.Fatal(err)
	}
	catName, _ := trendDefinition(byCat.By, domain.BucketMonth)
	st, err := e.Status(catName)
	if err != nil || st.Cache == nil || st.MemoryBytes <= 0 || st.Cache.EvictAfter == nil {
		t.Fatalf("status of a trend cache entry: %+v %v", st, err)
	}
	// Not idle yet: kept. Idle past the idle time: evicted.
	if ev := e.evictTrends(time.Now().Add(30 * time.Minute)); len(ev) != 0 {
		t.Fatalf("evicted %v before the idle time", ev)
	}
	if ev := e.evictTrends(time.Now().Add(61 * time.Minute)); !reflect.DeepEqual(ev, []string{catName}) {
		t.Fatalf("evicted %v, want %s", ev, catName)
	}
	if strings.Contains(strings.Join(names(e.List()), " "), catName) {
		t.Fatalf("an evicted trend is still listed: %v", names(e.List()))
	}
	again, err := e.Trends(ctx, byCat)
	if err != nil {
		t.Fatal(err)
	}
	if again == first || !reflect.DeepEqual(again.Rows, first.Rows) {
		t.Fatal("the rebuilt trend answers differently (or was never evicted)")
	}

	// The memory bound evicts the least recently used, never the latest.
	e.o.trendIdle, e.o.trendBytes = 0, 1
	qs := []TrendQuery{{By: []Dimension{DimSegment}}, {By: []Dimension{DimChannel}}, byCat}
	for _, q := range qs {
		if _, err := e.Trends(ctx, q); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct last-use times, not a wait for work
	}
	ev := e.evictTrends(time.Now())
	segName, _ := trendDefinition(qs[0].By, domain.BucketMonth)
	chName, _ := trendDefinition(qs[1].By, domain.BucketMonth)
	if len(ev) != 2 || !contains(ev, segName) || !contains(ev, chName) {
		t.Fatalf("memory bound evicted %v, want %s and %s", ev, segName, chName)
	}
	if _, err := e.Status(catName); err != nil {
		t.Fatalf("the most recently used trend was evicted: %v", err)
	}
	e.o.trendBytes = 0

	// Every listed name can be queried and shown; trends can be dropped,
	// the customer base cannot.
	for _, n := range names(e.List()) {
		tab, err := e.Query(ctx, n, AsOf{})
		if err != nil || len(tab.Rows) == 0 || tab.AsOfSeq != l.LastSeq() {
			t.Fatalf("query %s: %v", n, err)
		}
		if _, err := e.Query(ctx, n, AsOf{Seq: l.LastSeq() / 2}); err != nil {
			t.Fatalf("query %s as of: %v", n, err)
		}
	}
	tab, err := e.Query(ctx, catName, AsOf{})
	if err != nil || strings.Join(tab.Columns, ",") != "bucket,category,count,late_count,restated_at" {
		t.Fatalf("trend table %v: %v", tab.Columns, err)
	}
	var sum int64
	for _, r := range tab.Rows {
		sum += r[2].(int64)
	}
	var complaints int64
	for _, b := range first.Buckets {
		complaints += b.Total
	}
	if sum < complaints {
		t.Fatalf("trend table counts %d, the trend's buckets %d", sum, complaints)
	}
	if err := e.Drop(catName); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Status(catName); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("after drop: %v", err)
	}
	// A trend name that is not cached (dropped, evicted or never asked) is
	// built when queried.
	if tab, err := e.Query(ctx, "builtin/trend/week/segment+channel", AsOf{}); err != nil || len(tab.Columns) != 6 {
		t.Fatalf("query of an uncached trend: %v", err)
	}
	for _, bad := range []string{"builtin/trend/week/channel+segment", "builtin/trend/year/segment", "builtin/trend/month/colour"} {
		if _, err := e.Query(ctx, bad, AsOf{}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("query %s: %v", bad, err)
		}
	}
	if err := e.Drop(baseName); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("drop of the customer base: %v", err)
	}

	// Trend caches are never saved; entries an older version saved are
	// removed at open.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(state, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		found := ""
		tx.Bucket(bucketMeta).ForEach(func(k, _ []byte) error {
			if isTrendName(string(k)) {
				found = string(k)
			}
			return nil
		})
		if found != "" {
			t.Errorf("trend cache %s was saved", found)
		}
		m, _ := json.Marshal(meta{Name: catName, Def: &Definition{Kind: kindTrend, Version: trendVersion, Dims: byCat.By, Bucket: "month"}})
		return tx.Bucket(bucketMeta).Put([]byte(catName), m)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	e2 := openTestEngine(t, l, state)
	if got := names(e2.List()); len(got) != 2 || got[0] != baseName || got[1] != firstsName {
		t.Fatalf("after reopening: %v", got)
	}
	e2.Close()
	db, err = bolt.Open(state, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get([]byte(catName)) != nil {
			t.Error("a trend saved by an older version was kept")
		}
		return nil
	})
}

// TestLiveAnswersAreSharedPerPosition asks the same trend from many
// goroutines while events are appended: every answer reflects at least the
// events committed before it was asked, and an answer is computed at most
// once per log position, because a question is served by any answer
// computed at or after the position the log had when it came.
func TestLiveAnswersAreSharedPerPosition(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g := newGen(31)
	appendRandom(t, l, g, 2000)
	e := openTestEngine(t, l, "")
	ctx := context.Background()
	q := TrendQuery{By: []Dimension{DimCategory, DimSegment}}
	if _, err := e.Trends(ctx, q); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	appends := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				if _, err := l.Append(g.event()); err != nil {
					t.Error(err)
					return
				}
				appends++
			}
		}
	}()
	var mu sync.Mutex
	asked := 0
	deadline := time.Now().Add(time.Second)
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				at := l.LastSeq()
				r, err := e.Trends(ctx, q)
				if err != nil {
					t.Error(err)
					return
				}
				if r.AsOfSeq < at {
					t.Errorf("an answer at %d for a question asked at %d", r.AsOfSeq, at)
					return
				}
				mu.Lock()
				asked++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Until(deadline)) // the length of the load, not a wait for work
	close(stop)
	wg.Wait()
	computed := int(e.computed.Load()) - 1 // the first, before the load
	t.Logf("%d questions, %d answers computed, %d appends", asked, computed, appends)
	// Answers are computed at strictly increasing positions: at most once
	// per position the appends made, however many asked.
	if asked == 0 || computed > appends+1 {
		t.Fatalf("%d questions needed %d computed answers over %d appends", asked, computed, appends)
	}
}

// TestCachedAnswerDoesNotWaitForAFold: while a projection is locked by a
// fold in progress (the live loop catching up with a big batch), a question
// whose answer is already known at the log's position is answered at once.
func TestCachedAnswerDoesNotWaitForAFold(t *testing.T) {
	_, e := openRandomEngine(t, 41, 1000)
	ctx := context.Background()
	q := TrendQuery{By: []Dimension{DimCategory}}
	first, err := e.Trends(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := trendDefinition(q.By, q.Bucket)
	e.mu.Lock()
	tp, bp := e.projs[name], e.projs[baseName]
	e.mu.Unlock()
	tp.mu.Lock()
	bp.mu.Lock()
	got := make(chan *TrendResult, 1)
	go func() {
		r, err := e.Trends(ctx, q)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case r := <-got:
		if r != first {
			t.Error("a second answer was computed at the same position")
		}
		bp.mu.Unlock()
		tp.mu.Unlock()
	case <-time.After(10 * time.Second):
		t.Error("a question with a known answer waited for the projection's lock")
		bp.mu.Unlock()
		tp.mu.Unlock()
		<-got
	}
}
