package eventstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/eventstore/logtest"
)

// MustOpen opens a log in dir and, when the test ends, closes it after
// checking that Verify passes.
func MustOpen(tb testing.TB, dir string, opts ...eventstore.Option) *eventstore.Log {
	tb.Helper()
	l, err := eventstore.Open(filepath.Join(dir, "events.db"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if _, err := l.Verify(context.Background(), nil); err != nil && err != eventstore.ErrClosed {
			if !isClosed(err) {
				tb.Errorf("verify: %v", err)
			}
		}
		l.Close()
	})
	return l
}

func isClosed(err error) bool {
	return err != nil && (err == eventstore.ErrClosed || err.Error() == "verify: database not open")
}

func TestContract(t *testing.T) {
	logtest.Run(t, func(tb testing.TB, dir string) logtest.Log {
		return MustOpen(tb, dir)
	})
}
