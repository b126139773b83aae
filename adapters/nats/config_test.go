package nats_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

// TestConfigsValidate: every configuration's Validate names each problem,
// joined, wraps ErrConfig, and accepts a valid configuration.
func TestConfigsValidate(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.pem")
	for _, c := range []struct {
		name     string
		validate func() error
		want     []string // nil: valid
	}{
		{"conn", (&plaintnats.ConnConfig{URL: "http://example.com,nats://", CredsFile: missing, User: "u", TLSCert: missing, TLSCA: missing}).Validate,
			[]string{"scheme must be nats", "has no host", "mutually exclusive", "TLSCert and TLSKey", "CredsFile:", "TLSCA:"}},
		{"conn password without user", (&plaintnats.ConnConfig{URL: "nats://a:4222", Password: "p", ReconnectWait: -1}).Validate,
			[]string{"Password needs a User", "ReconnectWait"}},
		{"conn valid", (&plaintnats.ConnConfig{URL: "nats://a:4222, tls://b:4222", User: "u", Password: "p"}).Validate, nil},
		{"server", (&plaintnats.ServerConfig{Listen: "nope", StoreShare: 2}).Validate,
			[]string{"StoreDir is required", "listen address", "StoreShare 2"}},
		{"server valid", (&plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: t.TempDir()}).Validate, nil},
		{"streams", (&plaintnats.StreamConfig{Replicas: 7, Consumer: "a.b", AckWait: -1, MaxAge: 1, DuplicateWindow: 2}).Validate,
			[]string{"Replicas is 7", "consumer name", "AckWait", "DuplicateWindow"}},
		{"streams valid", (&plaintnats.StreamConfig{}).Validate, nil},
		{"publisher", (&plaintnats.PublisherConfig{Window: -1, MaxPending: 1, MaxAttempts: 0, StallWait: -1}).Validate,
			[]string{"Window is -1", "MaxAttempts is 0", "StallWait must be positive"}},
		{"lease", (&plaintnats.LeaseConfig{TTL: -1, Replicas: 9}).Validate,
			[]string{"Consumer is required", "TTL -1ns", "Replicas is 9"}},
		{"lease valid", (&plaintnats.LeaseConfig{Consumer: "n1"}).Validate, nil},
		{"retry", (&plaintnats.Retry{MinBackoff: time.Second, MaxBackoff: time.Millisecond, LogEvery: -1}).Validate,
			[]string{"must not be negative", "MaxBackoff 1ms is below MinBackoff 1s"}},
		{"retry valid", (&plaintnats.Retry{MinBackoff: 1, MaxBackoff: 1}).Validate, nil},
		{"publisher valid", (&plaintnats.PublisherConfig{Window: 1, MaxPending: 1, MaxAttempts: 1, StallWait: 1, AckTimeout: 1, RetryBackoff: 1, MaxBackoff: 1, ProgressEvery: 1}).Validate, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.validate()
			if c.want == nil {
				if err != nil {
					t.Fatalf("valid configuration rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, plaintnats.ErrConfig) {
				t.Fatalf("err %v does not wrap ErrConfig", err)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}
