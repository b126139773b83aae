package customers

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plaint/plaint/domain"
)

// The output formats: markdown is the review's meeting-notes form; table
// is the scorecard's and linkage's form for people.
const (
	FormatMarkdown = "markdown"
	FormatTable    = "table"
	FormatCSV      = "csv"
	FormatJSON     = "json"
)

// CheckFormat returns an EINVALID error unless f is one of allowed.
func CheckFormat(f string, allowed ...string) error {
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return domain.FieldErrorf("format", "%q is not one of %s", f, strings.Join(allowed, ", "))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// writeAs writes v as json, as csv with csv, or else with other (the
// default format).
func writeAs[T any](w io.Writer, v T, format string, csv, other func(io.Writer, T) error) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, v)
	case FormatCSV:
		return csv(w, v)
	}
	return other(w, v)
}

// WriteReview writes r as markdown (default), csv (one row per lost
// customer) or json.
func WriteReview(w io.Writer, r *Review, format string) error {
	return writeAs(w, r, format, writeReviewCSV, writeReviewMarkdown)
}

// money renders amounts as "USD 1,234.50 + EUR 10.00"; "–" for none.
func moneyText(as []Amount) string {
	if len(as) == 0 {
		return "–"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Currency + " " + thousands(a.Amount)
	}
	return strings.Join(parts, " + ")
}

// thousands groups the integer digits of a decimal string.
func thousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if dot {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

func signed(n int64) string {
	if n > 0 {
		return "+" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func pctText(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", *p)
}

func signedMoney(as []Amount) string {
	if len(as) == 0 {
		return "–"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		v := thousands(a.Amount)
		if !strings.HasPrefix(v, "-") {
			v = "+" + v
		}
		parts[i] = a.Currency + " " + v
	}
	return strings.Join(parts, " + ")
}

// mdCell escapes s for a markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func changeText(c *Change) string {
	if c == nil {
		return ""
	}
	s := fmt.Sprintf("%s (%s), value %s", signed(c.Count), pctText(c.Pct), signedMoney(c.Value))
	if c.PrevPartial {
		s += ", previous period partial"
	}
	return s
}

func dayText(t time.Time) string { return t.UTC().Format("2006-01-02") }

func writeReviewMarkdown(w io.Writer, r *Review) error {
	b := bufio.NewWriter(w)
	to, _ := time.Parse("2006-01-02", r.To)
	fmt.Fprintf(b, "# Lost-customer review %s (%s to %s)\n\n", r.Period, r.From, to.AddDate(0, 0, -1).Format("2006-01-02"))
	if r.Partial {
		fmt.Fprintf(b, "> **Partial period:** %s has not ended yet; its figures will still grow. Do not read the change as a drop.\n\n", r.Period)
	}
	d := r.Defected
	noun := "customers"
	if d.Count == 1 {
		noun = "customer"
	}
	fmt.Fprintf(b, "**%d %s lost**, worth %s", d.Count, noun, moneyText(d.Value))
	if d.Change != nil {
		fmt.Fprintf(b, " — %s against %s (%d lost, %s)", changeText(d.Change), r.Previous, d.Change.PrevCount, moneyText(d.Change.PrevValue))
	}
	fmt.Fprintf(b, ".\n\n%d stated their value; %d had no stated value and no revenue in the year before (counted, without value).\n\n", d.Stated, d.NoValue)
	groups := func(title, col string, gs []LostGroup, key func(*LostGroup) string, change bool) {
		fmt.Fprintf(b, "## %s\n\n", title)
		if len(gs) == 0 {
			fmt.Fprintf(b, "_none_\n\n")
			return
		}
		if change {
			fmt.Fprintf(b, "| %s | lost | value | change vs %s |\n|---|---:|---:|---|\n", col, r.Previous)
		} else {
			fmt.Fprintf(b, "| %s | lost | value |\n|---|---:|---:|\n", col)
		}
		for i := range gs {
			g := &gs[i]
			fmt.Fprintf(b, "| %s | %d | %s |", mdCell(key(g)), g.Count, moneyText(g.Value))
			if change {
				fmt.Fprintf(b, " %s |", changeText(g.Change))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	groups("By reason", "reason", r.ByReason, func(g *LostGroup) string { return g.Reason }, true)
	groups("By segment", "segment", r.BySegment, func(g *LostGroup) string { return g.Segment }, true)
	groups("By competitor", "competitor", r.ByCompetitor, func(g *LostGroup) string { return g.Competitor }, false)
	fmt.Fprintf(b, "## Call back (top %d by value, per currency)\n\n", r.Top)
	if len(r.Callbacks) == 0 {
		b.WriteString("_no lost customer with a known value_\n\n")
	} else {
		b.WriteString("| # | customer | value | segment | reason | competitor | left | complaints | called by |\n|---:|---|---:|---|---|---|---|---:|---|\n")
		for i, c := range r.Callbacks {
			fmt.Fprintf(b, "| %d | %s | %s %s | %s | %s | %s | %s | %d | |\n", i+1, mdCell(c.CustomerID), c.Currency, thousands(c.Value),
				mdCell(c.Segment), mdCell(c.Reason), mdCell(c.Competitor), dayText(c.DefectedAt), c.Complaints)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "## Lost customers (%d)\n\n", r.CustomersTotal)
	if len(r.Customers) < r.CustomersTotal {
		fmt.Fprintf(b, "_The first %d by defection time; ask for more with --limit 0._\n\n", len(r.Customers))
	}
	if len(r.Customers) > 0 {
		b.WriteString("| customer | segment | value | reason | competitor | left | complaints in the 90 days before |\n|---|---|---:|---|---|---|---|\n")
		for _, c := range r.Customers {
			val := moneyText(c.Values)
			switch c.ValueSource {
			case "revenue_365d":
				val += " (365-day revenue)"
			case "none":
				val = "unknown"
			}
			who := c.CustomerID
			if c.Tenure > 1 {
				who += fmt.Sprintf(" (tenure %d)", c.Tenure)
			}
			var cs []string
			for _, k := range c.Complaints {
				s := fmt.Sprintf("%s %s", dayText(k.Time), k.Category)
				if k.Channel != "" {
					s += "/" + k.Channel
				}
				if k.Severity > 0 {
					s += fmt.Sprintf(" sev %d", k.Severity)
				}
				if k.Resolved {
					s += ", resolved " + dayText(*k.ResolvedAt)
				} else {
					s += ", **unresolved**"
				}
				cs = append(cs, s)
			}
			comp := "none"
			if len(cs) > 0 {
				comp = strings.Join(cs, "; ")
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdCell(who), mdCell(c.Segment), val, mdCell(c.Reason), mdCell(c.Competitor), dayText(c.DefectedAt), mdCell(comp))
		}
		b.WriteString("\n")
	}
	return b.Flush()
}

func writeReviewCSV(w io.Writer, r *Review) error {
	cw := csv.NewWriter(w)
	rank := map[string]int{}
	for i, c := range r.Callbacks {
		if _, ok := rank[c.CustomerID+c.DefectedAt.String()]; !ok {
			rank[c.CustomerID+c.DefectedAt.String()] = i + 1
		}
	}
	_ = cw.Write([]string{"period", "partial", "customer_id", "segment", "value", "currency", "value_source", "reason", "competitor",
		"defected_at", "customer_since", "tenure", "complaints", "unresolved", "callback_rank"})
	for _, c := range r.Customers {
		val, cur := "", ""
		if c.Value != nil {
			val, cur = *c.Value, *c.Currency
		} else if len(c.Values) > 1 {
			var vs, cs []string
			for _, a := range c.Values {
				vs, cs = append(vs, a.Amount), append(cs, a.Currency)
			}
			val, cur = strings.Join(vs, ";"), strings.Join(cs, ";")
		}
		since := ""
		if c.CustomerAt != nil {
			since = c.CustomerAt.Format(time.RFC3339)
		}
		unresolved := 0
		for _, k := range c.Complaints {
			if !k.Resolved {
				unresolved++
			}
		}
		rk := ""
		if n, ok := rank[c.CustomerID+c.DefectedAt.String()]; ok {
			rk = strconv.Itoa(n)
		}
		_ = cw.Write([]string{r.Period, strconv.FormatBool(r.Partial), c.CustomerID, c.Segment, val, cur, c.ValueSource, c.Reason, c.Competitor,
			c.DefectedAt.Format(time.RFC3339), since, strconv.Itoa(c.Tenure), strconv.Itoa(len(c.Complaints)), strconv.Itoa(unresolved), rk})
	}
	cw.Flush()
	return cw.Error()
}

// ScorecardCSVHeader is the header of the scorecard's CSV.
var ScorecardCSVHeader = []string{"period", "segment", "new_customers", "new_value", "lost_customers", "lost_value", "renewals",
	"referrals", "revenue", "cost", "profit", "currency", "uncosted_revenue", "renewal_value", "partial",
	"new_customers_change", "new_value_change", "lost_customers_change", "lost_value_change", "renewals_change",
	"referrals_change", "revenue_change", "cost_change", "profit_change"}

// WriteScorecard writes s as a table (default), csv or json. The CSV has a
// row per month, segment and currency (one row with an empty currency when
// the group has no money that month); counts repeat on each currency's row.
func WriteScorecard(w io.Writer, s *Scorecard, format string) error {
	return writeAs(w, s, format, writeScorecardCSV, writeScorecardTable)
}

// rowCurrencies lists the currencies of a row's money.
func rowCurrencies(r *ScoreRow) []string {
	seen := map[string]bool{}
	var out []string
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, m := range r.NewValue {
		add(m.Currency)
	}
	for _, m := range r.LostValue {
		add(m.Currency)
	}
	for _, m := range r.RenewalValue {
		add(m.Currency)
	}
	for _, p := range r.Revenue {
		add(p.Currency)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func findMoney(ms []MoneyChange, cur string) *MoneyChange {
	for i := range ms {
		if ms[i].Currency == cur {
			return &ms[i]
		}
	}
	return nil
}

func findProfit(ps []Profit, cur string) *Profit {
	for i := range ps {
		if ps[i].Currency == cur {
			return &ps[i]
		}
	}
	return nil
}

func writeScorecardCSV(w io.Writer, s *Scorecard) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(ScorecardCSVHeader)
	amt := func(m *MoneyChange) (string, string) {
		if m == nil {
			return "", ""
		}
		return m.Amount, m.Change
	}
	for i := range s.Rows {
		r := &s.Rows[i]
		curs := rowCurrencies(r)
		if len(curs) == 0 {
			curs = []string{""}
		}
		for _, cur := range curs {
			nv, nvc := amt(findMoney(r.NewValue, cur))
			lv, lvc := amt(findMoney(r.LostValue, cur))
			rv, _ := amt(findMoney(r.RenewalValue, cur))
			var rev, cost, profit, unco, revc, costc, profc string
			if p := findProfit(r.Revenue, cur); p != nil {
				rev, cost, profit, unco = p.Revenue.Amount, p.Cost.Amount, p.Profit.Amount, p.Uncosted
				revc, costc, profc = p.Revenue.Change, p.Cost.Change, p.Profit.Change
			}
			i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
			_ = cw.Write([]string{r.Period, r.Segment, i64(r.NewCustomers.Count), nv, i64(r.LostCustomers.Count), lv, i64(r.Renewals.Count),
				i64(r.Referrals.Count), rev, cost, profit, cur, unco, rv, strconv.FormatBool(r.Partial),
				i64(r.NewCustomers.Change), nvc, i64(r.LostCustomers.Change), lvc, i64(r.Renewals.Change),
				i64(r.Referrals.Change), revc, costc, profc})
		}
	}
	cw.Flush()
	return cw.Error()
}

func countText(c Count) string {
	return fmt.Sprintf("%d (%s)", c.Count, signed(c.Change))
}

func moneyChangeText(ms []MoneyChange) string {
	if len(ms) == 0 {
		return "–"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s %s (%s)", m.Currency, thousands(m.Amount), pctText(m.Pct))
	}
	return strings.Join(parts, " + ")
}

func writeScorecardTable(w io.Writer, s *Scorecard) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Scorecard %s to %s by %s (changes against the previous month)\n\n", s.From, s.To, s.By)
	fmt.Fprintln(tw, "period\tsegment\tnew\tnew value\tlost\tlost value\trenewals\treferrals\trevenue\tprofit\t")
	for i := range s.Rows {
		r := &s.Rows[i]
		period := r.Period
		if r.Partial {
			period += " (partial)"
		}
		var rev, prof []MoneyChange
		for _, p := range r.Revenue {
			rev, prof = append(rev, p.Revenue), append(prof, p.Profit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", period, r.Segment, countText(r.NewCustomers), moneyChangeText(r.NewValue),
			countText(r.LostCustomers), moneyChangeText(r.LostValue), countText(r.Renewals), countText(r.Referrals),
			moneyChangeText(rev), moneyChangeText(prof))
	}
	if len(s.Rows) == 0 {
		fmt.Fprintln(tw, "(no months in this range)")
	}
	return tw.Flush()
}

// WriteLinkage writes l as a table (default), csv or json.
func WriteLinkage(w io.Writer, l *Linkage, format string) error {
	return writeAs(w, l, format, writeLinkageCSV, writeLinkageTable)
}

func optFloat(p *float64, digits int) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', digits, 64)
}

func amountsCSV(as []Amount) (string, string) {
	var vs, cs []string
	for _, a := range as {
		vs, cs = append(vs, a.Amount), append(cs, a.Currency)
	}
	return strings.Join(vs, ";"), strings.Join(cs, ";")
}

func writeLinkageCSV(w io.Writer, l *Linkage) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"category", "segment", "complainants", "defected", "defection_rate", "base_rate", "lift", "value_lost",
		"value_lost_currency", "at_risk_customers", "revenue_at_risk", "revenue_at_risk_currency", "rank_by_count", "rank_by_risk", "window_days"})
	for _, r := range l.Rows {
		vl, vlc := amountsCSV(r.ValueLost)
		ra, rac := amountsCSV(r.RevenueAtRisk)
		_ = cw.Write([]string{r.Category, r.Segment, strconv.FormatInt(r.Complainants, 10), strconv.FormatInt(r.Defected, 10),
			strconv.FormatFloat(r.DefectionRate, 'f', 6, 64), optFloat(r.BaseRate, 6), optFloat(r.Lift, 4), vl, vlc,
			strconv.FormatInt(r.AtRisk, 10), ra, rac, strconv.Itoa(r.RankByCount), strconv.Itoa(r.RankByRisk), strconv.Itoa(l.WindowDays)})
	}
	cw.Flush()
	return cw.Error()
}

func writeLinkageTable(w io.Writer, l *Linkage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Complaint → defection within %d days, as of %s", l.WindowDays, l.AsOf)
	if l.From != "" || l.To != "" {
		fmt.Fprintf(tw, ", complaints from %s to %s", l.From, l.To)
	}
	fmt.Fprintf(tw, "\nBase rate (customers without a complaint): %s (%d customers, %d defections over %.0f customer-days)\n\n",
		pctOf(l.BaseRate), l.NonComplainants, l.NonComplainantsDefections, l.ExposureDays)
	head := "risk#\tcount#\tcategory\t"
	if strings.Contains(l.By, "segment") {
		head += "segment\t"
	}
	fmt.Fprintln(tw, head+"complainants\tdefected\trate\tlift\tvalue lost\tat risk\trevenue at risk\t")
	for _, r := range l.Rows {
		seg := ""
		if strings.Contains(l.By, "segment") {
			seg = r.Segment + "\t"
		}
		lift := "n/a"
		if r.Lift != nil {
			lift = fmt.Sprintf("%.2f×", *r.Lift)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s%d\t%d\t%.1f%%\t%s\t%s\t%d\t%s\t\n", r.RankByRisk, r.RankByCount, r.Category, seg, r.Complainants,
			r.Defected, r.DefectionRate*100, lift, moneyText(r.ValueLost), r.AtRisk, moneyText(r.RevenueAtRisk))
	}
	if len(l.Rows) == 0 {
		fmt.Fprintln(tw, "(no complaints in this range)")
	}
	return tw.Flush()
}

func pctOf(p *float64) string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f%%", *p*100)
}
