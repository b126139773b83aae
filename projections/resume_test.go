package projections

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/eventstore"
)

const resumeSpec = "name: resume\ngroup_by: [category, region, currency]\nbucket: week\nmeasures: [count, distinct:customer_id, sum:amount]\n"

// TestHelperBuildProcess is the child of TestInterruptedBuildResumes: it
// starts a build, reports each checkpoint on stdout and hangs after the
// third, waiting to be killed.
func TestHelperBuildProcess(t *testing.T) {
	dir := os.Getenv("PLAINT_TEST_BUILD_DIR")
	if dir == "" {
		return
	}
	l, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithReadOnly())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	n := 0
	hang := make(chan struct{})
	e, err := Open(l, filepath.Join(dir, "projections.db"), WithChunk(500), WithCheckpointEvery(0), WithWorkers(2), withParallelMin(1),
		WithCheckpointHook(func(name string, seq uint64) {
			n++
			fmt.Printf("checkpoint %s %d\n", name, seq)
			if n == 3 {
				<-hang // killed here, mid-build, with the lock held
			}
		}))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	sp, err := ParseSpec([]byte(resumeSpec))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, err := e.Create(sp); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	<-hang
}

// TestInterruptedBuildResumes kills a process in the middle of a build and
// checks that the next engine resumes from the saved checkpoint and ends
// equal to a clean build.
func TestInterruptedBuildResumes(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(11), 6000)
	last := l.LastSeq()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperBuildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PLAINT_TEST_BUILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var cp uint64
	for i := 0; i < 3 && sc.Scan(); i++ {
		line := sc.Text()
		if !strings.HasPrefix(line, "checkpoint ") {
			t.Fatalf("child said %q", line)
		}
		fmt.Sscanf(strings.Fields(line)[2], "%d", &cp)
	}
	if cp == 0 {
		t.Fatalf("no checkpoint from the child: %v", sc.Err())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if cp >= last {
		t.Fatalf("checkpoint %d is not mid-build (log ends at %d)", cp, last)
	}

	l2, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	e := openTestEngine(t, l2, filepath.Join(dir, "projections.db"), WithChunk(500), WithWorkers(2), withParallelMin(1))
	e.mu.Lock()
	p := e.projs["resume"]
	e.mu.Unlock()
	if p == nil {
		t.Fatal("the interrupted projection was not loaded")
	}
	got, err := e.Query(ctx, "resume", AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if from := p.buildFrom.Load(); from != cp {
		t.Fatalf("resumed from %d, want the checkpoint %d", from, cp)
	}
	sp, _ := ParseSpec([]byte(resumeSpec))
	want, err := Replay(ctx, l2, sp, nil)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	WriteTable(&a, got, FormatCSV)
	WriteTable(&b, want, FormatCSV)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || a.Len() < 100 {
		t.Fatalf("resumed build differs from a clean one (%d and %d bytes)", a.Len(), b.Len())
	}
	st, err := e.Status("resume")
	if err != nil || st.State != "live" || st.Checkpoint != last || st.Progress != 100 {
		t.Fatalf("status %+v, %v", st, err)
	}
}
