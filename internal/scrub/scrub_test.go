package scrub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/internal/scrub"
)

var bucket = []byte("b")

// openDB returns a bbolt file holding 2,000 values, one of which carries
// secret, and then overwritten: the old copies of its pages are free.
func openDB(t *testing.T, secret []byte) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType, InitialMmapSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	put := func(kvs ...[]byte) {
		t.Helper()
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			for i := 0; i < len(kvs); i += 2 {
				if err := b.Put(kvs[i], kvs[i+1]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var kvs [][]byte
	for i := range 2000 {
		kvs = append(kvs, fmt.Appendf(nil, "k%05d", i), bytes.Repeat([]byte{byte('a' + i%26)}, 100))
	}
	put(kvs...)
	// The secret in a value of several pages, then overwritten: the pages
	// are freed, and the next commits reuse only some of them.
	put([]byte("k01000"), bytes.Repeat(append([]byte("name="), secret...), 4000))
	put([]byte("k01000"), []byte("name=erased-1"))
	put([]byte("k01001"), []byte("other"))
	return db
}

func find(t *testing.T, path string, needle []byte) int {
	t.Helper()
	hits, err := scrub.Find(path, [][]byte{needle})
	if err != nil {
		t.Fatal(err)
	}
	return len(hits)
}

func check(t *testing.T, db *bolt.DB) {
	t.Helper()
	err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		b := tx.Bucket(bucket)
		for i := range 2000 {
			v := b.Get(fmt.Appendf(nil, "k%05d", i))
			want := bytes.Repeat([]byte{byte('a' + i%26)}, 100)
			switch i {
			case 1000:
				want = []byte("name=erased-1")
			case 1001:
				want = []byte("other")
			}
			if !bytes.Equal(v, want) {
				return fmt.Errorf("k%05d = %q", i, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFreePagesZeroesWhatWasOverwritten(t *testing.T) {
	secret := []byte("Jane Q. Doe <jane@example.org>")
	db := openDB(t, secret)
	if find(t, db.Path(), secret) == 0 {
		t.Fatal("the test does not leave the old value in a free page")
	}
	rep, err := scrub.FreePages(context.Background(), db, scrub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := find(t, db.Path(), secret); n != 0 {
		t.Fatalf("after the scrub the file still holds the old value %d times", n)
	}
	if rep.Pages == 0 || rep.Steps == 0 {
		t.Fatalf("report %+v", rep)
	}
	check(t, db)
	// A copy taken afterwards holds none of it either.
	var buf bytes.Buffer
	if err := db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(&buf); return err }); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), secret) {
		t.Fatal("a backup after the scrub holds the old value")
	}
}

func TestFreePagesSparesPagesOlderReadersStillRead(t *testing.T) {
	secret := []byte("Jane Q. Doe <jane@example.org>")
	db, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType, InitialMmapSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), secret)
	}); err != nil {
		t.Fatal(err)
	}
	// A reader that began before the value was overwritten.
	old, err := db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte("k"), []byte("erased-1")) }); err != nil {
		t.Fatal(err)
	}
	_, err = scrub.FreePages(context.Background(), db, scrub.Options{MaxHold: 20 * time.Millisecond, Wait: 100 * time.Millisecond})
	if !errors.Is(err, scrub.ErrReaders) {
		t.Fatalf("with an older reader open: %v, want ErrReaders", err)
	}
	if got := old.Bucket(bucket).Get([]byte("k")); !bytes.Equal(got, secret) {
		t.Fatalf("the older reader reads %q: its page was overwritten under it", got)
	}
	if err := old.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := scrub.FreePages(context.Background(), db, scrub.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := find(t, db.Path(), secret); n != 0 {
		t.Fatalf("after the reader closed, the scrub left the old value %d times", n)
	}
}

func TestFreePagesAlongsideWritersAndReaders(t *testing.T) {
	secret := []byte("Jane Q. Doe <jane@example.org>")
	db := openDB(t, secret)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex // the owner's writer lock
	errs := make(chan error, 3)
	wg.Go(func() { // a writer rewriting other keys
		for i := 0; ctx.Err() == nil; i++ {
			mu.Lock()
			err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucket).Put(fmt.Appendf(nil, "w%05d", i%500), bytes.Repeat([]byte("w"), 200))
			})
			mu.Unlock()
			if err != nil {
				errs <- err
				return
			}
		}
	})
	for range 2 { // readers checking a stable value
		wg.Go(func() {
			for ctx.Err() == nil {
				err := db.View(func(tx *bolt.Tx) error {
					if v := tx.Bucket(bucket).Get([]byte("k00007")); !bytes.Equal(v, bytes.Repeat([]byte("h"), 100)) {
						return fmt.Errorf("reader saw %q", v)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	_, err := scrub.FreePages(ctx, db, scrub.Options{MaxHold: 5 * time.Millisecond, Lock: &mu})
	cancel()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := find(t, db.Path(), secret); n != 0 {
		t.Fatalf("the scrub left the old value %d times", n)
	}
	check(t, db)
}

func TestFindAcrossChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 20<<20)
	needle := []byte("C-1042")
	offs := []int{0, 8<<20 - 3, 8<<20 + 10, 16<<20 - 1, len(data) - len(needle)}
	for _, o := range offs {
		copy(data[o:], needle)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	hits, err := scrub.Find(path, [][]byte{[]byte("nothing"), needle})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != len(offs) {
		t.Fatalf("hits %v, want offsets %v", hits, offs)
	}
	for i, h := range hits {
		if h.Needle != 1 || h.Offset != int64(offs[i]) {
			t.Fatalf("hit %d = %+v, want needle 1 at %d", i, h, offs[i])
		}
	}
	in, err := scrub.FindInDir(filepath.Dir(path), [][]byte{needle})
	if err != nil || len(in[path]) != len(offs) {
		t.Fatalf("FindInDir = %v, %v", in, err)
	}
}
