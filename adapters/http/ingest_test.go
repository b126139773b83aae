package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

func cloudEvent(id, category string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"crm","type":"complaint.filed","time":"2026-10-03T14:22:00Z",`+
		`"data":{"customer_id":"C-1042","category":%q,"segment":"smb","channel":"phone"}}`, id, category)
}

func newIngestServer(t *testing.T, maxBody int64) (*testServer, *published) {
	pub := &published{}
	ts := newTestServer(t, nil, func(c *Config) {
		c.Publish = pub.publish
		c.MaxBody = maxBody
	})
	return ts, pub
}

func TestPostOneEvent(t *testing.T) {
	ts, pub := newIngestServer(t, 0)
	code, _, body := ts.do(t, "POST", "/v1/events", CloudEventType+"; charset=utf-8", []byte(cloudEvent("e1", "billing")))
	if code != 202 || !strings.Contains(body, `"ids": [`) || !strings.Contains(body, `"e1"`) {
		t.Fatalf("%d %s", code, body)
	}
	if pub.count() != 1 || pub.msgs[0].Event.Type != domain.TypeComplaintFiled || pub.msgs[0].Event.Data.Category != "billing" ||
		string(pub.msgs[0].Data) != cloudEvent("e1", "billing") {
		t.Fatalf("published %+v", pub.msgs)
	}
	// Nothing went into the log: the ingest stores what NATS delivers.
	if st, _ := ts.log.Stats(); st.Events != 0 {
		t.Errorf("the log holds %d events", st.Events)
	}
}

func TestPostABatch(t *testing.T) {
	ts, pub := newIngestServer(t, 0)
	batch := "[" + cloudEvent("a", "billing") + ",\n" + cloudEvent("b", "outage") + "]"
	code, _, body := ts.do(t, "POST", "/v1/events", CloudEventBatchType, []byte(batch))
	var out IngestAccepted
	if code != 202 || json.Unmarshal([]byte(body), &out) != nil || out.Accepted != 2 || strings.Join(out.IDs, ",") != "a,b" {
		t.Fatalf("%d %s", code, body)
	}
	if pub.count() != 2 || pub.msgs[1].Event.Data.Category != "outage" {
		t.Fatalf("published %+v", pub.msgs)
	}
}

// TestPostRejectsInvalidEvents: a batch with invalid events publishes
// nothing and names each rejected event with its field and reason.
func TestPostRejectsInvalidEvents(t *testing.T) {
	ts, pub := newIngestServer(t, 0)
	noCategory := strings.Replace(cloudEvent("b", "x"), `"category":"x",`, "", 1)
	alert := strings.Replace(cloudEvent("c", "billing"), "complaint.filed", "alert.raised", 1)
	batch := "[" + cloudEvent("a", "billing") + "," + noCategory + "," + alert + `,{"id":7}]`
	code, _, body := ts.do(t, "POST", "/v1/events", CloudEventBatchType, []byte(batch))
	var out IngestRejected
	if code != 400 || json.Unmarshal([]byte(body), &out) != nil || out.Error.Code != domain.EINVALID || len(out.Rejected) != 3 {
		t.Fatalf("%d %s", code, body)
	}
	if r := out.Rejected[0]; r.Index != 1 || r.ID != "b" || r.Field != "data.category" || r.Reason == "" {
		t.Errorf("missing category: %+v", r)
	}
	if r := out.Rejected[1]; r.Index != 2 || r.ID != "c" || r.Field != "type" {
		t.Errorf("an alert from outside: %+v", r)
	}
	if r := out.Rejected[2]; r.Index != 3 || r.ID != "" {
		t.Errorf("a numeric id: %+v", r)
	}
	if pub.count() != 0 {
		t.Errorf("published %d events of a rejected batch", pub.count())
	}
}

func TestPostEventsBadRequests(t *testing.T) {
	ts, pub := newIngestServer(t, 4096)
	for _, c := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"no content type", "", cloudEvent("a", "billing"), 400, domain.EINVALID},
		{"plain JSON", "application/json", cloudEvent("a", "billing"), 400, domain.EINVALID},
		{"batch not an array", CloudEventBatchType, cloudEvent("a", "billing"), 400, domain.EINVALID},
		{"empty batch", CloudEventBatchType, "[]", 400, domain.EINVALID},
		{"bad JSON", CloudEventType, "{", 400, domain.EINVALID},
		{"oversize", CloudEventBatchType, "[" + strings.Repeat(cloudEvent("a", "billing")+",", 40) + cloudEvent("z", "billing") + "]", 413, domain.ETOOLARGE},
	} {
		code, h, body := ts.do(t, "POST", "/v1/events", c.contentType, []byte(c.body))
		if c.name == "bad JSON" {
			if code != 400 || !strings.Contains(body, `"rejected"`) {
				t.Errorf("%s: %d %s", c.name, code, body)
			}
			continue
		}
		wantError(t, c.name, code, h, body, c.status, c.code)
	}
	if pub.count() != 0 {
		t.Errorf("published %d", pub.count())
	}
	code, h, body := ts.do(t, "GET", "/v1/events/x", "", nil)
	wantError(t, "unknown path under /v1/events", code, h, body, 404, domain.ENOTFOUND)
}

func TestPostEventsWhenNATSIsDown(t *testing.T) {
	ts, pub := newIngestServer(t, 0)
	pub.err = domain.Errorf(domain.EUNAVAILABLE, "NATS does not answer")
	code, h, body := ts.do(t, "POST", "/v1/events", CloudEventType, []byte(cloudEvent("a", "billing")))
	wantError(t, "NATS down", code, h, body, 503, domain.EUNAVAILABLE)
}

// FuzzPostEvents: whatever the body, POST /v1/events answers 202, 400 or
// 413 with JSON, publishes only when it answers 202, and publishes only
// events the ingest's decoder accepts.
func FuzzPostEvents(f *testing.F) {
	f.Add(true, []byte(cloudEvent("a", "billing")))
	f.Add(false, []byte("["+cloudEvent("a", "billing")+","+cloudEvent("b", "outage")+"]"))
	f.Add(false, []byte(`[{"specversion":"1.0"},null,1,"x",[]]`))
	f.Add(true, []byte(`{"specversion":"1.0","id":"x","source":"s","type":"customer.defected","time":"2026-01-01T00:00:00Z","data":{"customer_id":"C","amount":"1e999","currency":"EUR"}}`))
	f.Add(false, bytes.Repeat([]byte("["), 5000))
	pub := &published{}
	l, err := eventstore.Open(filepath.Join(f.TempDir(), "events.db"), eventstore.WithNoSync())
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	s, err := New(Config{Log: l, Publish: pub.publish, MaxBody: 64 << 10, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, single bool, body []byte) {
		ct := CloudEventBatchType
		if single {
			ct = CloudEventType
		}
		before := pub.count()
		req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		after := pub.count()
		switch rec.Code {
		case http.StatusAccepted:
			var out IngestAccepted
			if json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Accepted != after-before || out.Accepted == 0 {
				t.Fatalf("202 %s, %d published", rec.Body, after-before)
			}
			var dec domain.Decoder
			for _, m := range pub.msgs[before:after] {
				if _, err := dec.Decode("", m.Data); err != nil {
					t.Fatalf("published an event the decoder rejects: %v", err)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var out struct {
				Error ErrorBody `json:"error"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Error.Code == "" || after != before {
				t.Fatalf("%d %s, %d published", rec.Code, rec.Body, after-before)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
