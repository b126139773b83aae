package nats

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestTransientErrors pins which errors a cluster that is forming or
// electing produces and which are retried: a publish racing its own
// earlier send during a leader change (10158) and a leaderless or still
// joining cluster are; a configuration the server refuses is not.
func TestTransientErrors(t *testing.T) {
	inProcess := fmt.Errorf("publish: %w", &jetstream.APIError{Code: 409, ErrorCode: 10158, Description: "duplicate message id is in process"})
	if !retriable(inProcess) {
		t.Error("the publisher does not retry 'duplicate message id is in process'")
	}
	for _, err := range []error{
		&jetstream.APIError{Code: 503, ErrorCode: 10008},
		&jetstream.APIError{Code: 503, ErrorCode: 10023},
		&jetstream.APIError{Code: 400, ErrorCode: 10005},
		jetstream.ErrJetStreamNotEnabled,
		context.DeadlineExceeded,
	} {
		if !Transient(err) {
			t.Errorf("Transient(%v) = false", err)
		}
	}
	for _, err := range []error{
		&jetstream.APIError{Code: 400, ErrorCode: 10065},
		&jetstream.APIError{Code: 500, ErrorCode: 10074},
		errors.New("the data directory does not hold one log"),
	} {
		if Transient(err) {
			t.Errorf("Transient(%v) = true", err)
		}
	}
}

// TestRetryWaitsOutTransientErrors checks that Do retries a transient
// failure until it succeeds and returns a permanent one at once.
func TestRetryWaitsOutTransientErrors(t *testing.T) {
	r := Retry{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	n := 0
	err := r.Do(context.Background(), "test", func(context.Context) error {
		if n++; n < 3 {
			return &jetstream.APIError{Code: 503, ErrorCode: 10008}
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("Do = %v after %d attempts, want nil after 3", err, n)
	}
	n = 0
	perm := &jetstream.APIError{Code: 400, ErrorCode: 10065}
	if err := r.Do(context.Background(), "test", func(context.Context) error { n++; return perm }); !errors.Is(err, perm) || n != 1 {
		t.Errorf("Do = %v after %d attempts, want the permanent error after 1", err, n)
	}
}
