// Package detect is the statistical core of plaint's rising-issue alerts:
// pure functions over count series (no log, no NATS, no HTTP) that decide,
// deterministically, whether a series' current ISO week or month is
// unusually high, and carry everything an alert must say about it.
//
// # Using it
//
// A Series is the counts of consecutive periods (ISO weeks from a Monday, or
// months), the last possibly still running with its Exposure (see Elapsed).
// For each period evaluated together (say every category's current week):
//
//	d, err := detect.New(detect.Config{})      // defaults below; Validate joins every problem
//	evals[i] = d.Evaluate(series[i], states[i]) // per series: baseline, bound, p-value, CUSUM
//	d.Decide(evals)                             // across series: q-values, alarms, rule, severity
//	states[i] = states[i].Next(evals[i])        // after a complete period
//
// Baseline and Judge split Evaluate for callers that keep one baseline per
// period while it runs (the Farrington baseline reads nothing from the last
// 26 weeks); Backtest replays aligned series period by period. The same
// counts always give the same evaluations.
//
// # The single-period test: improved Farrington
//
// The baseline is the improved Farrington method of Noufaily et al. (2013,
// Statistics in Medicine 32(7):1206–1222) as R's
// surveillance::farringtonFlexible implements it with the "improved"
// control (Salmon, Schumacher & Höhle 2016, JSS 70(10)): a quasi-Poisson
// log-linear GLM, log mu_t = alpha + beta·t + gamma_{c(t)}, Var = phi·mu with
// phi >= 1, fitted by IRLS on the series' own history:
//
//   - YearsBack b = 5 years at most, as many as the history allows (at least
//     MinYearsBack = 1, see below); reference periods are the same week in
//     past years (the Monday nearest the same date, so 53-week years are
//     handled) or the same month;
//   - HalfWindow w = 3 weeks around each reference week (1 month for monthly
//     series); NoPeriods = 10: the windows form one level of a seasonal
//     factor and the rest of each year 9 blocks;
//   - PastExcluded = 26 weeks (6 months for months, the same half year):
//     the most recent periods are left out so that a rise does not raise its
//     own baseline;
//   - past outbreaks are down-weighted: a second fit with weights from the
//     Anscombe residuals above WeightsThreshold = 2.58;
//   - the trend is kept when its p-value is below PThresholdTrend = 1 (always,
//     as Noufaily advise), the history has TrendMinYears = 2 years and the
//     prediction does not exceed every count in the baseline;
//   - no alarm unless the last 4 periods hold at least 5 counts (limit54).
//
// The upper bound is the (1 - Alpha) quantile, Alpha = 0.05 one-sided, of
// the predictive negative binomial (mean mu, variance phi·mu, R's
// size = mu/(phi-1), prob = 1/phi, Poisson when phi = 1), and the p-value
// P(Y >= observed) under it. With Threshold = ThresholdNBPlugin this is
// farringtonFlexible's thresholdMethod = "nbPlugin" (the fitted mean plugged
// in); the default ThresholdPredictive also integrates over the estimation
// error of log mu (normal with the GLM's standard error, Gauss–Hermite), the
// predictive distribution of the count. The p-value is the regularised
// incomplete beta (gamma) function at each node; the quantile is found by
// walking the pmf recurrence P(k+1) = P(k)·(k+size)/(k+1)·(1-prob) of
// every node from the Cornish–Fisher start (nbwalk.go), which gives the
// count the search by the incomplete beta function gives whenever it
// decides it with a margin of 1e-7 (TestWalkedQuantilesAreTheSearchs), and
// falls back to that search otherwise (a huge size, a count far in a tail).
//
// # Confirming against the recent level
//
// A year-old seasonal baseline cannot see a level that drifted since, so an
// alarm must also clear the recent level of the last RecentBaseline = 26
// weeks (6 months) before a two-period guard band, i.e. the very periods
// Farrington leaves out: their mean m as a negative binomial whose variance
// is phi·m + m²·phi/T, phi their variance-to-mean ratio (at least 1) and
// phi/T the variance of the log of a mean estimated from their total count
// T (recentNB, judgeRecent: the predictive distribution's first two
// moments, one incomplete beta function a look), bound at the same Alpha. The reported Upper and PValue are the larger of
// the two: an intersection–union test (Berger 1982), still of level Alpha,
// that needs the period to be unusual both for its season and for its
// recent level. detect/3 and earlier used the EARS C2 bound (mean + z·sd,
// sd floored at 1, Student t p-value) here; for the few complaints a week
// of a small series the normal approximation was both too willing (fewer
// false alarms now: 0.94 → 0.80 per 100 series-months on seed 1 with
// nothing else changed) and too strict on real rises (it held back s19 and
// s31 of seed 1, +200% of 4-5 complaints a week).
//
// # Window looks: a period and the one before it
//
// A rise that began late in a week, or is too small for one week to show,
// shows in two: JudgeWindow judges the count of the running (or complete)
// week and the complete week before it against the sum of their two
// Farrington baselines (Window = 2 for weeks; months have none, Window =
// 1), with its own recent-level check against the sums of two consecutive
// weeks of the recent 26 (their spread measured, so that a level wandering
// from week to week widens the bound). It is a test of its own in the same
// Benjamini–Hochberg family as the single periods (a family of twice as
// many tests), with the same spending over a running week and the same
// MinCount, applied to the window's count; an alarm names the rule
// "farrington-window". The harness figures (BENCHMARKS.md): with the NB
// recent level, +100% rises found within 14 days 29, 28, 27 of 37 (seeds
// 1-3; were 29, 28, 26) at 0.91, 0.68, 0.88 false alarms per 100
// series-months (were 0.94, 0.71, 0.74). A window judged against the
// recent level as if its weeks were independent finds 30, 28, 27 but at
// 1.02 false alarms on seed 3, over the budget; three weeks, or windows
// judged only on complete weeks, do no better.
//
// # Little history
//
// A series with less than MinYearsBack = 1 year plus the window is judged
// by the ShortHistory rule, named in the alert's rule: EARS C2 by default
// (surveillance::earsC: mean and sd of the 7 periods before a two-period
// guard band, sd floored at EARSMinSigma = 1, bound mean + z(1-0.001)·sd),
// or C1 (no guard band), C3, or the standardised Poisson CUSUM of
// surveillance::algo.cusum (k = 1.04, h = 2.26). Its p-value is the
// predictive one, Student t with n-1 degrees of freedom of
// (observed - mean)/(sd·sqrt(1+1/n)), since the mean and sd come from only
// n = 7 periods; it is also confirmed by the 26-period recent level once
// that much history exists (no window look). From one year on, Farrington (surveillance
// allows b = 1; it fits a trend only from 3 years, plaint from
// TrendMinYears = 2). An earlier version waited for two years: the weeks
// of the second year were then judged by EARS C2, whose 7-week Student t
// is far weaker (a +150% week of 14 complaints a day reached p = 0.001
// only); on the harness corpora one year finds more of the +100% rises
// within 14 days (0.78, 0.76, 0.70 against 0.73, 0.73, 0.68, seeds 1-3)
// at 0.94, 0.71, 0.74 false alarms per 100 series-months.
//
// # Slow rises: the negative binomial CUSUM
//
// A rise of +50% that no single week shows is caught by the one-sided
// likelihood-ratio CUSUM of surveillance::glrnb with a known shift (Höhle &
// Paul 2008; theta given, change = "intercept", dir = "inc"):
//
//	S_t = max(0, S_{t-1} + Kappa·x_t + (x_t + 1/a_t)·log((1 + a_t·mu_t)/(1 + a_t·mu_t·e^Kappa)))
//
// with mu_t the larger of the Farrington and recent expectations, a_t =
// (phi - 1)/mu_t its NB dispersion, Kappa = log 2 (a doubling) and an alarm
// when S_t > Threshold = 7 (an in-control run length of about 5,600 weeks
// under a known baseline, simulated; glrnb's default 5 gives about 900,
// which the harness showed is too short once the baseline is estimated).
// The chart restarts at 0 after an alarm, and alarms only on complete
// periods. CasesToAlarm is glrnb's ret = "cases": the count this period
// would have needed for the chart to alarm.
//
// # Many series: the false discovery rate
//
// Decide adjusts the p-values of all the series evaluated together with
// Benjamini–Hochberg (R's p.adjust "BH") and raises a single-period alarm
// when the count is above the bound, its q-value is at most Q = 0.05, limit54
// holds and the count is at least MinCount = 5 (three complaints do not make
// an alert). A running period is looked at again as it fills: its level is
// what the Lan–DeMets O'Brien–Fleming-type spending function allows at its
// exposure e, 2·(1 − Φ(z_{1−Q/2}/√e)), reaching Q when complete (Spending;
// SpendingLinear, Q·e, is the earlier choice), so that daily looks do not
// multiply false alarms. On the harness corpora four false alarms in five
// came from early looks under the linear level; the O'Brien–Fleming level
// keeps the first days of a week strict and gives the end of the week
// nearly all of Q. A CUSUM alarm needs the count above its expectation and
// MinCount.
//
// # A partial period
//
// The current period is judged with an exposure offset: Elapsed gives the
// share of its expected counts already past, each day weighted by the
// weekday shape (EstimateWeekdayShape from the series' own daily history, or
// given). The expectation is multiplied by it (the NB keeps its phi, so
// variance phi·mu·e; EARS scales its sd by sqrt(e)) and the partial count is
// judged against that bound, never against a full period's.
//
// # What an evaluation says
//
//   - Observed, Expected, Upper: the count (so far), the baseline's predicted
//     count and the bound above which the period alone is unusual (both
//     scaled by the exposure of a partial period);
//   - PValue, QValue: P(count >= Observed) under the baseline, and its
//     Benjamini–Hochberg adjustment across the series decided together;
//   - Rule: what fired: "farrington", "ears-c1/c2/c3", "poisson-cusum" (one
//     period), "farrington-window" (a period and the one before it: Window
//     and WindowStart say which, and Observed, Expected and Upper are the
//     window's) or "nb-cusum" (a slow rise); Baseline the rule behind
//     Expected;
//   - Severity: (Observed - Upper) / predictive sd (sqrt(phi·Expected) for
//     Farrington, the sd for EARS): how far above the bound, in standard
//     deviations; Level the same on Sprinklr's 1–10 scale, 1 + floor(Severity)
//     capped at 10;
//   - Longevity: the periods in a row, this one included, above the bound;
//   - Phi, Trend, TrendCoef, YearsBack: the fit behind the bound; CUSUM and
//     CasesToAlarm the slow-rise chart; Reason why a period above its bound
//     did not alarm (FDR, minimum count, limit54).
//
// # Reference values
//
// testdata/reference.R computes, with R 4.2 and surveillance 1.20.3,
// farringtonFlexible (improved control, weekly by date and monthly), earsC
// C1/C2, glrnb (cases and value), algo.cusum, the NB and Poisson
// distribution functions, a weighted quasi-Poisson glm and p.adjust on
// surveillance's own data sets (Salmonella Newport and Agona, rotavirus in
// Berlin) and synthetic series; the tests compare against the committed CSVs
// (upper bounds and alarms exactly, expectations and phi to 1e-6, p-values
// to 1e-5, CUSUM values to 1e-9) without needing R. Where plaint differs
// from R on purpose — the C3 bound (R's observed + sd·(z - L) alarms on the
// lagged terms alone; plaint uses the published rule, C3 > z with the
// current period above one sd), the predictive threshold, the two-year
// minimum and trend, the recent-level check, CUSUM threshold 7 — R's
// behaviour stays reachable by configuration and is what the reference
// tests check, and plaint's own version is tested against its derivation.
//
// # Evaluation
//
// The harness subpackage scores the method on a labelled synthetic corpus
// against the Thematic-style (2 sd above the mean of the last 8 weeks) and
// Chattermill-style (2 sd above the mean of the previous 26 weeks) rules:
//
//	go test -run '^$' -bench Evaluation -benchtime 1x ./projections/detect/harness
package detect
