package synthetic

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/alerts"
)

// Injection is a rise injected into a synthetic history: from From, for
// Weeks weeks, the complaints of Category (and of Segment and Channel, when
// given) come Factor times as often. It is the alert scorer's Rise, so the
// truth a history is labelled with is what the scorer reads.
type Injection = alerts.Rise

// ParseInjection reads "category=billing,segment=smb,from=2026-03-02,factor=2.0,weeks=6"
// (segment and channel optional; weeks default 4, factor default 2).
func ParseInjection(s string) (Injection, error) {
	in := Injection{Weeks: 4, Factor: 2}
	var errs []error
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not key=value", kv))
			continue
		}
		var err error
		switch k {
		case "category":
			in.Category = domain.Slug(v)
		case "segment":
			in.Segment = domain.Slug(v)
		case "channel":
			in.Channel = domain.Slug(v)
		case "from":
			in.From, err = time.Parse(time.DateOnly, v)
		case "weeks":
			in.Weeks, err = strconv.Atoi(v)
		case "factor":
			in.Factor, err = strconv.ParseFloat(v, 64)
		default:
			err = fmt.Errorf("unknown key (want category, segment, channel, from, weeks, factor)")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
	}
	if err := validateInjection(in); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return in, fmt.Errorf("inject %q: %w", s, err)
	}
	return in, nil
}

// validateInjection joins every problem of an injection.
func validateInjection(in Injection) error {
	var errs []error
	if _, ok := categoryIndex[in.Category]; !ok {
		errs = append(errs, fmt.Errorf("category %q is not one of the generated categories", in.Category))
	}
	if in.From.IsZero() {
		errs = append(errs, fmt.Errorf("no from date"))
	}
	if in.Weeks < 1 || in.Weeks > 520 {
		errs = append(errs, fmt.Errorf("weeks %d: must be from 1 to 520", in.Weeks))
	}
	if !(in.Factor >= 1 && in.Factor <= 100) {
		errs = append(errs, fmt.Errorf("factor %g: must be from 1 to 100", in.Factor))
	}
	return errors.Join(errs...)
}

// injectionMatches reports whether complaint ev falls under the injection in.
func injectionMatches(in Injection, ev *domain.Event) bool {
	return ev.Type == domain.TypeComplaintFiled && ev.Data.Category == in.Category &&
		(in.Segment == "" || ev.Data.Segment == in.Segment) && (in.Channel == "" || ev.Data.Channel == in.Channel) &&
		!ev.Time.Before(in.From) && ev.Time.Before(in.End())
}

// inject adds, for a complaint under an injection, the extra complaints
// that make its kind Factor times as frequent: copies with their own ids,
// at random times of the same day within the rise. They are drawn from a
// random stream of their own, so that the rest of the history is the one
// the same seed gives without injections.
func (g *generator) inject(ev domain.Event) {
	for _, in := range g.cfg.Inject {
		if !injectionMatches(in, &ev) {
			continue
		}
		extra := in.Factor - 1
		n := int(math.Floor(extra))
		if g.injRnd.chance(extra - float64(n)) {
			n++
		}
		day := time.Date(ev.Time.Year(), ev.Time.Month(), ev.Time.Day(), 0, 0, 0, 0, time.UTC)
		lo, hi := latest(day, in.From), day.Add(24*time.Hour)
		if e := in.End(); e.Before(hi) {
			hi = e
		}
		for k := range n {
			cp := ev
			cp.ID = fmt.Sprintf("%s-x%d", ev.ID, k+1)
			cp.Time = lo.Add(time.Duration(g.injRnd.between(0, int64(hi.Sub(lo))-1))).Truncate(time.Second)
			cp.Data.ComplaintID = fmt.Sprintf("%s-x%d", ev.Data.ComplaintID, k+1)
			g.sum.Injected++
			g.queueInjected(cp)
		}
	}
}

// Categories returns the complaint categories a synthetic history uses.
func Categories() []string {
	out := make([]string, len(categories))
	for i, c := range categories {
		out[i] = c.name
	}
	return out
}
