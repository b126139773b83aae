package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/problems"
)

// BatchPublisherConfig configures a BatchPublisher.
type BatchPublisherConfig struct {
	// Publisher configures the per-message Publisher that re-sends the
	// events of a failed batch and publishes everything when the stream does
	// not take batches; its Window also bounds the events queued for the
	// batch sender. Its Progress and ProgressEvery are the BatchPublisher's.
	Publisher PublisherConfig
	// BatchSize is the number of events one fast batch holds before it is
	// committed. A failed batch is re-sent whole, so it bounds the re-sent
	// events too. Default 65536.
	BatchSize int
	// Flow is how many events the server may store between two flow
	// acknowledgements (the server caps it at 500). Default 500.
	Flow int
	// MaxOutstandingAcks is how many flow acknowledgements the sender may be
	// behind before it waits: Flow × MaxOutstandingAcks events are in flight
	// at most. Default 8.
	MaxOutstandingAcks int
	// Linger is how long an open batch waits for its next event before it is
	// committed: a pause of the caller commits what it sent (the server
	// abandons a batch idle for 10s). Default 20ms.
	Linger time.Duration
	// MaxFailedBatches is the number of batches in a row that may fail before
	// the BatchPublisher stops batching and sends the rest one message at a
	// time (a server that answers batches with plain acknowledgements, one
	// that keeps failing them). Default 3.
	MaxFailedBatches int
}

func (c *BatchPublisherConfig) setDefaults() {
	c.Publisher.setDefaults()
	c.BatchSize = cmp.Or(c.BatchSize, 65536)
	c.Flow = cmp.Or(c.Flow, 500)
	c.MaxOutstandingAcks = cmp.Or(c.MaxOutstandingAcks, 8)
	c.Linger = cmp.Or(c.Linger, 20*time.Millisecond)
	c.MaxFailedBatches = cmp.Or(c.MaxFailedBatches, 3)
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *BatchPublisherConfig) Validate() error {
	var errs []error
	if err := c.Publisher.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("batch publisher BatchSize is %d; it must be at least 1", c.BatchSize))
	}
	if c.Flow < 1 || c.Flow > 65535 || c.MaxOutstandingAcks < 1 || c.MaxOutstandingAcks > 65535 {
		errs = append(errs, fmt.Errorf("batch publisher Flow (%d) and MaxOutstandingAcks (%d) must be from 1 to 65535", c.Flow, c.MaxOutstandingAcks))
	}
	if c.Linger <= 0 || c.MaxFailedBatches < 1 {
		errs = append(errs, errors.New("batch publisher Linger and MaxFailedBatches must be positive"))
	}
	return problems.Join(ErrConfig, errs)
}

// BatchPublisher publishes messages to JetStream in fast batches (ADR-50,
// nats-server 2.14+, a stream with AllowBatchPublish): the server stores
// each message as it arrives and answers the batch with flow
// acknowledgements every few hundred messages and one PubAck when it is
// committed, instead of one PubAck a message. A message counts as acked
// only when the PubAck of its batch's commit says the server stored the
// whole batch. A batch that fails (an error, a gap, a lost connection, an
// ack timeout) is re-sent whole through a per-message Publisher, which
// retries and reports as a Publisher does; the messages of it the server
// had already stored are dropped there as duplicates by their Nats-Msg-Id,
// so messages without one may be stored twice after a failed batch.
//
// Inside a batch the server drops a message whose Nats-Msg-Id it stored
// within the duplicate window as it does outside one, but does not report
// it: Duplicates counts only those of re-sent messages. When the stream
// does not allow batches, every message goes through the per-message
// Publisher. Publish is not safe for concurrent use; call it from one
// goroutine, then Wait.
type BatchPublisher struct {
	cfg     BatchPublisherConfig
	js      jetstream.JetStream
	start   time.Time
	batches atomic.Bool // the stream takes fast batches and they keep working

	// single re-sends failed batches and publishes when batches are off. It
	// is used by the sender goroutine only, until the sender finishes.
	single *Publisher

	ctx    context.Context // ends when Wait gives up
	cancel context.CancelFunc
	sendq  chan *pubItem
	sent   chan struct{} // sender finished
	stopPr chan struct{}
	prDone sync.WaitGroup

	published, acked, resent, inflight atomic.Int64
	closed                             bool
}

// NewBatchPublisher returns a BatchPublisher on the client's connection. It
// batches when EventsStream allows batch publishing (EnsureStreams sets
// it) and publishes one message at a time otherwise.
func (c *Client) NewBatchPublisher(ctx context.Context, cfg BatchPublisherConfig) (*BatchPublisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	single := cfg.Publisher
	single.Progress = nil
	sp, err := c.NewPublisher(single)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(c.nc)
	if err != nil {
		return nil, fmt.Errorf("nats: jetstream context: %w", err)
	}
	allowed, err := c.eventsStreamTakesBatches(ctx)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(context.Background())
	p := &BatchPublisher{
		cfg:    cfg,
		js:     js,
		start:  time.Now(),
		single: sp,
		ctx:    pctx,
		cancel: cancel,
		sendq:  make(chan *pubItem, cfg.Publisher.Window),
		sent:   make(chan struct{}),
		stopPr: make(chan struct{}),
	}
	p.batches.Store(allowed)
	go p.sender()
	if cfg.Publisher.Progress != nil {
		p.prDone.Add(1)
		go func() {
			defer p.prDone.Done()
			every(cfg.Publisher.ProgressEvery, p.stopPr, func() { cfg.Publisher.Progress(p.Stats()) })
		}()
	}
	return p, nil
}

// eventsStreamTakesBatches reports whether EventsStream allows fast batch
// publishing.
func (c *Client) eventsStreamTakesBatches(ctx context.Context) (bool, error) {
	st, err := c.js.Stream(ctx, EventsStream)
	if err != nil {
		return false, fmt.Errorf("stream %s: %w", EventsStream, err)
	}
	return st.CachedInfo().Config.AllowBatchPublish, nil
}

// Batching reports whether the BatchPublisher still sends batches: false
// when the stream does not allow them or MaxFailedBatches failed in a row.
func (p *BatchPublisher) Batching() bool { return p.batches.Load() }

// PublishEvent encodes ev as CloudEvents JSON and publishes it to its type's
// subject.
func (p *BatchPublisher) PublishEvent(ctx context.Context, ev *domain.Event) error {
	return p.submit(ctx, eventItem(ev))
}

// Publish queues data for subject with the given Nats-Msg-Id (none when
// empty), blocking while Window messages are queued. The BatchPublisher
// keeps its own copy of data. It fails only when ctx ends or the
// BatchPublisher is already waited on; messages that cannot be published
// are counted and reported by Wait.
func (p *BatchPublisher) Publish(ctx context.Context, subject, msgID string, data []byte) error {
	return p.submit(ctx, newItem(subject, msgID, data))
}

func (p *BatchPublisher) submit(ctx context.Context, it *pubItem) error {
	if p.closed {
		return ErrPublisherDone
	}
	p.published.Add(1)
	p.inflight.Add(1)
	select {
	case p.sendq <- it:
		return nil
	case <-ctx.Done():
		// Never queued: counted failed by the per-message Publisher, whose
		// counts are part of Stats.
		p.inflight.Add(-1)
		p.single.fail(it, ctx.Err())
		return fmt.Errorf("publish: %w", ctx.Err())
	}
}

// sender runs the batches: it adds queued messages to the open batch,
// commits it when it is full, when no message came for Linger, or when the
// queue is closed, and hands a failed batch's messages to the per-message
// Publisher.
func (p *BatchPublisher) sender() {
	defer close(p.sent)
	var b openBatch
	failedInRow := 0
	finish := func(last *pubItem) {
		if err := p.commit(&b, last); err != nil {
			p.resend(b.items, err)
			failedInRow++
			if failedInRow >= p.cfg.MaxFailedBatches {
				p.batches.Store(false)
			}
		} else {
			failedInRow = 0
		}
		b = openBatch{items: b.items[:0]}
	}
	var linger *time.Timer
	for {
		var it *pubItem
		var ok bool
		if b.fp == nil {
			it, ok = <-p.sendq
		} else {
			select {
			case it, ok = <-p.sendq:
			default:
				if linger == nil {
					linger = time.NewTimer(p.cfg.Linger)
				} else {
					linger.Reset(p.cfg.Linger)
				}
				select {
				case it, ok = <-p.sendq:
					linger.Stop()
				case <-linger.C:
					finish(nil)
					continue
				}
			}
		}
		if !ok {
			break
		}
		if !p.batches.Load() || p.ctx.Err() != nil {
			p.resend([]*pubItem{it}, nil)
			continue
		}
		if b.fp == nil {
			fp, err := jetstreamext.NewFastPublisher(p.js, jetstreamext.FastPublishFlowControl{
				Flow: uint16(p.cfg.Flow), MaxOutstandingAcks: uint16(p.cfg.MaxOutstandingAcks), AckTimeout: p.cfg.Publisher.AckTimeout,
			})
			if err != nil {
				p.resend([]*pubItem{it}, err)
				continue
			}
			b.fp = fp
		}
		b.items = append(b.items, it)
		if len(b.items) == p.cfg.BatchSize {
			finish(it)
			continue
		}
		if _, err := b.fp.AddMsg(it.msg); err != nil {
			// The batch is over: its messages so far are re-sent.
			b.err = fmt.Errorf("batch message %d: %w", len(b.items), err)
			finish(nil)
		}
	}
	if b.fp != nil {
		finish(nil)
	}
}

// openBatch is the batch the sender is filling.
type openBatch struct {
	fp    jetstreamext.FastPublisher
	items []*pubItem
	err   error // the batch failed before its commit
}

// commit commits b, with last as its final message or, when last is nil,
// with an end-of-batch marker, and waits for its PubAck. It counts the
// batch acked when the PubAck covers every message, and returns the error
// that failed it otherwise.
func (p *BatchPublisher) commit(b *openBatch, last *pubItem) error {
	if b.err != nil {
		return b.err
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Publisher.AckTimeout)
	defer cancel()
	var ack *jetstreamext.BatchAck
	var err error
	if last != nil {
		ack, err = b.fp.CommitMsg(ctx, last.msg)
	} else {
		ack, err = b.fp.Close(ctx)
	}
	if err != nil {
		return fmt.Errorf("commit batch of %d: %w", len(b.items), err)
	}
	if ack.BatchSize != uint64(len(b.items)) {
		return fmt.Errorf("commit batch of %d: the server acknowledged %d", len(b.items), ack.BatchSize)
	}
	p.acked.Add(int64(len(b.items)))
	p.inflight.Add(-int64(len(b.items)))
	for _, it := range b.items {
		release(it)
	}
	return nil
}

// resend hands items to the per-message Publisher (after a failed batch,
// cause, or when batches are off).
func (p *BatchPublisher) resend(items []*pubItem, cause error) {
	if cause != nil {
		p.resent.Add(int64(len(items)))
	}
	for _, it := range items {
		p.inflight.Add(-1)
		// The Publisher copies the message; an error means it counted the
		// message failed already (the wait was given up on).
		_ = p.single.Publish(p.ctx, it.msg.Subject, it.id[0], it.buf)
		release(it)
	}
}

// Wait commits the open batch, waits until every message is acknowledged
// or given up on, then stops the BatchPublisher. It returns the final
// counts and a *PublishError when any message failed.
func (p *BatchPublisher) Wait(ctx context.Context) (PublishStats, error) {
	var err error
	if !p.closed {
		p.closed = true
		stop := context.AfterFunc(ctx, p.cancel)
		close(p.sendq)
		<-p.sent
		_, err = p.single.Wait(ctx)
		stop()
		p.cancel()
		close(p.stopPr)
		p.prDone.Wait()
	}
	st := p.Stats()
	if p.cfg.Publisher.Progress != nil {
		p.cfg.Publisher.Progress(st)
	}
	return st, err
}

// Stats returns the counts so far: those of the batches and of the
// per-message Publisher together.
func (p *BatchPublisher) Stats() PublishStats {
	s := p.single.Stats()
	return PublishStats{
		Published:  p.published.Load(),
		Acked:      p.acked.Load() + s.Acked,
		Duplicates: s.Duplicates,
		Failed:     s.Failed,
		Retries:    p.resent.Load() + s.Retries,
		Pending:    p.inflight.Load() + s.Pending,
		Elapsed:    time.Since(p.start),
	}
}
