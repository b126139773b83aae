package domain

import (
	"testing"
	"time"
)

// BenchmarkDecode compares the encoding/json reference decoder with the
// scanner on the README example event and on a revenue event.
func BenchmarkDecode(b *testing.B) {
	d := &Decoder{Now: func() time.Time { return refNow }}
	events := []struct{ name, subject, payload string }{
		{"complaint", "plaint.events.complaint.filed", refGood},
		{"revenue", "plaint.events.revenue.recorded", refRevenue},
	}
	for _, e := range events {
		payload := []byte(e.payload)
		b.Run(e.name, func(b *testing.B) {
			b.Run("reference", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for b.Loop() {
					if _, err := refDecode(d, e.subject, payload); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("fast", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for b.Loop() {
					if _, err := d.Decode(e.subject, payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
