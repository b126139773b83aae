package projections

import (
	"context"
	"strings"

	"github.com/plaint/plaint/domain"
)

// Ensure makes the projection called name, of a registered kind, compute
// def and keep it live: it is built over the whole log in the background
// the first time (Status shows its progress), then advanced as batches are
// appended and saved as its kind says; a definition (or code version)
// other than the one saved rebuilds it beside the old state, which keeps
// serving until the new one has caught up. name must start with
// "builtin/", apart from the analysts' projections (Create) and the trend
// caches (Trends). def.Version is set to the kind's.
func (e *Engine) Ensure(name string, def Definition) (Status, error) {
	if !strings.HasPrefix(name, "builtin/") || isTrendName(name) || len(name) <= len("builtin/") {
		return Status{}, domain.FieldErrorf("name", "%q: a built-in projection's name starts with builtin/ (and is not a trend's)", name)
	}
	k, err := kindOf(def.Kind)
	if err != nil {
		return Status{}, domain.FieldErrorf("kind", "%v", err)
	}
	if k.Name == kindSpec || k.Name == kindTrend {
		return Status{}, domain.FieldErrorf("kind", "%s projections are made by Create and Trends", k.Name)
	}
	def.Version = k.Version
	if err := e.define(name, &def); err != nil {
		return Status{}, err
	}
	return e.Status(name)
}

// Read brings the projection called name up to the end of the log (waiting
// for its first build), then calls fn with its fold and position; the
// projection does not advance until fn returns, and fn must not keep the
// fold after it. It returns ENOTFOUND for a projection that does not
// exist, the projection's error when it failed, and fn's.
func (e *Engine) Read(ctx context.Context, name string, fn func(f Fold, at uint64) error) error {
	e.mu.Lock()
	p, ok := e.projs[name]
	e.mu.Unlock()
	if !ok {
		return domain.Errorf(domain.ENOTFOUND, "no projection named %q", name)
	}
	if err := e.catchUp(ctx, p, true); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return fn(p.f, p.cp)
}
