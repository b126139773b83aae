package projections

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Kind is a kind of projection: the code that folds the projections whose
// definition names it, and how their state is kept. The built-in kinds
// register themselves (trend, base, first, customers, spec); so does any
// other, with RegisterKind from an init function, without changing the
// engine.
type Kind struct {
	// Name is what definitions call it (Definition.Kind).
	Name string
	// Version is the version of the code that folds it. Raising it
	// rebuilds every saved projection of the kind beside the old one,
	// which keeps serving until the new one has caught up.
	Version int
	// New returns an empty fold for def, a definition of this kind.
	New func(def *Definition, env Env) (Fold, error)
	// Persist says how the state is kept in the projection file.
	Persist Persistence
}

// Persistence says how a kind's state is kept.
type Persistence int

const (
	// PersistWhole saves the whole state at every checkpoint: the fold
	// implements WholeState.
	PersistWhole Persistence = iota + 1
	// PersistEntries saves what changed, entry by entry, at every
	// checkpoint: the fold implements EntryState.
	PersistEntries
	// PersistNone keeps the state in memory only (a cache, rebuilt from
	// the log when asked for again).
	PersistNone
)

// Env is what the engine gives a kind's New.
type Env struct {
	// MaxGroups bounds the groups a fold may hold (0: no bound); past it
	// Merge returns an error matching ErrTooManyGroups (WithMaxGroups).
	MaxGroups int

	e *Engine // nil offline (Replay)
}

// ErrKindExists is returned by RegisterKind for a name already registered.
var ErrKindExists = errors.New("projection kind already registered")

var kinds = struct {
	sync.RWMutex
	m map[string]*Kind
}{m: map[string]*Kind{}}

// RegisterKind makes k known to every engine. It returns an error wrapping
// ErrKindExists when k's name is taken, and one that says what is missing
// when k is incomplete.
func RegisterKind(k Kind) error {
	var errs []error
	if k.Name == "" {
		errs = append(errs, errors.New("kind without a name"))
	}
	if k.Version < 1 {
		errs = append(errs, fmt.Errorf("kind %q: version %d, want at least 1", k.Name, k.Version))
	}
	if k.New == nil {
		errs = append(errs, fmt.Errorf("kind %q: no New", k.Name))
	}
	if k.Persist < PersistWhole || k.Persist > PersistNone {
		errs = append(errs, fmt.Errorf("kind %q: persistence %d is none of PersistWhole, PersistEntries, PersistNone", k.Name, k.Persist))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("register projection kind: %w", err)
	}
	kinds.Lock()
	defer kinds.Unlock()
	if _, ok := kinds.m[k.Name]; ok {
		return fmt.Errorf("register projection kind %q: %w", k.Name, ErrKindExists)
	}
	kinds.m[k.Name] = &k
	return nil
}

// MustRegisterKind is RegisterKind for init functions: it panics on error.
func MustRegisterKind(k Kind) {
	if err := RegisterKind(k); err != nil {
		panic(err)
	}
}

// Kinds returns the registered kinds, by name.
func Kinds() []Kind {
	kinds.RLock()
	defer kinds.RUnlock()
	out := make([]Kind, 0, len(kinds.m))
	for _, k := range kinds.m {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// kindOf returns the registered kind called name.
func kindOf(name string) (*Kind, error) {
	kinds.RLock()
	defer kinds.RUnlock()
	if k, ok := kinds.m[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown projection kind %q", name)
}

// newFold returns an empty fold for def made by its kind, checked to
// implement what the kind's persistence needs.
func (d *Definition) newFold(env Env) (Fold, *Kind, error) {
	k, err := kindOf(d.Kind)
	if err != nil {
		return nil, nil, err
	}
	f, err := k.New(d, env)
	if err != nil {
		return nil, nil, err
	}
	switch k.Persist {
	case PersistWhole:
		if _, ok := f.(WholeState); !ok {
			return nil, nil, fmt.Errorf("projection kind %q is saved whole, but its fold %T is no WholeState", k.Name, f)
		}
	case PersistEntries:
		if _, ok := f.(EntryState); !ok {
			return nil, nil, fmt.Errorf("projection kind %q is saved by entries, but its fold %T is no EntryState", k.Name, f)
		}
	}
	return f, k, nil
}
