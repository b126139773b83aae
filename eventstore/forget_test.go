package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/scrub"
)

// customerEvent returns a valid event of type t for customer.
func customerEvent(t domain.Type, id, customer string, at time.Time) domain.Event {
	ev := domain.Event{ID: id, Source: "crm", Type: t, Time: at, Subject: customer, Schema: domain.CurrentSchema,
		Data: domain.Data{CustomerID: customer, Segment: "smb"}}
	switch t {
	case domain.TypeComplaintFiled:
		ev.Data.Category, ev.Data.Channel, ev.Data.Severity = "billing", "phone", 2
	case domain.TypeReferralMade:
		ev.Data.ReferredID = "C-9"
	case domain.TypeRevenueRecorded:
		ev.Data.Amount, ev.Data.Currency = 12345, "EUR"
	}
	return ev
}

// forgetLog is a log in which C-1042 has complaints (one with an explicit
// subject holding their e-mail address, one with a complaint id made from
// their id), an acquisition and a referral of their own, and is referred by
// C-7, among 2,000 events of other customers, several of them rewritten
// since so that old page copies fill the free list.
func forgetLog(t *testing.T) (*eventstore.Log, string) {
	t.Helper()
	dir := t.TempDir()
	l := MustOpen(t, dir)
	var evs []domain.Event
	for i := range 2000 {
		evs = append(evs, customerEvent(domain.TypeComplaintFiled, fmt.Sprintf("o%d", i), fmt.Sprintf("C-%d", 2000+i%300), t0.Add(time.Duration(i)*time.Minute)))
	}
	mine := []domain.Event{
		customerEvent(domain.TypeCustomerAcquired, "m1", "C-1042", t0),
		customerEvent(domain.TypeComplaintFiled, "m2", "C-1042", t0.Add(time.Hour)),
		customerEvent(domain.TypeComplaintFiled, "m3", "C-1042", t0.Add(2*time.Hour)),
		customerEvent(domain.TypeReferralMade, "m4", "C-1042", t0.Add(3*time.Hour)),
		customerEvent(domain.TypeRevenueRecorded, "m5", "C-1042", t0.Add(4*time.Hour)),
	}
	mine[1].Subject = "jane.doe@example.org"
	mine[1].AsSent = asSent(t, domain.Member{Data: true, Name: "nickname", Raw: `"Zorro-77"`},
		domain.Member{Data: true, Name: "plan", Raw: `"gold"`}, domain.Member{Name: "tenant", Raw: `"acme-eu-7"`},
		domain.Member{Data: true, Name: "address", Raw: `{"street":"Elm Street 5","zip":12345}`})
	mine[2].Data.ComplaintID = "C-1042/77"
	ref := customerEvent(domain.TypeReferralMade, "r1", "C-7", t0.Add(5*time.Hour))
	ref.Data.ReferredID = "C-1042"
	ref.AsSent = asSent(t, domain.Member{Data: true, Name: "referred_by_name", Raw: `"C-1042"`}, domain.Member{Data: true, Name: "plan", Raw: `"gold"`})
	evs[3].AsSent = asSent(t, domain.Member{Data: true, Name: "plan", Raw: `"gold"`})
	seqs := make([]uint64, 0, len(evs)+6)
	for i := range len(evs) + 6 {
		seqs = append(seqs, uint64(100+i))
	}
	all := append(append(evs[:1000:1000], append(mine, ref)...), evs[1000:]...)
	for i := 0; i < len(all); i += 100 {
		j := min(i+100, len(all))
		if _, err := l.CommitBatch(eventstore.Batch{Events: all[i:j], StreamSeqs: seqs[i:j]}); err != nil {
			t.Fatal(err)
		}
	}
	return l, dir
}

func asSent(t *testing.T, ms ...domain.Member) domain.AsSent {
	t.Helper()
	a, err := domain.NewAsSent(ms...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// erasedValues are the customer's personal data a byte search must not find.
var erasedValues = []string{"C-1042", "jane.doe@example.org", "Zorro-77", "acme-eu-7", "Elm Street 5"}

func grepCount(t *testing.T, path, s string) int {
	t.Helper()
	hits, err := scrub.Find(path, [][]byte{[]byte(s)})
	if err != nil {
		t.Fatal(err)
	}
	return len(hits)
}

// aggregates is what must not change: events by type, distinct customers,
// distinct referred customers.
func aggregates(t *testing.T, l *eventstore.Log) string {
	t.Helper()
	byType := map[domain.Type]int{}
	customers, referred := map[string]bool{}, map[string]bool{}
	err := l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		if ev.Type == domain.TypeCustomerForgotten {
			return nil
		}
		byType[ev.Type]++
		customers[ev.Data.CustomerID] = true
		if ev.Data.ReferredID != "" {
			referred[ev.Data.ReferredID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(byType, len(customers), len(referred))
}

func TestForgetErasesTheCustomerAndKeepsTheAggregates(t *testing.T) {
	l, dir := forgetLog(t)
	path := filepath.Join(dir, "events.db")
	before := aggregates(t, l)
	for _, s := range erasedValues {
		if grepCount(t, path, s) == 0 {
			t.Fatalf("the test log does not hold %q", s)
		}
	}
	ctx := context.Background()
	plan, err := l.PlanForget(ctx, "C-1042")
	if err != nil {
		t.Fatal(err)
	}
	if plan.Pseudonym != "erased-1" || plan.Events != 5 || plan.Mentions != 1 || plan.Rewrite != 3 || plan.Unmapped != 0 {
		t.Fatalf("plan %+v", plan)
	}
	// The stream sequences of the six events: 100 + their position.
	if fmt.Sprint(plan.StreamSeqs) != "[1100 1101 1102 1103 1104 1105]" {
		t.Fatalf("stream sequences %v", plan.StreamSeqs)
	}
	if fmt.Sprintf("%q", plan.Needles()) != `["C-1042" "12345" "Elm Street 5" "Zorro-77" "acme-eu-7" "gold" "jane.doe@example.org"]` ||
		fmt.Sprint(plan.Kept()) != "[false false false false false true false]" { // others have plan gold too
		t.Fatalf("needles %q kept %v", plan.Needles(), plan.Kept())
	}
	rep, err := l.Forget(ctx, plan, eventstore.ForgetOptions{Reason: "art. 17 request 2026-118", RequestedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rewritten != 3 || rep.Seq != l.LastSeq() || rep.PagesScrubbed == 0 {
		t.Fatalf("report %+v", rep)
	}
	t.Logf("%+v", rep)
	for _, s := range erasedValues {
		if n := grepCount(t, path, s); n != 0 {
			t.Errorf("events.db still holds %q %d times", s, n)
		}
	}
	if got := aggregates(t, l); got != before {
		t.Fatalf("aggregates changed:\n%s\n%s", before, got)
	}
	// The customer's events read the pseudonym, and so does the referral.
	var forgotten []domain.Event
	err = l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		switch {
		case ev.Type == domain.TypeCustomerForgotten:
			forgotten = append(forgotten, ev)
		case ev.ID == "m2" && (ev.Data.CustomerID != "erased-1" || ev.Subject != "erased-1" || !ev.AsSent.IsZero()):
			return fmt.Errorf("m2 reads %+v", ev)
		case ev.ID == "m3" && ev.Data.ComplaintID != "erased-1/77":
			return fmt.Errorf("m3's complaint id is %q", ev.Data.ComplaintID)
		case ev.ID == "r1" && (ev.Data.CustomerID != "C-7" || ev.Data.ReferredID != "erased-1" ||
			ev.AsSent.String() != `[data.plan="gold" data.referred_by_name="erased-1"]`):
			return fmt.Errorf("the referral reads %+v %s", ev.Data, ev.AsSent)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(forgotten) != 1 {
		t.Fatalf("%d erasure events", len(forgotten))
	}
	f, err := domain.ParseForgotten(&forgotten[0])
	if err != nil || f.Pseudonym != "erased-1" || f.Reason != "art. 17 request 2026-118" || f.RequestedBy != "alice" || forgotten[0].Source != domain.ForgetSource {
		t.Fatalf("erasure event %+v: %+v %v", forgotten[0], f, err)
	}
	if _, err := l.Verify(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// A backup taken now holds none of it.
	bak := filepath.Join(t.TempDir(), "backup.db")
	if _, err := l.BackupFile(bak); err != nil {
		t.Fatal(err)
	}
	for _, s := range erasedValues {
		if n := grepCount(t, bak, s); n != 0 {
			t.Errorf("a backup taken after holds %q %d times", s, n)
		}
	}
	if _, err := l.PlanForget(ctx, "C-1042"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("forgetting again: %v, want not found", err)
	}

	// After a restart: an old message redelivered is still a duplicate; the
	// customer's new events start afresh under their id.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := grepCount(t, path+".keys", "C-1042"); n != 0 {
		t.Fatalf("the key snapshot holds the customer id %d times", n)
	}
	l = MustOpen(t, dir)
	old := customerEvent(domain.TypeComplaintFiled, "m2", "C-1042", t0.Add(time.Hour))
	fresh := customerEvent(domain.TypeComplaintFiled, "n1", "C-1042", t0.Add(48*time.Hour))
	res, err := l.Append(old, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || res[1].Duplicate {
		t.Fatalf("results %+v: the old event must be a duplicate, the new one stored", res)
	}
	var erasedCount, freshCount int
	err = l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		switch ev.Data.CustomerID {
		case "erased-1":
			erasedCount++
		case "C-1042":
			freshCount++
		}
		return nil
	})
	if err != nil || erasedCount != 6 || freshCount != 1 {
		t.Fatalf("%d events read erased-1 (want 5 and the erasure's), %d C-1042 (want 1): %v", erasedCount, freshCount, err)
	}
}

func TestForgetRefusals(t *testing.T) {
	l, _ := forgetLog(t)
	ctx := context.Background()
	if _, err := l.PlanForget(ctx, "C-404"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("unknown customer: %v", err)
	}
	if _, err := l.PlanForget(ctx, "billing"); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("a string that is a category too: %v, want a conflict", err)
	}
	if _, err := l.PlanForget(ctx, "erased-3"); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("a pseudonym: %v", err)
	}
	plan, err := l.PlanForget(ctx, "C-1042")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Forget(ctx, plan, eventstore.ForgetOptions{Reason: "C-1042 asked", RequestedBy: "alice"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("a reason holding the id: %v", err)
	}
	if _, err := l.Forget(ctx, plan, eventstore.ForgetOptions{Reason: "asked"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("no requester: %v", err)
	}
	// An event whose id carries the customer id cannot be rewritten: its
	// (source, id) is its identity.
	if _, err := l.Append(customerEvent(domain.TypeComplaintFiled, "C-5/1", "C-5", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.PlanForget(ctx, "C-5"); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("an id holding the customer id: %v, want a conflict", err)
	}
	// Nothing changed.
	if n := grepCount(t, l.Path(), "jane.doe@example.org"); n == 0 {
		t.Fatal("a refused erasure changed the log")
	}
}

func TestForgetKeepsValuesOtherCustomersHold(t *testing.T) {
	l, _ := forgetLog(t)
	// C-10421 holds C-1042; another customer's event has the same subject.
	other := customerEvent(domain.TypeComplaintFiled, "x1", "C-10421", t0)
	other2 := customerEvent(domain.TypeComplaintFiled, "x2", "C-3", t0)
	other2.Subject = "jane.doe@example.org"
	if _, err := l.Append(other, other2); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plan, err := l.PlanForget(ctx, "C-1042")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(plan.Kept()) != "[true false false false false true true]" {
		t.Fatalf("kept %v", plan.Kept())
	}
	if _, err := l.Forget(ctx, plan, eventstore.ForgetOptions{RequestedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	err = l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		if (ev.ID == "x1" && ev.Data.CustomerID != "C-10421") || (ev.ID == "x2" && ev.Subject != "jane.doe@example.org") {
			return fmt.Errorf("another customer's event changed: %+v", ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestForgetWhileAppending(t *testing.T) {
	l, dir := forgetLog(t)
	c := eventstore.NewCommitter(l)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var appendErr error
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			customer := fmt.Sprintf("C-%d", 5000+i%50)
			if i%7 == 0 {
				customer = "C-1042" // the customer keeps sending events
			}
			if _, err := c.Append(context.Background(), customerEvent(domain.TypeComplaintFiled, fmt.Sprintf("live%d", i), customer, t0)); err != nil {
				appendErr = err
				return
			}
		}
	})
	plan, err := l.PlanForget(context.Background(), "C-1042")
	if err != nil {
		t.Fatal(err)
	}
	// Events of the customer stored after the plan, one with a subject.
	late := customerEvent(domain.TypeComplaintFiled, "late1", "C-1042", t0)
	late.Subject = "jane.doe@example.org"
	if _, err := c.Append(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Forget(context.Background(), plan, eventstore.ForgetOptions{RequestedBy: "alice", MaxHold: 50 * time.Millisecond})
	cancel()
	wg.Wait()
	c.Close()
	if err != nil || appendErr != nil {
		t.Fatalf("forget: %v; append: %v", err, appendErr)
	}
	// Events before the erasure read the pseudonym; after it, the
	// customer's new events read their id.
	err = l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		if seq < rep.Seq && ev.Data.CustomerID == "C-1042" {
			return fmt.Errorf("event %d (%s), before the erasure at %d, reads C-1042", seq, ev.ID, rep.Seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Verify(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if rep.Late == 0 {
		t.Fatal("the event stored after the plan was not caught")
	}
	if n := grepCount(t, filepath.Join(dir, "events.db"), "jane.doe@example.org"); n != 0 {
		t.Fatalf("the late event's subject is still in the file %d times", n)
	}
	t.Logf("%d late events, longest hold %s (rewrite %s, commit %s, scrub %s)", rep.Late, rep.MaxHold, rep.RewriteHold, rep.CommitHold, rep.ScrubHold)
}

func TestAnUnfinishedScrubIsFinishedAtOpen(t *testing.T) {
	l, dir := forgetLog(t)
	path := filepath.Join(dir, "events.db")
	// A reader opened before the erasure, and kept open past the scrub's
	// wait, as a long backup would.
	var reading sync.WaitGroup
	started, release := make(chan struct{}), make(chan struct{})
	reading.Go(func() {
		_ = l.View(func(*eventstore.Snapshot) error {
			close(started)
			<-release
			return nil
		})
	})
	<-started
	ctx := context.Background()
	plan, err := l.PlanForget(ctx, "C-1042")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Forget(ctx, plan, eventstore.ForgetOptions{RequestedBy: "alice", MaxHold: 10 * time.Millisecond, ScrubWait: 50 * time.Millisecond})
	if !errors.Is(err, scrub.ErrReaders) {
		t.Fatalf("forget with an older reader open: %v, want ErrReaders", err)
	}
	close(release)
	reading.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if grepCount(t, path, "jane.doe@example.org") == 0 {
		t.Fatal("the test does not leave old pages behind")
	}
	l = MustOpen(t, dir)
	for _, s := range erasedValues {
		if n := grepCount(t, path, s); n != 0 {
			t.Errorf("after the next open, events.db still holds %q %d times", s, n)
		}
	}
}
