package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/domain"

	"github.com/plaint/plaint/internal/problems"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Window bounds the messages published but not yet acknowledged by
	// JetStream. Default 4096.
	Window int
	// MaxPending caps the messages sent to the server whose acks are not in
	// yet (a retry waiting out its backoff is not sent); a send that finds
	// it full waits StallWait and then fails with "stalled", which the
	// Publisher retries. Default Window.
	MaxPending int
	// StallWait is how long one send may wait for room under MaxPending
	// before it reports a stall. Default 200ms.
	StallWait time.Duration
	// AckTimeout is how long to wait for the PubAck of one message before it
	// counts as timed out and is retried. Default 30s.
	AckTimeout time.Duration
	// MaxAttempts bounds how often one message is sent (first send plus
	// retries) before it counts as failed. Default 10.
	MaxAttempts int
	// RetryBackoff is the pause before the first retry; it doubles per
	// attempt up to MaxBackoff. Defaults 50ms and 2s.
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// Progress, when set, receives the counts every ProgressEvery and once
	// more when Wait returns. It runs on its own goroutine.
	Progress func(PublishStats)
	// ProgressEvery is the period of Progress calls. Default 500ms.
	ProgressEvery time.Duration
}

func (c *PublisherConfig) setDefaults() {
	c.Window = cmp.Or(c.Window, 4096)
	c.MaxPending = cmp.Or(c.MaxPending, c.Window)
	c.StallWait = cmp.Or(c.StallWait, 200*time.Millisecond)
	c.AckTimeout = cmp.Or(c.AckTimeout, 30*time.Second)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, 10)
	c.RetryBackoff = cmp.Or(c.RetryBackoff, 50*time.Millisecond)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, 2*time.Second)
	c.ProgressEvery = cmp.Or(c.ProgressEvery, 500*time.Millisecond)
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *PublisherConfig) Validate() error {
	var errs []error
	if c.Window < 1 {
		errs = append(errs, fmt.Errorf("publisher Window is %d; it must be at least 1", c.Window))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("publisher MaxPending is %d; it must be at least 1", c.MaxPending))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("publisher MaxAttempts is %d; it must be at least 1", c.MaxAttempts))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"StallWait", c.StallWait}, {"AckTimeout", c.AckTimeout}, {"RetryBackoff", c.RetryBackoff}, {"MaxBackoff", c.MaxBackoff}, {"ProgressEvery", c.ProgressEvery}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("publisher %s must be positive", d.name))
		}
	}
	return problems.Join(ErrConfig, errs)
}

// PublishStats counts what a Publisher did.
type PublishStats struct {
	// Published counts messages handed to the Publisher and sent at least once.
	Published int64
	// Acked counts messages JetStream acknowledged (stored or duplicate).
	Acked int64
	// Duplicates counts acks in which JetStream reported the message as a
	// duplicate of one it stored within its duplicate window.
	Duplicates int64
	// Failed counts messages given up on after MaxAttempts or a permanent error.
	Failed int64
	// Retries counts re-sends after a stall, timeout or missing responder.
	Retries int64
	// Pending is the number of messages sent and not yet resolved.
	Pending int64
	// Elapsed is the time since the Publisher was created.
	Elapsed time.Duration
}

// Rate returns acknowledged messages per second.
func (s PublishStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Acked) / s.Elapsed.Seconds()
}

// PublishError reports messages that could not be published.
type PublishError struct {
	Failed int64
	// First holds the first few failures, "msg-id: cause".
	First []string
}

// Error says how many messages were lost and why.
func (e *PublishError) Error() string {
	msg := fmt.Sprintf("%d event(s) could not be published", e.Failed)
	if len(e.First) > 0 {
		msg += "; first: " + e.First[0]
		if len(e.First) > 1 {
			msg += fmt.Sprintf(" (and %d more listed)", len(e.First)-1)
		}
	}
	return msg
}

const maxFailuresKept = 10

// pubItem is one message on its way to JetStream. Items are reused once
// resolved: the message, its header and its copy of the payload are kept.
type pubItem struct {
	msg      *nats.Msg
	id       [1]string // the Nats-Msg-Id header's value
	buf      []byte    // the Publisher's copy of the payload
	attempts int
	due      time.Time
	// token names the send its ack answers (ackRouter), sentAt is when it
	// was sent, and res receives what the ack said.
	token  uint64
	sentAt time.Time
	res    chan ackResult
}

// itemPool holds resolved pubItems for reuse.
var itemPool = sync.Pool{New: func() any {
	return &pubItem{msg: &nats.Msg{Header: nats.Header{}}, res: make(chan ackResult, 1)}
}}

// newItem returns an item holding a copy of data for subject and msgID.
func newItem(subject, msgID string, data []byte) *pubItem {
	it := itemPool.Get().(*pubItem)
	it.buf = append(it.buf[:0], data...)
	it.msg.Subject, it.msg.Data = subject, it.buf
	it.id[0] = msgID
	if msgID != "" {
		it.msg.Header[jetstream.MsgIDHeader] = it.id[:]
	} else {
		delete(it.msg.Header, jetstream.MsgIDHeader)
	}
	return it
}

// release returns an acknowledged item to the pool; large payloads are
// dropped. Items that failed are not reused.
func release(it *pubItem) {
	it.attempts, it.due, it.token = 0, time.Time{}, 0
	if cap(it.buf) > 64<<10 {
		it.buf = nil
	}
	itemPool.Put(it)
}

// Publisher publishes messages to JetStream asynchronously without losing
// any: at most Window are unacknowledged at once, each PubAck is awaited,
// stalls, timeouts and missing responders are retried with backoff, and Wait
// reports every message that could not be published. Publish is not safe for
// concurrent use; call it from one goroutine, then Wait.
type Publisher struct {
	cfg   PublisherConfig
	acks  *ackRouter
	start time.Time

	sem     chan struct{}  // one token per unresolved message
	sendq   chan *pubItem  // FIFO of messages to send, read by the sender
	sent    chan struct{}  // sender finished
	pending chan *pubItem  // FIFO of sent messages, read by the collector
	wake    chan struct{}  // collector → publisher: something resolved
	done    chan struct{}  // collector finished
	stopPr  chan struct{}  // stops the progress goroutine
	abort   chan struct{}  // closed when Wait gives up: unresolved messages fail
	prDone  sync.WaitGroup // progress goroutine finished

	mu       sync.Mutex
	retry    []*pubItem
	failures []string

	published, acked, dups, failed, retries, inflight atomic.Int64
	closed                                            bool
}

// NewPublisher returns a Publisher on the client's connection.
func (c *Client) NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	acks, err := newAckRouter(c.nc, cfg.MaxPending, cfg.StallWait)
	if err != nil {
		return nil, err
	}
	p := &Publisher{
		cfg:     cfg,
		acks:    acks,
		start:   time.Now(),
		sem:     make(chan struct{}, cfg.Window),
		sendq:   make(chan *pubItem, cfg.Window),
		sent:    make(chan struct{}),
		pending: make(chan *pubItem, cfg.Window),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopPr:  make(chan struct{}),
		abort:   make(chan struct{}),
	}
	go p.sender()
	go p.collect()
	if cfg.Progress != nil {
		p.prDone.Add(1)
		go p.progress()
	}
	return p, nil
}

// MsgID returns the Nats-Msg-Id of an event: source "/" id, so JetStream's
// duplicate window drops a re-sent copy.
func MsgID(ev *domain.Event) string { return ev.Source + "/" + ev.ID }

// PublishEvent encodes ev as CloudEvents JSON and publishes it to its type's
// subject.
func (p *Publisher) PublishEvent(ctx context.Context, ev *domain.Event) error {
	return p.submit(ctx, eventItem(ev))
}

// eventItem returns an item holding ev encoded as CloudEvents JSON, for its
// type's subject, with its MsgID.
func eventItem(ev *domain.Event) *pubItem {
	it := newItem(ev.Type.Subject(), MsgID(ev), nil)
	it.buf = ev.AppendJSON(it.buf)
	it.msg.Data = it.buf
	return it
}

// Publish sends data to subject with the given Nats-Msg-Id (none when
// empty). It returns once the message is sent, blocking while Window
// messages await their acks; the ack itself is awaited by Wait. The
// Publisher keeps its own copy of data, so the caller may reuse it as soon as
// Publish returns. It fails only when ctx ends or the Publisher is already
// waited on; messages that cannot be published are counted and reported by
// Wait.
func (p *Publisher) Publish(ctx context.Context, subject, msgID string, data []byte) error {
	return p.submit(ctx, newItem(subject, msgID, data))
}

// submit re-sends the retries that are due, then sends it.
func (p *Publisher) submit(ctx context.Context, it *pubItem) error {
	if p.closed {
		return ErrPublisherDone
	}
	if err := p.resendDue(ctx); err != nil {
		return err
	}
	p.published.Add(1)
	return p.send(ctx, it)
}

// send takes a window slot for it and hands it to the sender goroutine,
// so that encoding the next message and publishing this one overlap.
func (p *Publisher) send(ctx context.Context, it *pubItem) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		p.fail(it, ctx.Err())
		return fmt.Errorf("publish: %w", ctx.Err())
	}
	p.inflight.Add(1)
	p.sendq <- it
	return nil
}

// sender publishes the queued messages in order, retrying stalls in place,
// and hands the sent ones to the collector.
func (p *Publisher) sender() {
	defer close(p.sent)
	for it := range p.sendq {
		if err := p.publish(it); err != nil {
			<-p.sem
			p.fail(it, err)
			p.resolved()
		}
	}
}

// publish sends one message until the connection takes it, backing off after a
// stall or another transient error; it returns the error it gave up on.
func (p *Publisher) publish(it *pubItem) error {
	for {
		if isClosed(p.abort) {
			return errAborted
		}
		it.attempts++
		err := p.acks.send(it)
		if err == nil {
			p.pending <- it
			return nil
		}
		if !retriable(err) || it.attempts >= p.cfg.MaxAttempts {
			return err
		}
		p.retries.Add(1)
		t := time.NewTimer(p.backoff(it.attempts))
		select {
		case <-t.C:
		case <-p.abort:
			t.Stop()
			return errAborted
		}
	}
}

// resolved counts one message as done with and wakes Wait.
func (p *Publisher) resolved() {
	p.inflight.Add(-1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// collect resolves sent messages in order: acks are counted, retriable
// errors go to the retry list, others fail. A message whose ack is not in
// AckTimeout after its send times out (jetstream.ErrAsyncPublishTimeout,
// retried).
func (p *Publisher) collect() {
	defer close(p.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for it := range p.pending {
		res := p.awaitAck(it, timer)
		err := res.err
		if err == nil {
			p.acked.Add(1)
			if res.duplicate {
				p.dups.Add(1)
			}
		}
		<-p.sem
		if err != nil {
			if retriable(err) && it.attempts < p.cfg.MaxAttempts && !isClosed(p.abort) {
				p.retries.Add(1)
				it.due = time.Now().Add(p.backoff(it.attempts))
				p.mu.Lock()
				p.retry = append(p.retry, it)
				p.mu.Unlock()
			} else {
				p.fail(it, err)
			}
		} else {
			release(it)
		}
		p.resolved()
	}
}

// awaitAck returns what it's ack said, a timeout once AckTimeout has passed
// since its send, or errAborted when Wait gave up; timer is the collector's.
func (p *Publisher) awaitAck(it *pubItem, timer *time.Timer) ackResult {
	select {
	case res := <-it.res:
		return res
	default:
	}
	timer.Reset(time.Until(it.sentAt.Add(p.cfg.AckTimeout)))
	defer timer.Stop()
	var cause error
	select {
	case res := <-it.res:
		return res
	case <-timer.C:
		cause = jetstream.ErrAsyncPublishTimeout
	case <-p.abort:
		cause = errAborted
	}
	if !p.acks.forget(it) {
		return <-it.res // the ack came in meanwhile
	}
	return ackResult{err: cause}
}

// resendDue re-sends the retries whose backoff has passed.
func (p *Publisher) resendDue(ctx context.Context) error {
	p.mu.Lock()
	if len(p.retry) == 0 {
		p.mu.Unlock()
		return nil
	}
	now := time.Now()
	var due []*pubItem
	keep := p.retry[:0]
	for _, it := range p.retry {
		if !it.due.After(now) {
			due = append(due, it)
		} else {
			keep = append(keep, it)
		}
	}
	p.retry = keep
	p.mu.Unlock()
	for _, it := range due {
		if err := p.send(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// nextDue returns how long until the earliest queued retry is due, and
// whether there is one.
func (p *Publisher) nextDue() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.retry) == 0 {
		return 0, false
	}
	first := p.retry[0].due
	for _, it := range p.retry[1:] {
		if it.due.Before(first) {
			first = it.due
		}
	}
	return time.Until(first), true
}

// Wait waits until every published message is acknowledged or given up on,
// re-sending retries as they fall due, then stops the Publisher. It returns
// the final counts and a *PublishError when any message failed.
func (p *Publisher) Wait(ctx context.Context) (PublishStats, error) {
	var werr error
	for !p.closed {
		if err := p.resendDue(ctx); err != nil {
			werr = err
			break
		}
		d, queued := p.nextDue()
		if !queued && p.inflight.Load() == 0 {
			break
		}
		var timer *time.Timer
		var due <-chan time.Time
		if queued {
			if d <= 0 {
				continue
			}
			timer = time.NewTimer(d)
			due = timer.C
		}
		select {
		case <-p.wake:
		case <-due:
		case <-ctx.Done():
			werr = fmt.Errorf("wait for acks: %w", ctx.Err())
		}
		if timer != nil {
			timer.Stop()
		}
		if werr != nil {
			break
		}
	}
	if !p.closed {
		p.closed = true
		if werr != nil {
			close(p.abort)
			p.abandon(werr)
		}
		close(p.sendq)
		<-p.sent
		close(p.pending)
		<-p.done
		p.acks.close()
		close(p.stopPr)
		p.prDone.Wait()
	}
	st := p.Stats()
	if p.cfg.Progress != nil {
		p.cfg.Progress(st)
	}
	if werr != nil {
		return st, werr
	}
	if st.Failed > 0 {
		p.mu.Lock()
		first := append([]string(nil), p.failures...)
		p.mu.Unlock()
		return st, &PublishError{Failed: st.Failed, First: first}
	}
	return st, nil
}

// abandon counts every queued retry as failed after the context ended; the
// collector fails the messages still in flight.
func (p *Publisher) abandon(cause error) {
	p.mu.Lock()
	retry := p.retry
	p.retry = nil
	p.mu.Unlock()
	for _, it := range retry {
		p.fail(it, cause)
	}
}

var errAborted = errors.New("gave up waiting for the ack")

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Stats returns the counts so far.
func (p *Publisher) Stats() PublishStats {
	return PublishStats{
		Published:  p.published.Load(),
		Acked:      p.acked.Load(),
		Duplicates: p.dups.Load(),
		Failed:     p.failed.Load(),
		Retries:    p.retries.Load(),
		Pending:    p.inflight.Load(),
		Elapsed:    time.Since(p.start),
	}
}

func (p *Publisher) progress() {
	defer p.prDone.Done()
	every(p.cfg.ProgressEvery, p.stopPr, func() { p.cfg.Progress(p.Stats()) })
}

// every calls f once a period until stop is closed.
func every(period time.Duration, stop <-chan struct{}, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f()
		case <-stop:
			return
		}
	}
}

func (p *Publisher) fail(it *pubItem, err error) {
	p.failed.Add(1)
	p.mu.Lock()
	if len(p.failures) < maxFailuresKept {
		id := it.msg.Header.Get(jetstream.MsgIDHeader)
		if id == "" {
			id = it.msg.Subject
		}
		p.failures = append(p.failures, fmt.Sprintf("%s: %v (after %d attempt(s))", id, err, it.attempts))
	}
	p.mu.Unlock()
}

func (p *Publisher) backoff(attempt int) time.Duration {
	d := p.cfg.RetryBackoff
	for i := 1; i < attempt && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.cfg.MaxBackoff)
}

// errCodeDuplicateInProcess is JetStream's "duplicate message id is in
// process" (409), which nats.go names no constant for.
const errCodeDuplicateInProcess jetstream.ErrorCode = 10158

// retriable reports whether a publish error is transient: the server fell
// behind, an ack timed out, no stream answered yet or the connection dropped.
func retriable(err error) bool {
	if unanswered(err) {
		return true
	}
	switch {
	case errors.Is(err, jetstream.ErrTooManyStalledMsgs),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout),
		// The socket broke under a write (server restarted or crashed): the
		// client reconnects, so the message is sent again.
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, io.EOF):
		return true
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503: JetStream not ready or no quorum; 408: request timeout;
		// 10158: an earlier send of the same Nats-Msg-Id is still being
		// stored (a retry after a stream leader change on a cluster): the
		// next attempt gets its acknowledgement as a duplicate.
		return apiErr.Code == 503 || apiErr.Code == 408 || apiErr.ErrorCode == errCodeDuplicateInProcess
	}
	return false
}
