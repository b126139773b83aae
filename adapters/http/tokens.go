package http

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/plaint/plaint/domain"
)

// Tokens are the bearer tokens of --tokens and their roles. The file has
// one token a line, "ROLE TOKEN"; "#" starts a comment; roles are read,
// ingest and admin. Tokens are kept as SHA-256 digests and compared in
// constant time; they are never logged. A Tokens is safe for concurrent
// use, and Reload swaps in the file's new contents at once.
type Tokens struct {
	path string

	mu      sync.RWMutex
	entries []tokenEntry
}

type tokenEntry struct {
	digest [sha256.Size]byte
	role   Role
}

// MinTokenLength is the shortest token accepted: a token is a secret, not
// a password to remember (openssl rand -hex 32 makes a good one).
const MinTokenLength = 16

// tokenChars are the characters a token may hold: those of hex, base64 and
// base64url, which a cookie carries as they are.
var tokenChars = regexp.MustCompile(`^[A-Za-z0-9._~+/=-]+$`)

// LoadTokens reads a tokens file.
func LoadTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path}
	if err := t.Reload(); err != nil {
		return nil, err
	}
	return t, nil
}

// ParseTokens reads tokens in the file's format from r (for tests and
// callers with the text at hand).
func ParseTokens(r io.Reader) (*Tokens, error) {
	entries, err := parseTokens(r)
	if err != nil {
		return nil, err
	}
	return &Tokens{entries: entries}, nil
}

// Reload reads the file again and replaces the tokens when it is valid; an
// invalid file leaves them as they were and says why.
func (t *Tokens) Reload() error {
	if t.path == "" {
		return errors.New("tokens: no file to reload")
	}
	b, err := os.ReadFile(t.path)
	if err != nil {
		return domain.Errorf(domain.EINVALID, "tokens file: %v", err)
	}
	entries, err := parseTokens(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %w", t.path, err)
	}
	t.mu.Lock()
	t.entries = entries
	t.mu.Unlock()
	return nil
}

// Len returns how many tokens there are.
func (t *Tokens) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.entries)
}

// Role returns the role of token, and false when it is none of them. Every
// token is compared, in constant time, whichever matches.
func (t *Tokens) Role(token string) (Role, bool) {
	d := sha256.Sum256([]byte(token))
	t.mu.RLock()
	defer t.mu.RUnlock()
	var role Role
	found := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 {
			role = e.role
			found = 1
		}
	}
	return role, found == 1
}

// parseTokens reads the file's lines. Errors name the line, never its token.
func parseTokens(r io.Reader) ([]tokenEntry, error) {
	var entries []tokenEntry
	seen := map[[sha256.Size]byte]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, domain.Errorf(domain.EINVALID, "tokens line %d: want \"ROLE TOKEN\" (%d fields)", n, len(f))
		}
		role := Role(f[0])
		switch role {
		case RoleRead, RoleIngest, RoleAdmin:
		default:
			return nil, domain.Errorf(domain.EINVALID, "tokens line %d: role %q is not read, ingest or admin", n, truncate(f[0], 20))
		}
		tok := f[1]
		if len(tok) < MinTokenLength || !tokenChars.MatchString(tok) {
			return nil, domain.Errorf(domain.EINVALID, "tokens line %d: a token is at least %d characters of A-Z a-z 0-9 . _ ~ + / = - (openssl rand -hex 32 makes one)", n, MinTokenLength)
		}
		d := sha256.Sum256([]byte(tok))
		if seen[d] {
			return nil, domain.Errorf(domain.EINVALID, "tokens line %d: the token is on an earlier line too", n)
		}
		seen[d] = true
		entries = append(entries, tokenEntry{digest: d, role: role})
	}
	if err := sc.Err(); err != nil {
		return nil, domain.Errorf(domain.EINVALID, "tokens line %d: %v", n+1, err)
	}
	if len(entries) == 0 {
		return nil, domain.Errorf(domain.EINVALID, "the tokens file holds no token (one a line: ROLE TOKEN)")
	}
	return entries, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
