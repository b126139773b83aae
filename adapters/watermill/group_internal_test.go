package watermill

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// groupOf returns a group message of the given frames, as groupMessage
// makes one.
func groupOf(frames []Frame) *message.Message {
	var payload []byte
	for _, f := range frames {
		payload = appendFrame(payload, f.Subject, delivery{streamSeq: f.StreamSeq, delivered: f.Delivered, timestamp: f.Timestamp.UnixNano()}, f.Data)
	}
	msg := message.NewMessage("g", payload)
	msg.Metadata.Set(MetaContentType, GroupContentType)
	msg.Metadata.Set(MetaBatch, strconv.Itoa(len(frames)))
	return msg
}

// FuzzGroupFrames: frames encoded and read back are the same frames, and
// reading any payload as a group ends in frames or an error, never a panic
// or a frame reaching past the payload.
func FuzzGroupFrames(f *testing.F) {
	f.Add("plaint.events.complaint.filed", []byte(`{"id":"1"}`), uint64(7), uint64(1), int64(1700000000000000000), uint8(3), []byte{})
	f.Add("", []byte{}, uint64(0), uint64(0), int64(-1), uint8(1), []byte{0x05, 'a'})
	f.Fuzz(func(t *testing.T, subject string, data []byte, seq, delivered uint64, ts int64, n uint8, junk []byte) {
		frames := make([]Frame, int(n%8)+1)
		for i := range frames {
			frames[i] = Frame{Subject: subject, StreamSeq: seq + uint64(i), Delivered: delivered, Timestamp: time.Unix(0, ts).UTC(), Data: data}
			if i%2 == 1 {
				frames[i].Subject = subject + "x"
			}
		}
		msg := groupOf(frames)
		g, err := ReadGroup(msg)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for fr, err := range g.Frames() {
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			w := frames[i]
			if fr.Subject != w.Subject || fr.StreamSeq != w.StreamSeq || fr.Delivered != w.Delivered || !fr.Timestamp.Equal(w.Timestamp) || !bytes.Equal(fr.Data, w.Data) {
				t.Fatalf("frame %d = %+v, want %+v", i, fr, w)
			}
			i++
		}
		if i != len(frames) {
			t.Fatalf("%d frames read, want %d", i, len(frames))
		}
		// Any bytes: frames or an error.
		bad := message.NewMessage("b", append(msg.Payload[:len(msg.Payload):len(msg.Payload)], junk...))
		bad.Metadata = msg.Metadata
		g, _ = ReadGroup(bad)
		for fr, err := range g.Frames() {
			if err != nil {
				break
			}
			if len(fr.Data) > len(bad.Payload) {
				t.Fatal("a frame reaches past the payload")
			}
		}
		jm := message.NewMessage("j", junk)
		jm.Metadata = msg.Metadata
		g, _ = ReadGroup(jm)
		for _, err := range g.Frames() {
			if err != nil {
				break
			}
		}
	})
}

func TestReadGroupRefusesOtherMessages(t *testing.T) {
	if _, err := ReadGroup(message.NewMessage("x", []byte("{}"))); err != ErrNotGroup {
		t.Fatalf("ReadGroup of a plain message = %v, want ErrNotGroup", err)
	}
	msg := groupOf([]Frame{{Subject: "s", Data: []byte("d")}})
	msg.Metadata.Set(MetaBatch, "many")
	if _, err := ReadGroup(msg); err == nil {
		t.Fatal("ReadGroup accepted a group without a size")
	}
	msg.Metadata.Set(MetaBatch, "2") // one frame more than the payload holds
	g, err := ReadGroup(msg)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range g.Frames() {
		last = err
	}
	if last == nil {
		t.Fatal("a payload with fewer frames than its size was read without an error")
	}
}

// replyMsg is a JetStream message with only a subject, data and an ack
// subject: what groupMessage reads.
type replyMsg struct {
	jetstream.Msg
	reply string
}

func (m replyMsg) Subject() string { return "plaint.events.complaint.filed" }
func (m replyMsg) Data() []byte    { return []byte(`{}`) }
func (m replyMsg) Reply() string   { return m.reply }

// TestGroupMessageCountsWhatWasHandedOutAsRedelivered: a message at or
// below the last stream sequence handed out, or below one before it in the
// group, counts at least two deliveries whatever the server's count says
// (a rewind numbers deliveries from 1 again, and a message whose delivery
// to a stopped pull failed comes again uncounted); the others keep the
// server's count.
func TestGroupMessageCountsWhatWasHandedOutAsRedelivered(t *testing.T) {
	const handed = 10
	cases := []struct{ streamSeq, delivered, want uint64 }{
		{11, 1, 1}, // new
		{5, 1, 2},  // handed out before
		{10, 1, 2}, // the last one handed out
		{12, 1, 1}, // new
		{12, 1, 2}, // again, in the same group
		{11, 3, 3}, // the server's higher count stays
		{13, 4, 4},
	}
	group := make([]jetstream.Msg, len(cases))
	for i, c := range cases {
		group[i] = replyMsg{reply: fmt.Sprintf("$JS.ACK.PLAINT_EVENTS.plaint.%d.%d.%d.1700000000000000000.0", c.delivered, c.streamSeq, i+1)}
	}
	msg, last := groupMessage(group, handed)
	if last != 13 {
		t.Errorf("last handed out %d, want 13", last)
	}
	g, err := ReadGroup(msg)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for f, err := range g.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		if c := cases[i]; f.StreamSeq != c.streamSeq || f.Delivered != c.want {
			t.Errorf("frame %d: stream seq %d delivered %d, want %d delivered %d", i, f.StreamSeq, f.Delivered, c.streamSeq, c.want)
		}
		i++
	}
	if i != len(cases) {
		t.Fatalf("%d frames, want %d", i, len(cases))
	}
}
