package http

import (
	"bufio"
	"net/http"
	"strconv"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// handleEvents streams stored events as JSON lines (CloudEvents with an added
// "plaintseq"): GET /v1/events?from=SEQ&limit=N. limit defaults to 1000 and is
// at most 100000.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err := parseUint(q.Get("from"), 1)
	if err != nil {
		s.error(w, r, domain.FieldErrorf("from", "%q is not a sequence number", q.Get("from")))
		return
	}
	limit, err := parseUint(q.Get("limit"), 1000)
	if err != nil || limit == 0 || limit > 100000 {
		s.error(w, r, domain.FieldErrorf("limit", "%q must be a number from 1 to 100000", q.Get("limit")))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	n := uint64(0)
	err = s.cfg.Log.ViewRecords(func(snap eventstore.RecordView) error {
		w.Header().Set("Plaint-Last-Seq", strconv.FormatUint(snap.LastSeq(), 10))
		return snap.Scan(from, 0, func(seq uint64, rec eventstore.Record) error {
			ev, err := snap.Decode(rec)
			if err != nil {
				return err
			}
			line, err := MarshalStored(seq, rec, ev)
			if err != nil {
				return err
			}
			bw.Write(line)
			bw.WriteByte('\n')
			n++
			if n >= limit {
				return eventstore.ErrStop
			}
			return nil
		})
	})
	if err != nil {
		s.cfg.Logger.Error("events tail failed", "err", err)
	}
}

// MarshalStored renders a stored event as its CloudEvent JSON plus the log's
// own attributes: plaintseq and plaintrecordtime.
func MarshalStored(seq uint64, rec eventstore.Record, ev domain.Event) ([]byte, error) {
	b, err := ev.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// The event is a JSON object: put the two attributes before its closing
	// brace instead of decoding and encoding it again.
	b = append(b[:len(b)-1], `,"plaintseq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"plaintrecordtime":"`...)
	b = time.Unix(0, rec.RecordTime()).UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...), nil
}

func parseUint(s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseUint(s, 10, 64)
}
