package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/testutil"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

// emitNATS is an embedded NATS server with plaint's streams, for emit tests.
type emitNATS struct {
	url string
	js  jetstream.JetStream
}

func startEmitNATS(t *testing.T, withStreams bool) *emitNATS {
	t.Helper()
	s := natstest.Server(t)
	_, js := natstest.Connect(t, s.ClientURL())
	if withStreams {
		natstest.EnsureStreams(t, natstest.Client(t, s.ClientURL()), plaintnats.StreamConfig{})
	}
	return &emitNATS{url: s.ClientURL(), js: js}
}

func (n *emitNATS) stored(t *testing.T) uint64 {
	t.Helper()
	return natstest.StreamMsgs(t, n.js, plaintnats.EventsStream)
}

func (n *emitNATS) lastMsg(t *testing.T, subject string) (*jetstream.RawStreamMsg, error) {
	t.Helper()
	st, err := n.js.Stream(context.Background(), plaintnats.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	return st.GetLastMsgForSubject(context.Background(), subject)
}

func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func TestEmitFilePublishesEveryValidLine(t *testing.T) {
	n := startEmitNATS(t, true)
	code, out, errOut := runMain(t, "emit", "--nats-url", n.url, "--file", repoFile("examples", "events.jsonl"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"read 9 events: 9 valid, 0 invalid", "published 9 events: 9 acked (0 duplicates reported by JetStream), 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := n.stored(t); got != 9 {
		t.Fatalf("stream holds %d, want 9", got)
	}
	// Emitting the same file again: JetStream reports duplicates, stores nothing new.
	code, out, _ = runMain(t, "emit", "--nats-url", n.url, "--file", repoFile("examples", "events.jsonl"))
	if code != 0 || !strings.Contains(out, "9 acked (9 duplicates reported by JetStream)") || n.stored(t) != 9 {
		t.Fatalf("second emit: exit %d, stored %d\n%s", code, n.stored(t), out)
	}
}

const mixedJSONL = `{"specversion":"1.0","id":"a1","source":"t","type":"complaint.filed","time":"2026-01-02T03:04:05Z","data":{"customer_id":"C-1","category":"billing"}}
not json at all
{"specversion":"1.0","id":"a2","source":"t","type":"complaint.filed","time":"2026-01-02T03:04:05Z","data":{"customer_id":"C-2"}}

{"specversion":"1.0","id":"a3","source":"t","type":"customer.defected","time":"2026-01-02T03:04:05Z","data":{"customer_id":"C-3"}}
`

func TestEmitFileReportsInvalidLinesAndPublishesThemOnlyWhenAsked(t *testing.T) {
	n := startEmitNATS(t, true)
	path := filepath.Join(t.TempDir(), "mixed.jsonl")
	if err := os.WriteFile(path, []byte(mixedJSONL), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain(t, "emit", "--nats-url", n.url, "--file", path)
	if code == 0 {
		t.Fatalf("exit 0 with invalid lines\n%s", out)
	}
	for _, want := range []string{"line 2: invalid event: invalid JSON", "line 3: invalid event: data.category: is required for complaint.filed", "2 invalid line(s) were not published"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "read 4 events: 2 valid, 2 invalid") || n.stored(t) != 2 {
		t.Fatalf("stored %d, want the 2 valid ones\n%s", n.stored(t), out)
	}
	code, out, errOut = runMain(t, "emit", "--nats-url", n.url, "--file", path, "--publish-invalid")
	if code != 0 {
		t.Fatalf("exit %d with --publish-invalid\n%s\n%s", code, out, errOut)
	}
	// The 2 valid lines are duplicates now; the 2 invalid ones are new.
	if got := n.stored(t); got != 4 {
		t.Fatalf("stream holds %d, want 4", got)
	}
	msg, err := n.lastMsg(t, "plaint.events.invalid")
	if err != nil || string(msg.Data) != "not json at all" {
		t.Fatalf("invalid line not published as is on plaint.events.invalid: %v %v", msg, err)
	}
}

func TestEmitSyntheticIsDeterministicAndPublishesAll(t *testing.T) {
	dir := t.TempDir()
	args := []string{"emit", "--synthetic", "--customers", "120", "--months", "6", "--seed", "9"}
	var files [2][]byte
	for i := range files {
		path := filepath.Join(dir, "out"+string(rune('a'+i))+".jsonl")
		code, out, errOut := runMain(t, append(args, "--out", path)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = b
	}
	if !bytes.Equal(files[0], files[1]) || len(files[0]) == 0 {
		t.Fatal("two runs with the same seed wrote different events")
	}
	lines := int64(bytes.Count(files[0], []byte("\n")))

	n := startEmitNATS(t, true)
	code, out, errOut := runMain(t, append(args, "--nats-url", n.url, "--window", "64")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := n.stored(t); int64(got) != lines {
		t.Fatalf("stream holds %d, want %d\n%s", got, lines, out)
	}
	if !strings.Contains(out, "generated ") || !strings.Contains(out, "0 failed") {
		t.Fatalf("summary missing:\n%s", out)
	}
	// The published events are the ones written by --out, in order.
	cons, err := n.js.OrderedConsumer(context.Background(), plaintnats.EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if first := files[0][:bytes.IndexByte(files[0], '\n')]; !bytes.Equal(msg.Data(), first) {
		t.Fatalf("first published event\n%s\nwant\n%s", msg.Data(), first)
	}
}

// TestEmitInFastBatchesStoresEachEventOnce: --batch publishes a synthetic
// history in fast batches into a stream made by EnsureStreams; every event
// is acknowledged and stored, and emitting it again stores nothing new: the
// server drops the repeats inside the batches by their Nats-Msg-Id.
func TestEmitInFastBatchesStoresEachEventOnce(t *testing.T) {
	n := startEmitNATS(t, true)
	args := []string{"emit", "--nats-url", n.url, "--synthetic", "--customers", "120", "--months", "6", "--seed", "9", "--batch", "100"}
	code, out, errOut := runMain(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	m := ackedLine.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "0 failed, 0 retries") {
		t.Fatalf("summary:\n%s", out)
	}
	acked, _ := strconv.ParseUint(m[1], 10, 64)
	if got := n.stored(t); acked < 200 || got != acked {
		t.Fatalf("%d acked, the stream holds %d\n%s", acked, got, out)
	}
	// Through batches the repeats are not reported (the per-message path
	// would report each as a duplicate).
	code, out, errOut = runMain(t, args...)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d acked (0 duplicates", acked)) {
		t.Fatalf("second emit: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := n.stored(t); got != acked {
		t.Fatalf("after the second emit the stream holds %d, want %d", got, acked)
	}
}

func TestEmitCSVPublishesTheCFPBSample(t *testing.T) {
	n := startEmitNATS(t, true)
	code, out, errOut := runMain(t, "emit", "--nats-url", n.url,
		"--csv", testutil.CFPBSample(t), "--map", repoFile("examples", "cfpb-mapping.yaml"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "read 3999 rows: 3999 accepted, 0 rejected") || n.stored(t) != 3999 {
		t.Fatalf("stored %d\n%s", n.stored(t), out)
	}
	msg, err := n.lastMsg(t, "plaint.events.complaint.filed")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(msg.Data, []byte("narrative")) || !bytes.Contains(msg.Data, []byte(`"source":"cfpb"`)) {
		t.Fatalf("unexpected event %s", msg.Data)
	}
}

func TestEmitFailsClearlyWithoutAStreamOrServer(t *testing.T) {
	n := startEmitNATS(t, false)
	code, _, errOut := runMain(t, "emit", "--nats-url", n.url, "--file", repoFile("examples", "events.jsonl"))
	if code == 0 || !strings.Contains(errOut, "no JetStream stream captures plaint.events.complaint.filed") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	code, _, errOut = runMain(t, "emit", "--nats-url", "nats://127.0.0.1:1", "--synthetic", "--customers", "5", "--months", "1")
	if code == 0 || !strings.Contains(errOut, "is `plaint serve` running?") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}

func TestEmitDryRunAndFlagChecks(t *testing.T) {
	code, out, errOut := runMain(t, "emit", "--dry-run", "--csv", testutil.CFPBSample(t), "--map", repoFile("examples", "cfpb-mapping.yaml"))
	if code != 0 || !strings.Contains(out, "dry run: 3999 events would be published") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"emit"}, "give exactly one of --file, --csv or --synthetic"},
		{[]string{"emit", "--csv", "x.csv"}, "--csv and --map go together"},
		{[]string{"emit", "--synthetic", "--end", "2026-13"}, `--end "2026-13" is not a month`},
	} {
		code, _, errOut := runMain(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}

func TestEmitSyntheticChecksEventsLikeTheServer(t *testing.T) {
	n := startEmitNATS(t, true)
	// A history wholly in the future: the server would dead-letter every
	// event, so none is published and emit fails saying why.
	code, out, errOut := runMain(t, "emit", "--nats-url", n.url, "--synthetic", "--customers", "20", "--months", "2", "--end", "2099-06")
	if code != 2 || !strings.Contains(errOut, "would be rejected by the server and were not published") ||
		!strings.Contains(errOut, "invalid: time:") || !strings.Contains(errOut, "--end 2099-06 reaches past that") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, "published") || n.stored(t) != 0 {
		t.Fatalf("stored %d; want nothing published and no 'published' summary\n%s", n.stored(t), out)
	}
	code, out, errOut = runMain(t, "emit", "--dry-run", "--synthetic", "--customers", "20", "--months", "2", "--end", "2099-06")
	if code != 2 || strings.Contains(out, "would be published") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestEmitExitCodesAndMessages(t *testing.T) {
	n := startEmitNATS(t, true)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--csv", missing + ".csv", "--map", repoFile("examples", "cfpb-mapping.yaml")}, 2, ".csv: the file does not exist"},
		{[]string{"--csv", testutil.CFPBSample(t), "--map", missing + ".yaml"}, 2, ".yaml: the file does not exist"},
		{[]string{"--file", missing + ".jsonl"}, 2, ".jsonl: the file does not exist"},
		{[]string{"--file", repoFile("examples", "events.jsonl"), "--nats-url", "http://127.0.0.1:4222"}, 2, "expected nats://HOST:PORT"},
		{[]string{"--synthetic", "--months", "0"}, 2, "--months 0"},
		{[]string{"--synthetic", "--customers", "0"}, 2, "--customers 0"},
		{[]string{"--synthetic", "--window", "0"}, 2, "--window 0"},
		{[]string{"--synthetic", "--max-attempts", "0"}, 2, "--max-attempts 0"},
	} {
		code, out, errOut := runMain(t, append([]string{"emit", "--nats-url", n.url}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "is `plaint serve` running") || strings.Contains(out, "published 0") {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q), stdout %q", c.args, code, c.code, errOut, c.want, out)
		}
	}
	// The --nats-listen form HOST:PORT is accepted.
	hostPort := strings.TrimPrefix(n.url, "nats://")
	code, out, errOut := runMain(t, "emit", "--nats-url", hostPort, "--file", repoFile("examples", "events.jsonl"))
	if code != 0 || !strings.Contains(out, "9 acked") {
		t.Fatalf("--nats-url %s: exit %d\n%s\n%s", hostPort, code, out, errOut)
	}
}
