package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

func TestForgottenRejectedFromOutside(t *testing.T) {
	forgotten := `{"specversion":"1.0","id":"erased-1","source":"plaint/forget","type":"customer.forgotten",
		"time":"2026-10-03T14:22:00Z","data":{"customer_id":"erased-1"}}`
	var de *domain.Error
	if _, err := decoder().Decode("", []byte(forgotten)); !errors.As(err, &de) || de.Reason != domain.ReasonReservedType {
		t.Fatalf("customer.forgotten from outside: %v, want reserved_type", err)
	}
	d := decoder()
	d.AllowAlerts = true
	if _, err := d.Decode("", []byte(forgotten)); err != nil {
		t.Fatalf("replaying plaint's own export: %v", err)
	}
	for _, field := range []string{"customer_id", "referred_customer_id"} {
		payload := `{"specversion":"1.0","id":"r1","source":"crm","type":"referral.made","time":"2026-10-03T14:22:00Z",
			"data":{"customer_id":"C-1","referred_customer_id":"C-2"}}`
		payload = strings.Replace(payload, `"`+field+`":"C-`, `"`+field+`":"erased-`, 1)
		_, err := decoder().Decode("", []byte(payload))
		if !errors.As(err, &de) || de.Reason != domain.ReasonInvalidField || de.Field != "data."+field {
			t.Fatalf("%s with a pseudonym: %v, want invalid_field on data.%s", field, err, field)
		}
	}
	// Not a pseudonym: "erased-" without digits after it, or other text.
	for _, id := range []string{"erased-", "erased-x", "erased-1a", "C-erased-1"} {
		if domain.IsPseudonym(id) {
			t.Errorf("IsPseudonym(%q) = true", id)
		}
	}
	if !domain.IsPseudonym(domain.Pseudonym(12)) || domain.Pseudonym(12) != "erased-12" {
		t.Fatal("Pseudonym(12) is not erased-12")
	}
}

func TestForgottenEventRoundTrip(t *testing.T) {
	f := domain.Forgotten{Pseudonym: "erased-3", Reason: "GDPR request #88", RequestedBy: "alice",
		Time: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	if err := f.Check("C-1042"); err != nil {
		t.Fatal(err)
	}
	ev := f.Event()
	if err := domain.Validate(&ev); err != nil {
		t.Fatalf("the erasure event is invalid: %v", err)
	}
	if ev.Type != domain.TypeCustomerForgotten || ev.Source != domain.ForgetSource || ev.ID != "erased-3" || ev.Data.CustomerID != "erased-3" {
		t.Fatalf("event %+v", ev)
	}
	got, err := domain.ParseForgotten(&ev)
	if err != nil || got != f {
		t.Fatalf("ParseForgotten = %+v, %v; want %+v", got, err, f)
	}
	if !domain.TypeCustomerForgotten.IsReserved() || !domain.TypeAlertRaised.IsReserved() || domain.TypeComplaintFiled.IsReserved() {
		t.Fatal("IsReserved is wrong")
	}
}

func TestForgottenCheckRefusesTheID(t *testing.T) {
	for _, f := range []domain.Forgotten{
		{Pseudonym: "erased-1", Reason: "customer C-1042 asked", RequestedBy: "alice"},
		{Pseudonym: "erased-1", Reason: "asked", RequestedBy: "C-1042"},
		{Pseudonym: "erased-1", Reason: "asked"},
		{Pseudonym: "C-1042", Reason: "asked", RequestedBy: "alice"},
		{Pseudonym: "erased-1", Reason: strings.Repeat("x", domain.MaxForgetReasonLen+1), RequestedBy: "alice"},
	} {
		if err := f.Check("C-1042"); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("Check(%+v) = %v, want EINVALID", f, err)
		}
	}
}
