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

// Headers of a dead letter in DLQStream, as PublishDeadLetter writes them.
const (
	HeaderReason          = "Plaint-Reason"           // a domain rejection reason, e.g. "bad_json"
	HeaderError           = "Plaint-Error"            // the error message, naming the field
	HeaderOriginalSubject = "Plaint-Original-Subject" // the subject the message was published to
	HeaderTruncated       = "Plaint-Truncated"        // the original size, when the payload was cut to fit
)

// previewLen bounds the body preview of a listed dead letter, in bytes.
const previewLen = 120

// DeadLetter is one message of the dead-letter stream. ID is its sequence
// in DLQStream, what `plaint dlq show` and `replay` take.
type DeadLetter struct {
	ID              uint64    `json:"id"`
	Reason          string    `json:"reason"`
	Error           string    `json:"error"`
	OriginalSubject string    `json:"original_subject"`
	Time            time.Time `json:"time"`
	Size            int       `json:"size"`
	// Truncated is the original size when the body was cut to fit the
	// dead-letter stream (such a message cannot be replayed as it is).
	Truncated int    `json:"truncated,omitempty"`
	Preview   string `json:"preview"`
	Body      []byte `json:"-"`
}

// DLQFilter selects dead letters. The zero value selects all.
type DLQFilter struct {
	Reason string    // only this reason
	Since  time.Time // only dead-lettered at or after this time
	Limit  int       // at most this many (the oldest first); 0: all
}

func deadLetterOf(seq uint64, subject string, hdr nats.Header, data []byte, t time.Time) DeadLetter {
	d := DeadLetter{ID: seq, Reason: hdr.Get(HeaderReason), Error: hdr.Get(HeaderError),
		OriginalSubject: hdr.Get(HeaderOriginalSubject), Time: t.UTC(), Size: len(data), Body: data}
	if d.OriginalSubject == "" {
		d.OriginalSubject = domain.SubjectPrefix + strings.TrimPrefix(subject, DLQSubjectPrefix)
	}
	if n, err := strconv.Atoi(hdr.Get(HeaderTruncated)); err == nil {
		d.Truncated = n
	}
	d.Preview = preview(data)
	return d
}

// preview returns the start of a body as one line of valid UTF-8.
func preview(b []byte) string {
	cut := len(b) > previewLen
	if cut {
		b = b[:previewLen]
	}
	s := strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), ""))
	if cut {
		s += "…"
	}
	return s
}

// ListDeadLetters returns the dead letters f selects, oldest first.
func (c *Client) ListDeadLetters(ctx context.Context, f DLQFilter) ([]DeadLetter, error) {
	out := []DeadLetter{}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{DLQSubjects}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !f.Since.IsZero() {
		since := f.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	err := scanStream(ctx, c.js, DLQStream, cfg, func(m jetstream.Msg, md *jetstream.MsgMetadata) bool {
		if f.Reason == "" || m.Headers().Get(HeaderReason) == f.Reason {
			out = append(out, deadLetterOf(md.Sequence.Stream, m.Subject(), m.Headers(), m.Data(), md.Timestamp))
		}
		return f.Limit <= 0 || len(out) < f.Limit
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetDeadLetter returns the dead letter with the given ID.
func (c *Client) GetDeadLetter(ctx context.Context, id uint64) (DeadLetter, error) {
	st, err := c.js.Stream(ctx, DLQStream)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead-letter stream %s: %w", DLQStream, err)
	}
	m, err := st.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, ErrDeadLetterNotFound)
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, err)
	}
	return deadLetterOf(m.Sequence, m.Subject, m.Header, m.Data, m.Time), nil
}

// Outcomes of a replayed dead letter.
const (
	ReplayPublished    = "replayed"      // valid now: published to its subject, acked, removed from the DLQ
	ReplayStillInvalid = "still_invalid" // left in the DLQ; Error says why today
	ReplayFailed       = "failed"        // could not be published or removed; left in the DLQ
)

// ReplayResult says what a replay did with one dead letter.
type ReplayResult struct {
	ID      uint64 `json:"id"`
	Outcome string `json:"outcome"`
	Subject string `json:"subject,omitempty"` // where it was published
	Reason  string `json:"reason,omitempty"`  // why it is still invalid (a rejection reason)
	Error   string `json:"error,omitempty"`
}

// Replay re-publishes the dead letters with the given IDs, or without IDs
// every one with reason (every one when reason is empty), that are valid
// now (the Decoder checks them as the server will) to their original
// subject, and removes each from the dead-letter stream only once
// JetStream has acknowledged it. An ID the stream does not hold gets a
// ReplayFailed result. A body given in fixed replaces a dead letter's body
// (an operator's correction); it is published to its own type's subject.
// Dead letters still invalid are left where they are, with today's reason.
// Each replay carries the Nats-Msg-Id "dlq-replay:<id>", so that replaying
// one again within the duplicate window publishes nothing twice; plaint's
// own (source, id) deduplication drops an event already stored.
func (c *Client) Replay(ctx context.Context, ids []uint64, reason string, fixed map[uint64][]byte, dec *domain.Decoder) ([]ReplayResult, error) {
	var letters []DeadLetter
	var missing []ReplayResult
	if len(ids) > 0 {
		for _, id := range ids {
			d, err := c.GetDeadLetter(ctx, id)
			if errors.Is(err, ErrDeadLetterNotFound) {
				missing = append(missing, ReplayResult{ID: id, Outcome: ReplayFailed, Error: "no dead letter with that id (replayed, aged out, or never there)"})
				continue
			}
			if err != nil {
				return nil, err
			}
			letters = append(letters, d)
		}
	} else {
		var err error
		if letters, err = c.ListDeadLetters(ctx, DLQFilter{Reason: reason}); err != nil {
			return nil, err
		}
	}
	results, err := c.replay(ctx, letters, fixed, dec)
	return append(results, missing...), err
}

// replay is Replay for the dead letters selected.
func (c *Client) replay(ctx context.Context, letters []DeadLetter, fixed map[uint64][]byte, dec *domain.Decoder) ([]ReplayResult, error) {
	st, err := c.js.Stream(ctx, DLQStream)
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream %s: %w", DLQStream, err)
	}
	out := make([]ReplayResult, 0, len(letters))
	for _, d := range letters {
		res := ReplayResult{ID: d.ID}
		body, subject := d.Body, d.OriginalSubject
		fix, isFixed := fixed[d.ID]
		if isFixed {
			body, subject = fix, ""
		}
		if d.Truncated > 0 && !isFixed {
			res.Outcome, res.Reason = ReplayStillInvalid, domain.ReasonOversize
			res.Error = fmt.Sprintf("the body was cut from %d bytes to fit the dead-letter stream; replay it with a fixed body", d.Truncated)
			out = append(out, res)
			continue
		}
		ev, err := dec.Decode(subject, body)
		if err != nil {
			res.Outcome, res.Error = ReplayStillInvalid, err.Error()
			var de *domain.Error
			if errors.As(err, &de) {
				res.Reason = de.Reason
			}
			out = append(out, res)
			continue
		}
		res.Subject = ev.Type.Subject()
		msg := nats.NewMsg(res.Subject)
		msg.Data = body
		msg.Header.Set(jetstream.MsgIDHeader, "dlq-replay:"+strconv.FormatUint(d.ID, 10))
		if _, err := c.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(EventsStream)); err != nil {
			res.Outcome, res.Error = ReplayFailed, fmt.Sprintf("publish to %s: %v", res.Subject, err)
			out = append(out, res)
			continue
		}
		if err := st.DeleteMsg(ctx, d.ID); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			res.Outcome, res.Error = ReplayFailed, fmt.Sprintf("published, but not removed from %s (replaying it again publishes nothing twice): %v", DLQStream, err)
			out = append(out, res)
			continue
		}
		res.Outcome = ReplayPublished
		out = append(out, res)
	}
	return out, ctx.Err()
}
