package watermill

import "testing"

// FuzzParseAck holds parseAck to the general way (parseAckSlow) on every
// subject: the same delivery, the same ok.
func FuzzParseAck(f *testing.F) {
	for _, s := range []string{
		"$JS.ACK.PLAINT_EVENTS.plaint.1.42.40.1700000000000000000.7",
		"$JS.ACK._.ACCHASH.PLAINT_EVENTS.plaint.3.1234567.900.1700000000000000000.0.X",
		"$JS.ACK.hub.ACCHASH.PLAINT_EVENTS.plaint.1.9.9.1700000000000000000.0",
		"$JS.ACK.PLAINT_EVENTS.plaint.1.x.40.1700000000000000000.7",
		"$JS.ACK.PLAINT_EVENTS.plaint.1.42.40.17",
		"$JS.ACK.PLAINT_EVENTS.plaint.1.18446744073709551616.40.17.0",
		"$JS.ACK.PLAINT_EVENTS.plaint.01.+2.40.17.0",
		"$JS.ACK..plaint.1.2.3.4.5",
		"$JS.ACK.a.b.c.d.e.f.g.h",
		"_INBOX.abc",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		got, ok := parseAck(reply)
		want, wok := parseAckSlow(reply)
		if got != want || ok != wok {
			t.Fatalf("parseAck(%q) = %+v, %v; the general way gives %+v, %v", reply, got, ok, want, wok)
		}
	})
}

func BenchmarkParseAck(b *testing.B) {
	const reply = "$JS.ACK.PLAINT_EVENTS.plaint.1.1234567.1234560.1764763200123456789.8191"
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			parseAck(reply)
		}
	})
	b.Run("general", func(b *testing.B) {
		for b.Loop() {
			parseAckSlow(reply)
		}
	})
}
