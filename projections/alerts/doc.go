// Package alerts is plaint's rising-issue detector as a projection kind
// ("alerts", registered with the engine): it folds the complaints of the log
// into daily counts per series, judges each series' running and last
// complete ISO week and month with the statistics of projections/detect at
// points of event time that depend on the log alone, and keeps the
// lifecycle of the alerts this raises (alert.raised, alert.updated,
// alert.cleared) as CloudEvents with deterministic ids. Replaying the log
// gives the same alerts in the same order, byte for byte.
//
// # Series
//
// Every complaint category is a series; category × segment and category ×
// channel are judged only under a category that is itself alarming (or has
// an alert open) in the same period kind, so that the drill-down keeps the
// number of tests small. Each family (categories' running periods,
// categories' last complete periods, drill-downs' running and last complete
// periods) is decided together with the Benjamini–Hochberg correction of
// detect.Decide. A week family also holds each series' window look
// (detect.Detector.JudgeWindow): the running week with the last complete
// one, or the last complete week with the one before it (whose baseline
// the fold keeps as the periods roll), exactly as the harness judges them;
// a window alarm is named farrington-window and carries window_start.
// Drill-down series carry no CUSUM between periods: they are judged by the
// single-period test and the window alone.
//
// # When series are judged
//
// The detector's clock is the event-time watermark: the latest event time
// of the complaints folded, or the start of the latest day of the other
// events (plaint's own event types aside). Everything is judged
//
//   - when the watermark crosses midnight (UTC), at that midnight: the
//     periods it completes are closed (their CUSUM and longevity carried
//     forward), the new periods' baselines are computed once and cached;
//   - when a complaint brings its category's running (or last complete)
//     period above the bound of its last judgement: at the watermark, so
//     that a live rise is raised as the complaint that tips it is folded.
//
// Both depend on the log's order and its events' times only, never on how
// the log was cut into batches, so a live run and a replay raise the same
// alerts. Live, the watermark follows the wall clock as events come in; a
// backtest follows the event times of the history.
//
// A running period is judged with its exposure (detect.Elapsed: its elapsed
// share weighted by the category's weekday shape, estimated from its own
// history); the last complete period is judged again, whole, while it is
// the last, so that complaints arriving late for it (a CRM backfill) can
// raise an alert on it.
//
// # Lifecycle
//
// A series (its dimensions and period kind) has at most one open alert. It
// is raised when the series alarms with none open; updated when it alarms
// again on a later period, with another rule, or at another severity level
// (worse, or better while still above); cleared when a complete period at or
// after the alert's no longer alarms (a drill-down alert also when its
// category's clears). The alert id is period kind, series and the start of
// the period it was raised on; each of its events has id alert id + "#" +
// its number (0 for alert.raised).
package alerts
