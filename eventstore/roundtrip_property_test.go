package eventstore_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// corpusGen generates valid CloudEvents with arbitrary extra fields.
type corpusGen struct{ r *rand.Rand }

var oddNumbers = []string{"0", "-0", "-0.0", "1.50", "1e400", "-1E-400", "12345678901234567890123456789", "3.14159265358979323846264338327950288",
	"1e2", "2.5E+3", "-7", "9007199254740993", "0.000001"}

var oddStrings = []string{``, `plain`, `gold`, `caf\u00e9`, `café`, `emoji 😀 \ud83d\ude00`, `tab\tnew\nline`, `quote \" back \\ slash \/`,
	`<b>&amp;</b>`, "\u2028\u2029", `日本語`, `\u0000 nul`, `Billing / Invoices`, `  spaced  `}

func (g *corpusGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// value returns a random JSON value nested up to depth more levels.
func (g *corpusGen) value(depth int) string {
	k := g.r.IntN(8)
	if depth <= 0 && k >= 6 {
		k = g.r.IntN(6)
	}
	switch k {
	case 0:
		return "null"
	case 1:
		return []string{"true", "false"}[g.r.IntN(2)]
	case 2, 3:
		return g.pick(oddNumbers)
	case 4, 5:
		return `"` + g.pick(oddStrings) + `"`
	case 6:
		n := g.r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = g.value(depth - 1)
		}
		return "[" + strings.Join(parts, g.ws(",")) + "]"
	}
	n := g.r.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d%s":%s`, i, g.pick([]string{"", "é", `\u00e9`, " x", "😀"}), g.value(depth-1))
	}
	return "{" + strings.Join(parts, g.ws(",")) + "}"
}

// ws sometimes surrounds s with insignificant whitespace.
func (g *corpusGen) ws(s string) string {
	if g.r.IntN(4) == 0 {
		return " \n\t" + s + " "
	}
	return s
}

// extras returns n members with fresh names (not known fields).
func (g *corpusGen) extras(prefix string, n int) []string {
	var out []string
	for i := range n {
		name := fmt.Sprintf("%s%d%s", prefix, i, g.pick([]string{"", "_plan", "Nps", "ü", `\u00fc`, "-x", " y"}))
		out = append(out, fmt.Sprintf(`"%s":%s`, name, g.value(3)))
	}
	return out
}

// event returns one valid event, as JSON, of a random type.
func (g *corpusGen) event(i int) string {
	id := fmt.Sprintf("ev-%d", i)
	if g.r.IntN(3) == 0 {
		id = fmt.Sprintf("%08x-1b2e-4c3f-9d4e-5f6a7b8c9d0e", i)
	}
	times := []string{"2026-10-03T14:22:00Z", "2026-10-03T14:22:00.5+02:00", "2026-10-03T14:22:00.123456789Z", "2026-10-03T14:22:00.000Z"}
	env := []string{`"specversion":"1.0"`, fmt.Sprintf(`"id":"%s"`, id), `"source":"crm/eu-west"`, fmt.Sprintf(`"time":"%s"`, g.pick(times))}
	if g.r.IntN(2) == 0 {
		env = append(env, `"subject":"C-1"`)
	}
	switch g.r.IntN(4) {
	case 0:
		env = append(env, `"datacontenttype":"application/json"`)
	case 1:
		env = append(env, `"datacontenttype":"application/json; charset=utf-8"`)
	}
	if g.r.IntN(5) == 0 {
		env = append(env, `"schemaversion":1`)
	}
	data := []string{`"customer_id":"C-1"`}
	cat := g.pick([]string{`"billing"`, `"Billing / Invoices"`, `"Café"`, `"\u0062illing"`})
	var typ string
	switch g.r.IntN(4) {
	case 0:
		typ = "complaint.filed"
		data = append(data, g.key("category")+":"+cat, `"severity":`+g.pick([]string{"3", `"4"`}), `"segment":"smb"`)
	case 1:
		typ = "revenue.recorded"
		data = append(data, `"amount":`+g.pick([]string{"12.5", `"12.50"`, `"7"`, "-0.5", `"1234.56"`}))
		if g.r.IntN(2) == 0 {
			data = append(data, `"currency":`+g.pick([]string{`"EUR"`, `"eur"`}))
		}
		if g.r.IntN(2) == 0 {
			data = append(data, `"cost":`+g.pick([]string{"7", `"7.00"`, "0"}))
		}
	case 2:
		typ = "customer.defected"
		data = append(data, `"reason":"Price"`, `"competitor":"rival"`)
	default:
		typ = "customer.renewed"
		data = append(data, `"reason":"loyalty"`)
	}
	env = append(env, fmt.Sprintf(`"type":"%s"`, typ))
	env = append(env, g.extras("ext", g.r.IntN(3))...)
	data = append(data, g.extras("f", g.r.IntN(5))...)
	g.r.Shuffle(len(env), func(i, j int) { env[i], env[j] = env[j], env[i] })
	g.r.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	env = append(env, `"data":{`+strings.Join(data, g.ws(","))+`}`)
	return "{" + strings.Join(env, g.ws(",")) + "}"
}

// key returns name, sometimes in another case or with an escape.
func (g *corpusGen) key(name string) string {
	switch g.r.IntN(6) {
	case 0:
		return `"` + strings.ToUpper(name[:1]) + name[1:] + `"`
	case 1:
		return `"\u00` + fmt.Sprintf("%x", name[0]) + name[1:] + `"`
	}
	return `"` + name + `"`
}

// jsonEqual compares two JSON texts: objects as sets of members, numbers
// by their exact text.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	for _, p := range []struct {
		in  []byte
		out *any
	}{{a, &x}, {b, &y}} {
		d := json.NewDecoder(bytes.NewReader(p.in))
		d.UseNumber()
		if err := d.Decode(p.out); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, p.in)
		}
	}
	return reflect.DeepEqual(x, y)
}

// TestStoredEventsAreJSONEqualToInput decodes a generated corpus of valid
// events with arbitrary extra fields (every JSON kind, nested, unicode,
// odd numbers), stores it in a real log, reads it back and checks that each
// event renders JSON-equal to its input.
func TestStoredEventsAreJSONEqualToInput(t *testing.T) {
	g := &corpusGen{r: rand.New(rand.NewPCG(6, 6))}
	d := &domain.Decoder{Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }}
	const n = 3000
	inputs := make([]string, n)
	events := make([]domain.Event, n)
	withExtra := 0
	for i := range inputs {
		inputs[i] = g.event(i)
		ev, err := d.Decode("", []byte(inputs[i]))
		if err != nil {
			t.Fatalf("generated event %d rejected: %v\n%s", i, err, inputs[i])
		}
		if !ev.AsSent.IsZero() {
			withExtra++
		}
		events[i] = ev
	}
	if withExtra < n/2 {
		t.Fatalf("only %d of %d events carry as-sent members: the generator is too tame", withExtra, n)
	}
	dir := t.TempDir()
	l := MustOpen(t, dir)
	for i := 0; i < n; i += 500 {
		if _, err := l.Append(events[i:min(i+500, n)]...); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l = MustOpen(t, dir, eventstore.WithReadOnly())
	got := 0
	err := l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		in := inputs[seq-1]
		if ev != events[seq-1] {
			t.Errorf("event %d changed in the log:\n%+v\n%+v", seq, ev, events[seq-1])
		}
		out, err := ev.MarshalJSON()
		if err != nil {
			return err
		}
		if !jsonEqual(t, out, []byte(in)) {
			t.Errorf("event %d is not JSON-equal to its input:\nin  %s\nout %s", seq, in, out)
		}
		got++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("read %d events, want %d", got, n)
	}
}
