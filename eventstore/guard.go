package eventstore

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"strings"
)

// guard runs f and turns a panic of bbolt on a damaged page (an assertion on
// a page id, an index out of range in a branch page) or a fault reading a
// mapped page past the file's end into an error wrapping ErrCorrupt that
// names what was being read. bbolt trusts its pages and panics on damage; a
// plaint command reports it instead (exit code 3). Any other panic (a bug in
// f) goes on.
func guard(what string, f func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if re, ok := r.(error); ok && strings.Contains(re.Error(), "fault") {
			err = fmt.Errorf("%w: %s: the file ends inside its pages (was it cut short?): %v", ErrCorrupt, what, r)
			return
		}
		if !panickedInBbolt(debug.Stack()) {
			panic(r)
		}
		err = fmt.Errorf("%w: %s: bbolt stopped on a damaged page: %v", ErrCorrupt, what, r)
	}()
	return f()
}

// panickedInBbolt reports whether the first frame below the panic in a
// goroutine's stack (debug.Stack in a deferred recover) is bbolt's.
func panickedInBbolt(stack []byte) bool {
	i := bytes.Index(stack, []byte("\npanic("))
	if i < 0 {
		return false
	}
	for _, line := range bytes.Split(stack[i+1:], []byte("\n")) {
		if len(line) == 0 || line[0] == '\t' || bytes.HasPrefix(line, []byte("panic(")) || bytes.HasPrefix(line, []byte("runtime.")) {
			continue
		}
		return bytes.HasPrefix(line, []byte("go.etcd.io/bbolt"))
	}
	return false
}
