package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/domain"
)

// headerValueMax bounds a header value of a dead letter, in bytes.
const headerValueMax = 1024

// PublishDeadLetter publishes to DLQStream the message of EventsStream that plaint
// rejects: the one published to subject with data, at streamSeq in the
// stream (0 when unknown) and stored by it at stored (zero when unknown),
// rejected with cause (a domain.Error whose Reason goes in the
// Plaint-Reason header; "invalid" when it has none). It returns once the
// message is sent; the future says when JetStream stored it.
//
// plaint.events.complaint.filed becomes plaint.dlq.complaint.filed, so that
// a dead letter keeps its event type in its subject (plaint.dlq.unknown
// for a subject outside plaint.events.). A body too large for the server
// beside the headers is cut to fit, with its original size in
// Plaint-Truncated. A dead letter with a stream sequence carries the
// Nats-Msg-Id dlq:PLAINT_EVENTS:<seq>:<stored, Unix nanoseconds> (without
// the time when it is not known): a redelivery after a lost ack publishes
// the same one, which JetStream drops within its duplicate window, while
// the message at the same sequence of a stream deleted and made anew has
// another; DeadLetterOrigin finds the original from it.
func (c *Client) PublishDeadLetter(ctx context.Context, subject string, data []byte, streamSeq uint64, stored time.Time, cause error) (jetstream.PubAckFuture, error) {
	msg, opts := c.deadLetterMsg(subject, data, streamSeq, stored, cause)
	f, err := c.js.PublishMsgAsync(msg, opts...)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
		return nil, fmt.Errorf("dead-letter to %s: %w", msg.Subject, err)
	}
	// Too many publishes outstanding: publish this one synchronously.
	ack, err := c.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		return nil, fmt.Errorf("dead-letter to %s: %w", msg.Subject, err)
	}
	return newSyncFuture(msg, ack), nil
}

// deadLetterMsg returns the dead letter of a message and its publish
// options.
func (c *Client) deadLetterMsg(subject string, data []byte, streamSeq uint64, stored time.Time, cause error) (*nats.Msg, []jetstream.PublishOpt) {
	token := strings.TrimPrefix(subject, domain.SubjectPrefix)
	if token == subject || token == "" {
		token = "unknown"
	}
	reason := "invalid"
	var de *domain.Error
	if errors.As(cause, &de) && de.Reason != "" {
		reason = de.Reason
	}
	hdr := nats.Header{}
	hdr.Set(HeaderReason, reason)
	hdr.Set(HeaderError, headerValue(cause.Error()))
	hdr.Set(HeaderOriginalSubject, headerValue(subject))
	if max := int(c.nc.MaxPayload()) - 4096; max > 0 && len(data) > max {
		hdr.Set(HeaderTruncated, strconv.Itoa(len(data)))
		data = data[:max]
	}
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(DLQStream)}
	if streamSeq > 0 {
		opts = append(opts, jetstream.WithMsgID(deadLetterMsgID(streamSeq, stored)))
	}
	return &nats.Msg{Subject: DLQSubjectPrefix + token, Header: hdr, Data: data}, opts
}

// deadLetterIDPrefix, the message's sequence in EventsStream and the time
// the stream stored it make the Nats-Msg-Id of a dead letter
// (DeadLetterOrigin reads it back).
const deadLetterIDPrefix = "dlq:" + EventsStream + ":"

// deadLetterMsgID returns the Nats-Msg-Id of the dead letter of the stream
// message seq, stored at stored (left out when zero, as before plaint
// wrote it).
func deadLetterMsgID(seq uint64, stored time.Time) string {
	id := deadLetterIDPrefix + strconv.FormatUint(seq, 10)
	if stored.IsZero() {
		return id
	}
	return id + ":" + strconv.FormatInt(stored.UnixNano(), 10)
}

// headerValue makes s safe for a NATS header value: one line, bounded.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > headerValueMax {
		s = strings.ToValidUTF8(s[:headerValueMax], "")
	}
	return s
}

// syncFuture is the PubAckFuture of a message published synchronously.
type syncFuture struct {
	msg *nats.Msg
	ok  chan *jetstream.PubAck
}

func newSyncFuture(msg *nats.Msg, ack *jetstream.PubAck) jetstream.PubAckFuture {
	f := syncFuture{msg: msg, ok: make(chan *jetstream.PubAck, 1)}
	f.ok <- ack
	return f
}

// Ok returns the channel holding the acknowledgement.
func (f syncFuture) Ok() <-chan *jetstream.PubAck { return f.ok }

// Err returns a channel that never receives: the publish succeeded.
func (f syncFuture) Err() <-chan error { return nil }

// Msg returns the message published.
func (f syncFuture) Msg() *nats.Msg { return f.msg }
