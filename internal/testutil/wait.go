// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"testing"
	"time"
)

// pollEvery is how often WaitFor checks its condition: the polling interval
// of a condition, not a wait for work.
const pollEvery = 5 * time.Millisecond

// WaitFor polls cond until it holds, and fails the test, naming what it
// waited for, when it still does not after d.
func WaitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		<-tick.C
	}
}
