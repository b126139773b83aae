package customers

import (
	"testing"
	"unsafe"

	"github.com/plaint/plaint/domain"
)

// TestFactSize checks that a Fact stays 64 bytes: a build writes one per
// event, ten million of them over the benchmark's log.
func TestFactSize(t *testing.T) {
	if n := unsafe.Sizeof(Fact{}); n != 64 {
		t.Fatalf("a Fact is %d bytes, want 64", n)
	}
}

// TestApplyBatchRefusesWhole checks that a batch holding a fact that cannot
// be folded changes nothing, as ApplyAll does.
func TestApplyBatchRefusesWhole(t *testing.T) {
	s := New()
	var b Batch
	b.Add(&Fact{Type: domain.TypeCustomerAcquired, Time: 1e18, Customer: 7})
	b.Add(&Fact{Type: domain.TypeCustomerAcquired, Time: 1e18})
	if err := s.ApplyBatch(&b); err == nil {
		t.Fatal("a fact without a customer key was folded")
	}
	if s.Events() != 0 || s.Customers() != 0 || s.Gen() != 0 {
		t.Fatalf("the refused batch changed the state: %d events, %d customers", s.Events(), s.Customers())
	}
	b.Reset()
	b.Add(&Fact{Type: domain.TypeCustomerAcquired, Time: 1e18, Customer: 7})
	if err := s.ApplyBatch(&b); err != nil || s.Events() != 1 || s.Customers() != 1 {
		t.Fatalf("after Reset: %v, %d events, %d customers", err, s.Events(), s.Customers())
	}
}
