package eventstore

import "github.com/plaint/plaint/domain"

// Codec turns events into records of the log's compact format and back,
// with a dictionary of its own: for a store other than Log that keeps
// records of this format (an in-memory log in tests, which then serves
// them through a RecordView). Encode must not run alongside itself; Decode,
// Optional, String and Len may run alongside everything.
type Codec struct{ d *dict }

// NewCodec returns a codec with an empty dictionary.
func NewCodec() *Codec { return &Codec{d: newDict()} }

// Encode returns ev as a record stamped with recordTime (Unix ns), adding
// its strings to the dictionary. ev must be valid (domain.Validate).
func (c *Codec) Encode(ev *domain.Event, recordTime int64) Record {
	td := c.d.begin()
	r := encodeRecord(nil, ev, recordTime, td)
	td.publish()
	return r
}

// Decode turns a record Encode made back into its event.
func (c *Codec) Decode(r Record) (domain.Event, error) { return decodeRecord(r, c.d.snapshot()) }

// Optional reads the tagged optional fields of a record Encode made.
func (c *Codec) Optional(r Record) (Optional, error) { return readOptional(r, c.d.snapshot()) }

// String returns the dictionary string with the given id ("" for 0 or
// unknown).
func (c *Codec) String(id uint32) string {
	s, _ := c.d.snapshot().str(id)
	return s
}

// Len returns how many dictionary ids are in use (1..Len).
func (c *Codec) Len() int { return len(c.d.snapshot()) - 1 }
