package eventstore_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// renderStored renders a stored event as plaint log tail prints it.
func renderStored(seq uint64, r eventstore.Record, ev domain.Event) []byte {
	b, _ := ev.MarshalJSON()
	b = append(b[:len(b)-1], `,"plaintseq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"plaintrecordtime":"`...)
	b = time.Unix(0, r.RecordTime()).UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

// format1Log copies testdata/format1.db, a log written by plaint before
// record format 2 (15 events: UUID and other ids, explicit and absent
// subjects, a schema 0 complaint, amounts in EUR, JPY, IQD, XOF and a
// non-ISO "ABC", a severity on a renewal, an alert), into a temporary
// directory. testdata/format1.jsonl is what that plaint's log tail printed.
func format1Log(t *testing.T) (path string, golden [][]byte) {
	t.Helper()
	src, err := os.ReadFile("testdata/format1.db")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "events.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/format1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(want))
	for sc.Scan() {
		golden = append(golden, append([]byte(nil), sc.Bytes()...))
	}
	return path, golden
}

// checkFormat1 checks that the log's first records render exactly as the
// old plaint printed them.
func checkFormat1(t *testing.T, l *eventstore.Log, golden [][]byte) {
	t.Helper()
	n := 0
	err := l.View(func(s *eventstore.Snapshot) error {
		return s.Scan(1, uint64(len(golden)), func(seq uint64, r eventstore.Record) error {
			if r.Format() != 1 {
				t.Errorf("record %d is format %d, want 1", seq, r.Format())
			}
			ev, err := s.Decode(r)
			if err != nil {
				return err
			}
			if got := renderStored(seq, r, ev); !bytes.Equal(got, golden[seq-1]) {
				t.Errorf("record %d renders\n%s\nwant (as the format-1 plaint printed it)\n%s", seq, got, golden[seq-1])
			}
			n++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(golden) {
		t.Fatalf("read %d format-1 records, want %d", n, len(golden))
	}
}

func TestFormat1LogReadsAsBefore(t *testing.T) {
	path, golden := format1Log(t)
	ro := MustOpen(t, filepath.Dir(path), eventstore.WithReadOnly())
	checkFormat1(t, ro, golden)
	rep, err := ro.Verify(context.Background(), nil)
	if err != nil {
		t.Fatalf("verify of the format-1 log: %v", err)
	}
	if rep.Records != 15 || rep.Format1Records != 15 {
		t.Fatalf("verify checked %d records, %d of format 1; want 15, 15", rep.Records, rep.Format1Records)
	}
	// IQD gained a minor digit (ISO 4217 gives it three): the stored 12.34
	// reads in today's units, the same amount.
	err = ro.View(func(s *eventstore.Snapshot) error {
		r, err := s.Get(7)
		if err != nil {
			return err
		}
		ev, err := s.Decode(r)
		if err != nil {
			return err
		}
		if ev.Data.Currency != "IQD" || ev.Data.Amount != 12340 || ev.Data.Amount.Format("IQD") != "12.340" {
			t.Errorf("IQD amount reads as %d (%s)", ev.Data.Amount, ev.Data.Amount.Format("IQD"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()

	// Opened for writing, the log takes format-2 records beside the old ones.
	l := MustOpen(t, filepath.Dir(path))
	ev, err := (&domain.Decoder{Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }}).Decode("",
		[]byte(`{"specversion":"1.0","id":"new-1","source":"crm","type":"revenue.recorded","time":"2026-10-20T00:00:00+01:00","tenant":{"id":7},"data":{"customer_id":"C-1","amount":12.5,"currency":"EUR","cost":"7.00","plan":"gold"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := l.Append(ev); err != nil || res[0].Duplicate {
		t.Fatalf("append: %v %+v", err, res)
	}
	// The old ids stay known: appending one again is a duplicate.
	old := ev
	old.Source, old.ID = "billing", "r1"
	if res, err := l.Append(old); err != nil || !res[0].Duplicate {
		t.Fatalf("append of a format-1 event's identity: %v %+v, want a duplicate", err, res)
	}
	l.Close()
	l = MustOpen(t, filepath.Dir(path), eventstore.WithReadOnly())
	checkFormat1(t, l, golden)
	rep, err = l.Verify(context.Background(), nil)
	if err != nil {
		t.Fatalf("verify of the mixed log: %v", err)
	}
	if rep.Records != 16 || rep.Format1Records != 15 {
		t.Fatalf("verify checked %d records, %d of format 1; want 16, 15", rep.Records, rep.Format1Records)
	}
	err = l.View(func(s *eventstore.Snapshot) error {
		r, err := s.Get(16)
		if err != nil {
			return err
		}
		if r.Format() != 2 {
			t.Errorf("new record is format %d", r.Format())
		}
		back, err := s.Decode(r)
		if err != nil {
			return err
		}
		if back != ev {
			t.Errorf("format-2 record round trip:\n%+v\n%+v", back, ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
