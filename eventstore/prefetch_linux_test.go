//go:build linux

package eventstore

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestReadAhead reads a file of a few chunks and a part ahead, mapped and
// populated and by reads, with one reader and several: every reader ends,
// the file is closed, the progress says all of it was read, its bytes are
// unchanged; with stop closed first, the readers end at once.
func TestReadAhead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	const chunk = 64 << 10
	data := make([]byte, 5*chunk+12345)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if !populateRange(mustOpen(t, path), 0, chunk) {
		t.Log("this kernel cannot populate a mapping (MADV_POPULATE_READ): reads only")
	}
	for _, populate := range []bool{true, false} {
		for _, readers := range []int32{1, 3, 8} {
			f := mustOpen(t, path)
			a := newReadAhead(int64(len(data)), chunk)
			<-readFileAhead(f, nil, readers, chunk, populate, a)
			if err := f.Close(); err == nil {
				t.Fatalf("populate %v, %d readers: the file was left open", populate, readers)
			}
			if a.prefix != int64(len(data)) || !a.ended {
				t.Fatalf("populate %v, %d readers: read-ahead at %d of %d, ended %v", populate, readers, a.prefix, len(data), a.ended)
			}
			stop := make(chan struct{})
			close(stop)
			<-readFileAhead(mustOpen(t, path), stop, readers, chunk, populate, nil)
		}
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the file changed (%v)", err)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
