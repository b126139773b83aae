package scrub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Hit is one occurrence of a needle in a file.
type Hit struct {
	Needle int   // index into the needles searched for
	Offset int64 // byte offset in the file
}

// maxHitsPerNeedle bounds the hits Find reports for one needle.
const maxHitsPerNeedle = 1000

// Find returns the occurrences of needles in the file at path, like
// `grep -boa`, reading it sequentially (at most maxHitsPerNeedle a needle).
// Empty needles are ignored.
func Find(path string, needles [][]byte) ([]Hit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", path, err)
	}
	defer f.Close()
	longest := 0
	for _, n := range needles {
		longest = max(longest, len(n))
	}
	if longest == 0 {
		return nil, nil
	}
	const chunk = 8 << 20
	buf := make([]byte, chunk+longest-1)
	var hits []Hit
	count := make([]int, len(needles))
	var base int64 // file offset of buf[0]
	carry := 0     // bytes kept from the previous chunk
	for {
		n, err := io.ReadFull(f, buf[carry:])
		end := carry + n
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return hits, fmt.Errorf("search %s: %w", path, err)
		}
		last := err != nil
		// A match must start in this chunk's new part, or in the carried
		// tail only if it did not fit before.
		for i, nd := range needles {
			if len(nd) == 0 {
				continue
			}
			for off := 0; off+len(nd) <= end && count[i] < maxHitsPerNeedle; {
				j := bytes.Index(buf[off:end], nd)
				if j < 0 {
					break
				}
				pos := off + j
				// Matches wholly inside the carried tail were found before.
				if pos+len(nd) > carry {
					hits = append(hits, Hit{Needle: i, Offset: base + int64(pos)})
					count[i]++
				}
				off = pos + 1
			}
		}
		if last {
			return hits, nil
		}
		carry = min(longest-1, end)
		copy(buf, buf[end-carry:end])
		base += int64(end - carry)
	}
}

// FindInDir runs Find on every regular file under dir and returns the hits
// by path.
func FindInDir(dir string, needles [][]byte) (map[string][]Hit, error) {
	out := map[string][]Hit{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a file removed while we walked
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		hits, err := Find(path, needles)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(hits) > 0 {
			out[path] = hits
		}
		return nil
	})
	return out, err
}
