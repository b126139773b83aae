// Package customers is the per-customer state behind plaint's lost-customer
// review, its five-metric scorecard and the complaint → defection linkage:
// every customer's history, folded from the events in log order, with
// monthly aggregates kept beside it so that a review or scorecard answers
// without scanning the customers.
//
// # Definitions
//
// A customer's events are taken in event-time order; events of the same
// time keep their log order. The tests (naive_test.go) recompute every
// figure from raw events by these rules.
//
//   - Segment of an event: its own segment when it has one; otherwise the
//     segment of the customer's latest customer.acquired before it (in the
//     order above); otherwise "(none)".
//   - Tenure: a customer.defected ends a tenure; an acquisition after it
//     starts the next one (a customer who comes back). Each defection
//     counts in its own period, with its own value and complaints.
//   - Value of a lost customer: the amount of its customer.defected when
//     given ("stated"). Otherwise the sum of its revenue.recorded amounts in
//     the 365 days before the defection (time in (d − 365 days, d]) of the
//     same tenure (after the customer's previous defection): "revenue_365d".
//     Per currency, never mixed; with neither, the value is "none" (null).
//   - Complaints before leaving: the customer's complaint.filed events with
//     time in (d − 90 days, d]. A complaint is resolved when the customer
//     has a complaint.resolved with the same complaint_id (at any time; the
//     earliest is shown); one without a complaint_id cannot be resolved.
//   - Periods: UTC months (2025-09) and quarters (2025-Q3); the event time
//     decides. A late event restates its period. A period that had not
//     ended at the query's now (the wall clock) is marked partial; so is the
//     previous period of a change when it was.
//   - Callbacks: the top N lost customers by value, per currency (ties: the
//     most recent defection first, then customer id). Defections without a
//     value are listed among the lost customers but not ranked.
//   - Scorecard, per month and group (segment, or all customers): new
//     customers (acquisitions, a comeback included) and the amounts they
//     state; lost customers (defections) and their value as above;
//     renewals, by reason, and their amounts; revenue, cost and profit
//     (revenue − cost) of revenue.recorded, with the revenue that carried no
//     cost shown apart (profit counts it whole); referrals (referral.made,
//     by the referrer's segment). Each with the change against the previous
//     month.
//   - Linkage, per complaint category (and the complaint's segment):
//     complainants are the distinct customers with a complaint of it whose
//     time is in the range (--from/--to months, default all history, and
//     never after as-of, default the latest event time). Defected are those
//     of them with a defection at most the window (default 90 days) after
//     one of those complaints, and not after as-of. The defection rate is
//     defected / complainants. Value lost is the value of those linked
//     defections.
//   - Base rate: among customers with no complaint of any category in the
//     range, D defections in the range over E customer-days in it (a tenure
//     runs from the customer's first event after its previous defection to
//     its next defection, or to the end of the range), turned into the
//     window's risk: 1 − exp(−window_days × D / E). With a segment
//     breakdown, per segment (of the customer's latest acquisition). Lift is
//     the defection rate / the base rate.
//   - Revenue at risk: for the customers with a complaint of the category in
//     the window before as-of who have not defected since, their value (the
//     revenue they recorded in the 365 days up to as-of, since their last
//     defection) × the category's defection rate, exactly, rounded half away
//     from zero to the minor unit. Categories are ranked by it (in the
//     currency most customers at risk pay in) as well as by complainants.
//
// # State
//
// Customers are keyed by a stable key: the event log's dictionary id of
// their customer_id. A forgotten customer's dictionary entry is renamed
// erased-<n>, so the review shows the pseudonym and the state never holds
// the id itself. Each customer holds its history as a compact byte string
// (history.go: about 6–12 bytes an event), kept in event-time order. An
// event that comes in order is appended and adds its contribution to the
// monthly aggregates; a late one takes back everything its customer
// contributed, takes its place in the history and contributes again, which
// restates every period it touches. Duplicates never arrive: the log drops
// them.
//
// The customers are split into shards by key, each with its own
// aggregates, and a batch of events is folded on every core. A checkpoint
// saves only the customers changed since the last one (TakeDirty), as their
// history bytes, and a header with the string table; Load folds the
// aggregates again from the histories.
package customers
