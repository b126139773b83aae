package domain

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkDecode compares the encoding/json reference decoder (which, since
// it computes the as-sent members from maps and walks the tokens for the
// limits, is many times slower than the decoder it once was) with the
// scanner on the README example event (whose category "Billing" differs from
// its slug, so it keeps one as-sent member), the same event in canonical
// form (nothing to keep: the typical event), with three extra fields, and on
// a revenue event.
func BenchmarkDecode(b *testing.B) {
	d := &Decoder{Now: func() time.Time { return refNow }}
	canonical := strings.Replace(refGood, `"Billing"`, `"billing"`, 1)
	extra := strings.Replace(canonical, `"region":"north"`, `"region":"north","plan":"gold","nps":9,"tags":["vip","eu"]`, 1)
	events := []struct{ name, subject, payload string }{
		{"complaint", "plaint.events.complaint.filed", refGood},
		{"complaint-canonical", "plaint.events.complaint.filed", canonical},
		{"complaint-3-extra", "plaint.events.complaint.filed", extra},
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
