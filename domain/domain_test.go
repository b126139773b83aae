package domain_test

import (
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Billing / Invoices": "billing-invoices", "  Late   delivery ": "late-delivery", "root_cause": "root_cause",
		"Café Crème": "café-crème", "ENTERPRISE": "enterprise", "!!": "", "a--b": "a-b", "Credit reporting, credit repair": "credit-reporting-credit-repair",
		// Letters and digits of every script are kept, NFKC-normalised and
		// lower-cased; different strings stay different.
		"bіlling":             "bіlling", // Cyrillic і (U+0456)
		"Счёт / Оплата":       "счёт-оплата",
		"請求書":                 "請求書",
		"ﬁber ２":              "fiber-2", // NFKC: the ligature and the full-width digit
		"Café":               "café",    // combining accent composes
		"हिन्दी सेवा":         "हिन्दी-सेवा",
		"_root_":              "_root_",
		"\u200bbilling\u200b": "billing",
	} {
		if got := domain.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
		if got := domain.Slug(want); got != want {
			t.Errorf("Slug is not idempotent on %q: %q", want, got)
		}
	}
	if domain.Slug("bіlling") == domain.Slug("billing") {
		t.Error("Cyrillic and Latin billing merged")
	}
	if got := domain.ASCIISlug("Café Crème"); got != "cafe-creme" {
		t.Errorf("ASCIISlug = %q, want the pre-format-2 rule's cafe-creme", got)
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in, cur string
		want    domain.Money
		ok      bool
	}{
		{"12.34", "EUR", 1234, true}, {"12.3", "USD", 1230, true}, {"-0.01", "USD", -1, true}, {"12", "JPY", 12, true},
		{"1.5", "JPY", 0, false}, {"1.2345", "KWD", 0, false}, {"1.234", "KWD", 1234, true}, {"abc", "USD", 0, false},
		{"", "USD", 0, false}, {"1e3", "USD", 0, false}, {".5", "USD", 50, true}, {"99999999999999999999", "USD", 0, false},
	}
	for _, tt := range tests {
		got, err := domain.ParseMoney(tt.in, tt.cur)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMoney(%q, %s) = %d, %v; want %d ok=%v", tt.in, tt.cur, got, err, tt.want, tt.ok)
		}
		if err == nil {
			back, err := domain.ParseMoney(got.Format(tt.cur), tt.cur)
			if err != nil || back != got {
				t.Errorf("Format(%d) = %q does not parse back", got, got.Format(tt.cur))
			}
		}
	}
	// Sums are exact: 0.1 added ten times is exactly 1.00.
	var sum domain.Money
	for i := 0; i < 10; i++ {
		m, _ := domain.ParseMoney("0.10", "EUR")
		sum += m
	}
	if sum.Format("EUR") != "1.00" {
		t.Fatalf("sum = %s", sum.Format("EUR"))
	}
}

func TestPeriods(t *testing.T) {
	ts := time.Date(2026, 10, 3, 14, 22, 0, 0, time.UTC) // a Saturday
	tests := []struct {
		b           domain.Bucket
		label, prev string
	}{
		{domain.BucketMonth, "2026-10", "2026-09"},
		{domain.BucketQuarter, "2026-Q4", "2026-Q3"},
		{domain.BucketWeek, "2026-W40", "2026-W39"},
		{domain.BucketDay, "2026-10-03", "2026-10-02"},
	}
	for _, tt := range tests {
		p := domain.PeriodOf(tt.b, ts)
		if p.String() != tt.label || p.Prev().String() != tt.prev {
			t.Errorf("%s: %s prev %s, want %s prev %s", tt.b, p, p.Prev(), tt.label, tt.prev)
		}
		back, err := domain.ParsePeriod(tt.b, tt.label)
		if err != nil || back != p {
			t.Errorf("ParsePeriod(%s) = %v, %v; want %v", tt.label, back, err, p)
		}
		if !p.Start.Before(ts) && !p.Start.Equal(ts) || !p.End().After(ts) {
			t.Errorf("%s does not contain %s", p, ts)
		}
	}
	if got := domain.PeriodOf(domain.BucketMonth, ts).YearAgo().String(); got != "2025-10" {
		t.Errorf("year ago = %s", got)
	}
	if got := domain.PeriodOf(domain.BucketWeek, time.Date(2021, 1, 3, 0, 0, 0, 0, time.UTC)).String(); got != "2020-W53" {
		t.Errorf("ISO week of 2021-01-03 = %s, want 2020-W53", got)
	}
	if _, err := domain.ParsePeriod(domain.BucketMonth, "2026-13"); err == nil {
		t.Error("2026-13 parsed")
	}
}

func TestErrorCodes(t *testing.T) {
	err := domain.FieldErrorf("data.x", "bad")
	if domain.ErrorCode(err) != domain.EINVALID || domain.ErrorMessage(err) != "data.x: bad" {
		t.Fatalf("%s %s", domain.ErrorCode(err), domain.ErrorMessage(err))
	}
	if domain.ErrorCode(nil) != "" || domain.ErrorCode(errTest{}) != domain.EINTERNAL || domain.ErrorMessage(errTest{}) != "internal error" {
		t.Fatal("non-domain errors must be internal and not leak")
	}
}

type errTest struct{}

func (errTest) Error() string { return "secret detail" }

func TestTypes(t *testing.T) {
	for _, ty := range domain.Types() {
		if domain.ParseType(ty.String()) != ty || !ty.Valid() {
			t.Errorf("type %d %q does not round trip", ty, ty)
		}
	}
	if domain.ParseType("nope").Valid() || domain.TypeComplaintFiled.Subject() != "plaint.events.complaint.filed" {
		t.Fatal("bad type handling")
	}
}

func TestDataFieldOrder(t *testing.T) {
	// present() relies on the order of DataFields.
	want := []string{"customer_id", "category", "segment", "channel", "root_cause", "product", "region",
		"severity", "complaint_id", "resolution", "reason", "referred_customer_id", "competitor", "amount", "cost",
		"currency", "topic", "detail"}
	if len(domain.DataFields) != len(want) {
		t.Fatalf("DataFields has %d names", len(domain.DataFields))
	}
	for i := range want {
		if domain.DataFields[i] != want[i] {
			t.Fatalf("DataFields[%d] = %s, want %s", i, domain.DataFields[i], want[i])
		}
	}
}
