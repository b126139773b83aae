package watermill

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
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
