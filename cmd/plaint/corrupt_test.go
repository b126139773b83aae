package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// corruptRecord copies the log at path and flips a byte in what holds the
// record with sequence seq: the record under its own key (formats 1 and 2),
// or the block that holds it (format 3, the default). It returns the copy's
// path and how verify names what it damaged ("record 17", "block at 1").
func corruptRecord(t *testing.T, path string, seq uint64) (string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "corrupt.db")
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(out, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var where string
	err = db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("events"))
		c := bk.Cursor()
		want := binary.BigEndian.AppendUint64(nil, seq)
		k, v := c.Seek(want)
		switch {
		case k != nil && bytes.Equal(k, want):
		case k == nil:
			k, v = c.Last()
		default:
			k, v = c.Prev()
		}
		if k == nil || len(v) < 5 {
			return fmt.Errorf("no value holds record %d", seq)
		}
		where = fmt.Sprintf("record %d", seq)
		if v[4] == 3 { // a block (record format 3)
			where = fmt.Sprintf("block at %d", binary.BigEndian.Uint64(k))
		}
		v = bytes.Clone(v)
		v[len(v)-1] ^= 0x55
		return bk.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, where
}

// damagedLogs returns copies of a log of 20,000 events with each kind of
// structural damage: a page header overwritten, a page id changed, a branch
// page's elements overwritten, the file cut inside its used pages, both meta
// pages damaged, and the file emptied; and the dedupe key snapshot its clean
// stop left beside it.
func damagedLogs(t *testing.T) (map[string][]byte, []byte) {
	t.Helper()
	data := mustLog(t, 20000)
	orig, err := os.ReadFile(filepath.Join(data, logFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadFile(filepath.Join(data, logFile+".keys"))
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	var branch, leaf []int
	db, err := bolt.Open(filepath.Join(mustLog(t, 0), logFile), 0o600, nil) // page size of this machine's bbolt
	if err != nil {
		t.Fatal(err)
	}
	if db.Info().PageSize != ps {
		t.Fatalf("page size %d, the damage below assumes %d", db.Info().PageSize, ps)
	}
	db.Close()
	hwm := max(binary.LittleEndian.Uint64(orig[16+40:]), binary.LittleEndian.Uint64(orig[ps+16+40:])) // the metas' high-water marks
	for p := 2; p < int(hwm); p++ {
		if binary.LittleEndian.Uint64(orig[p*ps:]) != uint64(p) {
			continue
		}
		switch binary.LittleEndian.Uint16(orig[p*ps+8:]) {
		case 1:
			branch = append(branch, p)
		case 2:
			leaf = append(leaf, p)
		}
	}
	if len(branch) == 0 || len(leaf) < 10 {
		t.Fatalf("log has %d branch and %d leaf pages; the test needs both", len(branch), len(leaf))
	}
	mid := leaf[len(leaf)/2]
	out := map[string][]byte{}
	damage := func(name string, f func(b []byte) []byte) { out[name] = f(bytes.Clone(orig)) }
	damage("page header", func(b []byte) []byte { copy(b[mid*ps:], "garbagegarbage!!"); return b })
	damage("page id", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[mid*ps:], 99999); return b })
	damage("branch page", func(b []byte) []byte {
		for i := 16; i < 200; i++ {
			b[branch[0]*ps+i] = 0xff
		}
		return b
	})
	damage("cut", func(b []byte) []byte { return b[:mid*ps] })
	damage("both metas", func(b []byte) []byte {
		for i := 20; i < 60; i++ {
			b[i] ^= 0xff
			b[ps+i] ^= 0xff
		}
		return b
	})
	damage("empty", func([]byte) []byte { return nil })
	return out, keys
}

// TestStructuralDamageIsReportedNotPanicked checks that verify and serve
// report each kind of structural damage with where it is, exit 3 (corrupt),
// never panic, and that serve does not start: with the log alone (the key
// set is rebuilt while the pages are checked), and with the key snapshot of
// its clean stop beside it (the page check then runs in the background, and
// serve waits for it before it starts).
func TestStructuralDamageIsReportedNotPanicked(t *testing.T) {
	want := map[string]string{
		"page header": "Page expected to be",
		"page id":     "but self identifies as 99999",
		"branch page": "(a branch page)",
		"cut":         "it was cut short at page",
		"both metas":  "both meta pages (pages 0 and 1",
		"empty":       "is empty (0 bytes)",
	}
	logs, keys := damagedLogs(t)
	for name, b := range logs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, logFile)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(plaintBin, "verify", "--file", path).CombinedOutput()
			code := exitCodeOfRun(err)
			if code != 3 || !strings.Contains(string(out), want[name]) || strings.Contains(string(out), "goroutine") {
				t.Errorf("verify: exit %d, want 3 with %q:\n%s", code, want[name], out)
			}
			if name == "empty" {
				// Alone in its directory an empty file is a new log; beside
				// another log's files serve refuses it (identity_test.go).
				return
			}
			for _, snapshot := range []bool{false, true} {
				if snapshot {
					if err := os.WriteFile(path+".keys", keys, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				cmd := exec.Command(plaintBin, "serve", "--data", dir, "--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0")
				out, err = runWithin(t, cmd, 60*time.Second)
				code = exitCodeOfRun(err)
				if code != 3 || !strings.Contains(string(out), want[name]) || strings.Contains(string(out), "goroutine") || strings.Contains(string(out), "serving") {
					t.Errorf("serve (key snapshot beside: %v): exit %d, want 3 with %q and no start:\n%s", snapshot, code, want[name], out)
				}
			}
		})
	}
}

// TestCorruptProjectionsStopServeWithTheHint checks that a damaged
// projections.db stops serve, saying deleting it is safe, and that serve
// starts once it is deleted.
func TestCorruptProjectionsStopServeWithTheHint(t *testing.T) {
	data := mustLog(t, 50)
	s := startServer(t, data)
	s.term()
	proj := filepath.Join(data, projectionsFile)
	b, err := os.ReadFile(proj)
	if err != nil {
		t.Fatal(err)
	}
	for i := 20; i < 60; i++ {
		b[i] ^= 0xff
		b[4096+i] ^= 0xff
	}
	if err := os.WriteFile(proj, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(plaintBin, "serve", "--data", data, "--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0")
	out, err := runWithin(t, cmd, 60*time.Second)
	if code := exitCodeOfRun(err); code != 3 || !strings.Contains(string(out), "deleting it is safe") {
		t.Fatalf("serve: exit %d, want 3 with the hint:\n%s", code, out)
	}
	if err := os.Remove(proj); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, data)
	if got := s.statUint("events"); got != 50 {
		t.Fatalf("events %d after deleting projections.db, want 50", got)
	}
	s.term()
}

// exitCodeOfRun returns a finished subprocess's exit code (0 for nil).
func exitCodeOfRun(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// runWithin runs cmd and returns its combined output; a command still
// running after d is killed and fails the test.
func runWithin(t *testing.T, cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.Bytes(), err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v still running after %s:\n%s", cmd.Args, d, out.String())
		return nil, nil
	}
}
