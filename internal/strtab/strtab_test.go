package strtab

import (
	"reflect"
	"sync"
	"testing"
)

// TestTable interns strings from several goroutines, each getting one id
// per string, and rebuilds the table from its list with the same ids.
func TestTable(t *testing.T) {
	tab := New()
	words := []string{"billing", "delivery", "", "outage", "billing"}
	var wg sync.WaitGroup
	ids := make([][]uint32, 4)
	for g := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, w := range words {
				ids[g] = append(ids[g], tab.Intern(w))
			}
		}()
	}
	wg.Wait()
	for g := range ids {
		if !reflect.DeepEqual(ids[g], ids[0]) || ids[g][2] != 0 || ids[g][0] != ids[g][4] {
			t.Fatalf("goroutine %d got ids %v, goroutine 0 %v", g, ids[g], ids[0])
		}
	}
	if tab.Len() != 4 || tab.Bytes() == 0 {
		t.Fatalf("%d strings, %d bytes; want 4 and some", tab.Len(), tab.Bytes())
	}
	back := FromList(tab.List())
	for i, w := range words {
		if id, ok := back.Lookup(w); !ok || id != ids[0][i] || back.Str(id) != w {
			t.Fatalf("rebuilt: %q is %d (%v), want %d", w, id, ok, ids[0][i])
		}
	}
	if got := tab.From(3); len(got) != 1 || back.Str(99) != "" || FromList(nil).Len() != 1 {
		t.Fatalf("From(3) = %q", got)
	}
}
