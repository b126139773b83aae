package projections

import (
	"errors"
	"fmt"
	"strings"

	"github.com/plaint/plaint/domain"
)

// DefaultMaxGroups is the most groups (cells: a bucket and a combination of
// grouped values) one projection may hold, and the most rows one trend
// answer may have. A group costs about 110 bytes in a trend and 170-350 in
// a spec (more with distinct measures), so the default bounds a projection
// to a few hundred MB.
const DefaultMaxGroups = 1_000_000

// ErrTooManyGroups is matched (errors.Is) by the error of a projection, a
// replay or a trend answer that would hold more groups than its bound. The
// error is an EINVALID *domain.Error saying what to change.
var ErrTooManyGroups = errors.New("too many groups")

// groupsError is the error past the bound: a *domain.Error that also
// matches ErrTooManyGroups.
type groupsError struct{ de *domain.Error }

func (e *groupsError) Error() string        { return e.de.Error() }
func (e *groupsError) Unwrap() error        { return e.de }
func (e *groupsError) Is(target error) bool { return target == ErrTooManyGroups }

func tooManyGroups(what string, limit int) error {
	return &groupsError{de: domain.Errorf(domain.EINVALID,
		"%s: more than %d groups; narrow the filter, group by fewer fields or use a wider bucket, or raise --max-groups", what, limit)}
}

// checkGroups returns the bound's error once a spec fold (or one of its
// parts) holds n > limit groups.
func (f *specFold) checkGroups(n int) error {
	if f.limit > 0 && n > f.limit {
		g := "no group_by"
		if len(f.c.spec.GroupBy) > 0 {
			g = strings.Join(f.c.spec.GroupBy, " × ")
		}
		return tooManyGroups(fmt.Sprintf("projection %s (%s per %s)", f.c.spec.Name, g, f.c.bucket), f.limit)
	}
	return nil
}

// checkGroups is the trend fold's bound.
func (f *trendFold) checkGroups(n int) error {
	if f.limit > 0 && n > f.limit {
		names := make([]string, len(f.dims))
		for i, d := range f.dims {
			names[i] = string(d)
		}
		return tooManyGroups(fmt.Sprintf("trend by %s per %s", strings.Join(names, " × "), f.bucket), f.limit)
	}
	return nil
}
