package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/plaint/plaint/adapters/synthetic"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections/alerts"
)

// injections parses --inject; a bad one is a usage error.
func (c *EmitCmd) injections() ([]synthetic.Injection, error) {
	var out []synthetic.Injection
	for _, s := range c.Inject {
		in, err := synthetic.ParseInjection(s)
		if err != nil {
			return nil, domain.FieldErrorf("inject", "%v", err)
		}
		out = append(out, in)
	}
	return out, nil
}

// writeTruth writes --truth: the span, the categories and the rises
// injected, as plaint alerts score reads them.
func (c *EmitCmd) writeTruth(sum synthetic.Summary, inject []synthetic.Injection) error {
	if c.TruthFile == "" {
		return nil
	}
	// Rises is never null in the file, even with nothing injected.
	t := alerts.Truth{From: sum.Start, To: sum.End, Categories: synthetic.Categories(), Rises: append([]alerts.Rise{}, inject...)}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if _, err := eventstore.WriteFileAtomic(c.TruthFile, func(w io.Writer) (int64, error) {
		n, err := w.Write(append(b, '\n'))
		return int64(n), err
	}); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}
