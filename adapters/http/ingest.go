package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/plaint/plaint/domain"
)

// The media types of POST /v1/events (CloudEvents' HTTP binding,
// structured and batched mode).
const (
	CloudEventType      = "application/cloudevents+json"
	CloudEventBatchType = "application/cloudevents-batch+json"
)

// Message is one event posted to POST /v1/events, checked: the decoded
// event and the CloudEvent JSON it came as, which is what is published.
type Message struct {
	Event domain.Event
	Data  []byte
}

// Publish publishes checked events to NATS, on the path every event takes
// into plaint, and returns once JetStream acknowledged them all. The
// command line wires it; a NATS that does not answer is an EUNAVAILABLE
// error.
type Publish func(ctx context.Context, msgs []Message) error

// Rejected is one event POST /v1/events refused, by its index in the
// batch (0 for a single event).
type Rejected struct {
	Index   int    `json:"index"`
	ID      string `json:"id,omitempty"`
	Field   string `json:"field"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// IngestAccepted is the answer of POST /v1/events when every event was
// published.
type IngestAccepted struct {
	Accepted int      `json:"accepted"`
	IDs      []string `json:"ids"`
}

// IngestRejected is the answer of POST /v1/events when any event is
// invalid: none was published.
type IngestRejected struct {
	Error    ErrorBody  `json:"error"`
	Rejected []Rejected `json:"rejected"`
}

func (s *Server) registerIngestRoute() {
	if s.cfg.Publish == nil {
		return
	}
	s.handle("POST /v1/events", RoleIngest, s.handlePostEvents)
}

// handlePostEvents checks every posted event with the decoder the ingest
// uses and, when all are valid, publishes them: 202 with their ids, or 400
// with the errors of each rejected event and nothing published.
func (s *Server) handlePostEvents(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	raws, err := splitEvents(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	msgs, rejected := checkEvents(raws)
	if len(rejected) > 0 {
		writeJSON(w, http.StatusBadRequest, IngestRejected{
			Error: ErrorBody{Code: domain.EINVALID, Message: fmt.Sprintf(
				"%d of %d events are invalid; none was published", len(rejected), len(raws))},
			Rejected: rejected})
		return
	}
	if err := s.cfg.Publish(r.Context(), msgs); err != nil {
		s.error(w, r, err)
		return
	}
	out := IngestAccepted{Accepted: len(msgs), IDs: make([]string, len(msgs))}
	for i, m := range msgs {
		out.IDs[i] = m.Event.ID
	}
	writeJSON(w, http.StatusAccepted, out)
}

// splitEvents returns the CloudEvents of a body of the given content type.
func splitEvents(contentType string, body []byte) ([]json.RawMessage, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = ""
	}
	switch mt {
	case CloudEventType:
		return []json.RawMessage{body}, nil
	case CloudEventBatchType:
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, domain.Errorf(domain.EINVALID, "a %s body is a JSON array of CloudEvents: %v", CloudEventBatchType, err)
		}
		if len(raws) == 0 {
			return nil, domain.Errorf(domain.EINVALID, "the batch holds no event")
		}
		return raws, nil
	}
	return nil, domain.Errorf(domain.EINVALID, "Content-Type %q: send one event as %s or a batch as %s", contentType, CloudEventType, CloudEventBatchType)
}

// checkEvents decodes each event as the ingest does.
func checkEvents(raws []json.RawMessage) ([]Message, []Rejected) {
	var dec domain.Decoder
	msgs := make([]Message, 0, len(raws))
	var rejected []Rejected
	for i, raw := range raws {
		ev, err := dec.Decode("", raw)
		if err == nil {
			msgs = append(msgs, Message{Event: ev, Data: raw})
			continue
		}
		rj := Rejected{Index: i, Message: err.Error(), Reason: "invalid"}
		var de *domain.Error
		if errors.As(err, &de) {
			rj.Field, rj.Message = de.Field, de.Message
			if de.Reason != "" {
				rj.Reason = de.Reason
			}
		}
		var id struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(raw, &id) == nil {
			if s, ok := id.ID.(string); ok && len(s) <= 256 {
				rj.ID = s
			}
		}
		rejected = append(rejected, rj)
	}
	return msgs, rejected
}
