package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// mustLog creates a data directory holding a log with n events.
func mustLog(t *testing.T, n int) string {
	t.Helper()
	evs := make([]domain.Event, n)
	for i := range evs {
		evs[i] = crashEvent(i)
	}
	return writeLog(t, evs)
}

func TestLogStatsOffline(t *testing.T) {
	data := mustLog(t, 25)
	code, out, errOut := runMain(t, "log", "stats", "--json", "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var st eventstore.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Events != 25 || st.LastSeq != 25 || st.ByType["complaint.filed"] != 25 || st.BytesPerEvent == 0 {
		t.Fatalf("stats = %+v", st)
	}
	code, out, _ = runMain(t, "log", "stats", "--data", data)
	if code != 0 || !strings.Contains(out, "complaint.filed") || !strings.Contains(out, "bytes per event") {
		t.Fatalf("table output:\n%s", out)
	}
}

func TestLogTailOffline(t *testing.T) {
	data := mustLog(t, 25)
	code, out, errOut := runMain(t, "log", "tail", "-n", "3", "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines:\n%s", len(lines), out)
	}
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil {
		t.Fatal(err)
	}
	if last["plaintseq"] != float64(25) || last["id"] != crashEvent(24).ID || last["type"] != "complaint.filed" {
		t.Fatalf("last line = %v", last)
	}
	// The tail is the wire format: it decodes as an event again.
	var d domain.Decoder
	if _, err := d.Decode("", []byte(lines[2])); err != nil {
		t.Fatalf("tail line does not decode: %v", err)
	}
}

func TestVerifyAndBackupOffline(t *testing.T) {
	data := mustLog(t, 40)
	code, out, errOut := runMain(t, "verify", "--data", data)
	if code != 0 || !strings.HasPrefix(out, "ok: 40 records") {
		t.Fatalf("verify: exit %d %q %q", code, out, errOut)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if code, _, errOut := runMain(t, "backup", "--out", copyPath, "--data", data); code != 0 {
		t.Fatalf("backup: exit %d %s", code, errOut)
	}
	if code, out, _ := runMain(t, "verify", "--file", copyPath); code != 0 || !strings.HasPrefix(out, "ok: 40 records") {
		t.Fatalf("verify of backup: exit %d %q", code, out)
	}
	// Corrupt record 17 of the copy (the block that holds it, in a log of
	// blocks): verify must fail with exit 3 and say where.
	corrupt, where := corruptRecord(t, copyPath, 17)
	if !strings.HasPrefix(where, "block at ") {
		t.Fatalf("the new log holds %s alone, not in a block (blocks are the default)", where)
	}
	code, _, errOut = runMain(t, "verify", "--file", corrupt)
	if code != 3 || !strings.Contains(errOut, where) {
		t.Fatalf("verify of corrupt copy: exit %d %q, want %q", code, errOut, where)
	}
}
