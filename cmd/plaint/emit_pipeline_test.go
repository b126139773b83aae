package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
)

// TestEmitPipelineStoresEachEventOnce emits a synthetic history with a
// window of 16 events, far fewer than the history, so that publishing,
// acknowledging and reusing buffers all overlap. The stream must then hold
// each event of --out's JSONL exactly once, byte for byte and in order:
// none dropped, none sent twice, none overwritten by a reused buffer.
func TestEmitPipelineStoresEachEventOnce(t *testing.T) {
	args := []string{"emit", "--synthetic", "--customers", "300", "--months", "6", "--seed", "3"}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if code, out, errOut := runMain(t, append(args, "--out", path)...); code != 0 {
		t.Fatalf("--out: exit %d\n%s\n%s", code, out, errOut)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n"))

	n := startEmitNATS(t, true)
	code, out, errOut := runMain(t, append(args, "--nats-url", n.url, "--window", "16")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	summary := regexp.MustCompile(`published (\d+) events: (\d+) acked \((\d+) duplicates reported by JetStream\), (\d+) failed`).FindStringSubmatch(out)
	if summary == nil || summary[1] != summary[2] || summary[3] != "0" || summary[4] != "0" {
		t.Fatalf("summary: want every event acked once, none a duplicate or failed:\n%s", out)
	}
	if summary[1] != strconv.Itoa(len(lines)) {
		t.Fatalf("published %s events, the history has %d", summary[1], len(lines))
	}
	if got := n.stored(t); got != uint64(len(lines)) {
		t.Fatalf("stream holds %d, want %d", got, len(lines))
	}

	cons, err := n.js.OrderedConsumer(context.Background(), plaintnats.EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool, len(lines))
	var dec domain.Decoder
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	for i, line := range lines {
		msg, err := it.Next()
		if err != nil {
			t.Fatalf("message %d of %d: %v", i+1, len(lines), err)
		}
		if !bytes.Equal(msg.Data(), line) {
			t.Fatalf("message %d is\n%s\nwant\n%s", i+1, msg.Data(), line)
		}
		ev, err := dec.Decode(msg.Subject(), msg.Data())
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		id := msg.Headers().Get(jetstream.MsgIDHeader)
		if id != plaintnats.MsgID(&ev) {
			t.Fatalf("message %d has Nats-Msg-Id %q, want %q", i+1, id, plaintnats.MsgID(&ev))
		}
		if seen[id] {
			t.Fatalf("message %d: event %s stored twice", i+1, id)
		}
		seen[id] = true
	}
}

// TestEmitFailsWhenTheStreamRefusesEvents publishes into a stream that
// holds at most 50 messages and refuses more: each refused event is retried
// up to --max-attempts, then counted as failed, and emit exits non-zero
// saying how many events were not published and why.
func TestEmitFailsWhenTheStreamRefusesEvents(t *testing.T) {
	n := startEmitNATS(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: plaintnats.EventsStream, Subjects: []string{domain.SubjectPrefix + ">"}, Storage: jetstream.FileStorage,
		MaxMsgs: 50, Discard: jetstream.DiscardNew,
	}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain(t, "emit", "--nats-url", n.url, "--synthetic", "--customers", "100", "--months", "3",
		"--max-attempts", "2", "--window", "32")
	if code == 0 {
		t.Fatalf("emit into a full stream exited 0\n%s\n%s", out, errOut)
	}
	m := regexp.MustCompile(`published (\d+) events: 50 acked .*, (\d+) failed`).FindStringSubmatch(out)
	if m == nil || m[2] == "0" {
		t.Fatalf("summary does not count 50 acked and the rest failed:\n%s", out)
	}
	if want := m[2] + " event(s) could not be published; first: "; !strings.Contains(errOut, want) || !strings.Contains(errOut, "maximum messages exceeded") {
		t.Fatalf("stderr lacks %q and the cause:\n%s", want, errOut)
	}
	if got := n.stored(t); got != 50 {
		t.Fatalf("stream holds %d, want 50", got)
	}
	// Every event is either acked or counted as failed.
	if published, failed := atoi(t, m[1]), atoi(t, m[2]); published != 50+failed {
		t.Fatalf("published %d = 50 acked + %d failed does not add up\n%s", published, failed, out)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
