package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the repository root, found from this file's location.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// CFPBSample returns the path of the real CFPB sample,
// shared/data/cfpb-complaints-2023-sample.csv beside the repository (or
// beside the directory of worktrees holding it); the test fails when there
// is none.
func CFPBSample(tb testing.TB) string {
	tb.Helper()
	dir := RepoRoot(tb)
	for range 4 {
		p := filepath.Join(dir, "shared", "data", "cfpb-complaints-2023-sample.csv")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		dir = filepath.Dir(dir)
	}
	tb.Fatal("the CFPB sample (shared/data/cfpb-complaints-2023-sample.csv) is not beside the repository")
	return ""
}
