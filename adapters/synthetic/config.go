// Package synthetic generates a realistic, deterministic history of customer
// and complaint events for demos, benchmarks and tests: customers are
// acquired (some by referral), record revenue, renew, file complaints that
// get resolved or not, and defect, more often after complaints.
package synthetic

import (
	"cmp"
	"fmt"
	"time"

	"github.com/plaint/plaint/internal/problems"
)

// Config configures a synthetic history.
type Config struct {
	// Customers is how many customers the history acquires in total.
	// Default 1000.
	Customers int
	// Months is the length of the history in calendar months. Default 24.
	Months int
	// Seed drives every random choice: the same Config gives the same events,
	// byte for byte.
	Seed int64
	// End is the last month of the history (any time within it); the history
	// ends when that month ends. Default October 2026.
	End time.Time
	// Source is the CloudEvents source prefix; events come from
	// Source+"/crm", Source+"/billing" and Source+"/support". Default
	// "synthetic".
	Source string
	// Rising lists the complaint categories whose share climbs over the last
	// RisingMonths months, so trend alerts have something to find. Default
	// app-login and price-increase; empty after setDefaults only if set to
	// an empty non-nil slice.
	Rising []string
	// RisingMonths is how many final months the rising categories climb
	// over. Default 3, or Months when that is shorter.
	RisingMonths int
	// Late is the share of events delivered one or two months after their
	// time, after later events (0: none, the default). Duplicates is the
	// share of events a source sends twice (same source and id).
	Late       float64
	Duplicates float64
	// Inject lists rises to inject (see Injection).
	Inject []Injection
}

// DefaultEnd is the default last month of a synthetic history.
var DefaultEnd = time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC)

func (c *Config) setDefaults() {
	c.Customers = cmp.Or(c.Customers, 1000)
	c.Months = cmp.Or(c.Months, 24)
	if c.End.IsZero() {
		c.End = DefaultEnd
	}
	c.End = time.Date(c.End.Year(), c.End.Month(), 1, 0, 0, 0, 0, time.UTC)
	c.Source = cmp.Or(c.Source, "synthetic")
	if c.Rising == nil {
		c.Rising = []string{"app-login", "price-increase"}
	}
	c.RisingMonths = cmp.Or(c.RisingMonths, min(3, c.Months))
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *Config) Validate() error {
	var errs []error
	if c.Customers < 1 || c.Customers > 10_000_000 {
		errs = append(errs, fmt.Errorf("customers is %d; it must be from 1 to 10,000,000", c.Customers))
	}
	if c.Months < 1 || c.Months > 240 {
		errs = append(errs, fmt.Errorf("months is %d; it must be from 1 to 240", c.Months))
	}
	if c.RisingMonths < 0 || c.RisingMonths > c.Months {
		errs = append(errs, fmt.Errorf("rising months is %d; it must be from 0 to months (%d)", c.RisingMonths, c.Months))
	}
	for _, r := range c.Rising {
		if _, ok := categoryIndex[r]; !ok {
			errs = append(errs, fmt.Errorf("rising category %q is not one of the generated categories", r))
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"late", c.Late}, {"duplicates", c.Duplicates}} {
		if f.v < 0 || f.v > 0.5 {
			errs = append(errs, fmt.Errorf("%s is %g; it must be a share from 0 to 0.5", f.name, f.v))
		}
	}
	for _, in := range c.Inject {
		if err := validateInjection(in); err != nil {
			errs = append(errs, fmt.Errorf("synthetic: inject %s from %s: %w", in.Category, in.From.Format(time.DateOnly), err))
		}
	}
	start := c.End.AddDate(0, 1-c.Months, 0)
	if !c.End.IsZero() && start.Year() < 1990 {
		errs = append(errs, fmt.Errorf("the history would start in %s, before 1990", start.Format("2006-01")))
	}
	return problems.Join(ErrConfig, errs)
}
