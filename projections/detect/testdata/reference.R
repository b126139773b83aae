# Reference values for projections/detect, computed with R's surveillance
# package (the implementation plaint's detector follows).
#
#   Rscript reference.R        (run inside projections/detect/testdata)
#
# Written with R 4.2 and surveillance 1.20.3 (Debian bookworm's
# r-cran-surveillance). It writes, next to itself:
#   series.csv     every input series: series, period, t (1-based), date, count
#   negbin.csv     qnbinom / pnbinom / qpois / ppois values
#   glm.csv        a weighted quasi-Poisson glm fit: coefficients, dispersion,
#                  standard errors, fitted values, hat values
#   bh.csv         p.adjust(p, "BH")
#   reference.csv  farringtonFlexible (improved control), earsC C1/C2/C3,
#                  glrnb (theta given, ret = "cases" and "value") and
#                  algo.cusum outputs per series and time point
# The Go tests read these files; they never need R.
suppressMessages(library(surveillance))
set.seed(20261201)
options(digits = 15, warn = 1)

fmt <- function(x) ifelse(is.na(x), "NA", trimws(formatC(as.numeric(x), digits = 15, format = "g")))

## ---------------------------------------------------------------- series
series <- list()
add <- function(name, period, counts, dates) {
  series[[name]] <<- list(name = name, period = period, counts = as.integer(counts), dates = as.Date(dates))
}

# surveillance's own data: Salmonella Newport, Germany, weekly from
# 2004-01-05 (national sum of the 16 states).
data(salmNewport)
add("salmNewport", "week", rowSums(observed(salmNewport)), epoch(salmNewport))
# Salmonella Agona, UK, weekly 1990-1995: low counts with zeros. The data set
# is a legacy disProg indexed by week number; ISO week 1 of 1990 starts on
# Monday 1990-01-01.
data(salmonella.agona)
add("salmonella.agona", "week", salmonella.agona$observed,
    seq(as.Date("1990-01-01"), by = "week", length.out = length(salmonella.agona$observed)))
# Rotavirus in Berlin, children 0-4, monthly from 2002-01.
data(rotaBB)
add("rotaBB", "month", observed(rotaBB)[, "00-04"],
    seq(as.Date("2002-01-01"), by = "month", length.out = nrow(rotaBB)))

# Synthetic series: negative binomial counts around a seasonal, trending mean,
# with outbreaks, so that every branch (trend kept or dropped, reweighting,
# Poisson phi = 1, zeros, limit54) is exercised.
nbcounts <- function(mu, size) rnbinom(length(mu), mu = mu, size = size)
tw <- 0:259
mu <- 20 * exp(0.15 * tw / 52) * (1 + 0.35 * sin(2 * pi * tw / 52))
y <- nbcounts(mu, 15)
y[120:124] <- y[120:124] + c(15, 30, 40, 25, 10)  # a past outbreak (reweighted)
y[252:256] <- round(y[252:256] * 2)                # the current one
add("synth.weekly.trend", "week", y, seq(as.Date("2021-01-04"), by = "week", length.out = length(tw)))

tw <- 0:199
y <- rpois(length(tw), 1.2 * (1 + 0.5 * cos(2 * pi * tw / 52)))
y[185:188] <- y[185:188] + c(3, 5, 6, 4)
add("synth.weekly.sparse", "week", y, seq(as.Date("2022-01-03"), by = "week", length.out = length(tw)))

tm <- 0:71
mu <- 80 * exp(0.10 * tm / 12) * (1 + 0.25 * sin(2 * pi * tm / 12))
y <- nbcounts(mu, 40)
y[30] <- y[30] + 60
y[69:72] <- round(y[69:72] * 1.6)
add("synth.monthly.trend", "month", y, seq(as.Date("2020-01-01"), by = "month", length.out = length(tm)))

tm <- 0:47
y <- nbcounts(6 * (1 + 0.3 * sin(2 * pi * tm / 12)), 8)
y[46:48] <- y[46:48] + c(6, 9, 12)
add("synth.monthly.small", "month", y, seq(as.Date("2022-01-01"), by = "month", length.out = length(tm)))

rows <- do.call(rbind, lapply(series, function(s) data.frame(
  series = s$name, period = s$period, t = seq_along(s$counts),
  date = format(s$dates), count = s$counts)))
write.csv(rows, "series.csv", row.names = FALSE, quote = FALSE)

## ---------------------------------------------------------------- NB / Poisson
nb <- expand.grid(mu = c(0.3, 1, 2.5, 7.5, 20, 64.2, 350), phi = c(1, 1.05, 1.8, 4, 12))
out <- list()
for (i in seq_len(nrow(nb))) {
  m <- nb$mu[i]; phi <- nb$phi[i]
  for (p in c(0.5, 0.9, 0.95, 0.99, 0.999)) {
    q <- if (phi > 1) qnbinom(p, m / (phi - 1), 1 / phi) else qpois(p, m)
    out[[length(out) + 1]] <- data.frame(kind = "quantile", mu = m, phi = phi, arg = p, value = q)
  }
  for (yy in unique(round(c(0, 1, m / 2, m, 1.5 * m, 2 * m + 3, 4 * m + 10)))) {
    s <- if (phi > 1) pnbinom(yy - 1, m / (phi - 1), 1 / phi, lower.tail = FALSE) else ppois(yy - 1, m, lower.tail = FALSE)
    cdf <- if (phi > 1) pnbinom(yy, m / (phi - 1), 1 / phi) else ppois(yy, m)
    out[[length(out) + 1]] <- data.frame(kind = "survival", mu = m, phi = phi, arg = yy, value = s)
    out[[length(out) + 1]] <- data.frame(kind = "cdf", mu = m, phi = phi, arg = yy, value = cdf)
  }
}
out <- do.call(rbind, out)
out$value <- fmt(out$value)
write.csv(out, "negbin.csv", row.names = FALSE, quote = FALSE)

## ---------------------------------------------------------------- GLM
s <- series[["salmNewport"]]
n <- 150
d <- data.frame(response = s$counts[1:n], wtime = 1:n,
                seasgroups = factor(((0:(n - 1)) %/% 13) %% 4 + 1))
d$w <- 0.5 + ((1:n) %% 7) / 7
m <- glm(response ~ 1 + wtime + seasgroups, data = d, family = quasipoisson(link = "log"), weights = w)
sm <- summary(m)
g <- list(
  data.frame(name = paste0("coef", seq_along(coef(m))), value = coef(m)),
  data.frame(name = paste0("se", seq_along(coef(m))), value = sm$coefficients[, 2]),
  data.frame(name = paste0("p", seq_along(coef(m))), value = sm$coefficients[, 4]),
  data.frame(name = "dispersion", value = sm$dispersion),
  data.frame(name = "df", value = m$df.residual),
  data.frame(name = paste0("mu", 1:n), value = fitted(m)),
  data.frame(name = paste0("hat", 1:n), value = hatvalues(m)))
g <- do.call(rbind, g)
g$value <- fmt(g$value)
write.csv(g, "glm.csv", row.names = FALSE, quote = FALSE)

## ---------------------------------------------------------------- methods
ref <- list()
emit <- function(name, method, t, observed, expected = NA, upper = NA, pvalue = NA, alarm = NA,
                 phi = NA, trend = NA, stat = NA) {
  ref[[length(ref) + 1]] <<- data.frame(series = name, method = method, t = t, observed = observed,
    expected = fmt(expected), upper = fmt(upper), pvalue = fmt(pvalue), alarm = as.integer(alarm),
    phi = fmt(phi), trend = fmt(trend), stat = fmt(stat))
}
mksts <- function(s) {
  if (s$period == "week") sts(observed = s$counts, epoch = s$dates, epochAsDate = TRUE, frequency = 52)
  else sts(observed = s$counts, start = c(as.integer(format(s$dates[1], "%Y")), as.integer(format(s$dates[1], "%m"))), frequency = 12)
}

# farringtonFlexible with the improved (Noufaily) control; b is what each
# series' history allows; the monthly analogue uses w = 1 and excludes the
# last 6 months (26 weeks).
farr <- list(
  list(name = "salmNewport", b = 5, range = 450:528),
  list(name = "salmonella.agona", b = 4, range = 240:312),
  list(name = "synth.weekly.trend", b = 4, range = 215:260),
  list(name = "synth.weekly.trend", b = 2, range = 215:260, tag = "b2"),
  list(name = "synth.weekly.sparse", b = 2, range = 150:200),
  list(name = "rotaBB", b = 5, range = 70:144),
  list(name = "synth.monthly.trend", b = 4, range = 50:72),
  list(name = "synth.monthly.small", b = 3, range = 38:48))
for (f in farr) {
  s <- series[[f$name]]
  weekly <- s$period == "week"
  ctl <- list(range = f$range, b = f$b, w = if (weekly) 3 else 1, noPeriods = 10,
              reweight = TRUE, weightsThreshold = 2.58, alpha = 0.05, trend = TRUE,
              pThresholdTrend = 1, limit54 = c(5, 4), thresholdMethod = "nbPlugin",
              pastWeeksNotIncluded = if (weekly) 26 else 6, glmWarnings = FALSE)
  r <- farringtonFlexible(mksts(s), control = ctl)
  method <- paste0("farrington.b", f$b)
  for (i in seq_along(f$range)) {
    k <- f$range[i]
    emit(f$name, method, k, s$counts[k], expected = r@control$expected[i], upper = upperbound(r)[i],
         pvalue = r@control$pvalue[i], alarm = alarms(r)[i], phi = r@control$phiVector[i],
         trend = r@control$trendVector[i])
  }
}

# EARS C1/C2 (minSigma 0 and 1) and C3's C2 inputs.
for (nm in c("salmonella.agona", "synth.weekly.sparse", "synth.weekly.trend")) {
  s <- series[[nm]]
  x <- mksts(s)
  rng <- 20:80
  for (meth in c("C1", "C2")) for (ms in c(0, 1)) {
    r <- earsC(x, control = list(range = rng, method = meth, baseline = 7, minSigma = ms, alpha = 0.001))
    for (i in seq_along(rng)) emit(nm, paste0("ears.", meth, ".minSigma", ms), rng[i], s$counts[rng[i]],
                                   upper = upperbound(r)[i], alarm = alarms(r)[i])
  }
  # R's C3 (see the package doc for why plaint's C3 differs): its upper
  # bound and alarms are recorded so that the difference stays documented.
  r <- earsC(x, control = list(range = rng, method = "C3", baseline = 7, minSigma = 1, alpha = 0.025))
  for (i in seq_along(rng)) emit(nm, "ears.C3.R", rng[i], s$counts[rng[i]], upper = upperbound(r)[i], alarm = alarms(r)[i])
}

# glrnb: negative binomial LR CUSUM with known shift theta = log(2) (a
# doubling) and a given in-control mean and dispersion.
for (cfg in list(list(nm = "synth.weekly.trend", from = 200, alpha = 0.05),
                 list(nm = "salmonella.agona", from = 200, alpha = 0.3),
                 list(nm = "synth.weekly.sparse", from = 120, alpha = 0.2))) {
  s <- series[[cfg$nm]]
  rng <- cfg$from:length(s$counts)
  hist <- s$counts[1:(cfg$from - 1)]
  tt <- seq_along(s$counts)
  mu0 <- mean(tail(hist, 104)) * (1 + 0.2 * sin(2 * pi * tt[rng] / 52))
  x <- mksts(s)
  for (ret in c("cases", "value")) {
    r <- glrnb(x, control = list(range = rng, c.ARL = 5, mu0 = mu0, alpha = cfg$alpha, theta = log(2),
                                 dir = "inc", ret = ret))
    for (i in seq_along(rng)) emit(cfg$nm, paste0("glrnb.", ret), rng[i], s$counts[rng[i]],
                                   expected = mu0[i], upper = upperbound(r)[i], alarm = alarms(r)[i],
                                   phi = cfg$alpha)
  }
}

# algo.cusum (Poisson CUSUM, standardised, m = mean of the history).
for (nm in c("salmonella.agona", "synth.weekly.sparse")) {
  s <- series[[nm]]
  rng <- 60:120
  dp <- create.disProg(week = seq_along(s$counts), observed = s$counts, state = rep(0, length(s$counts)), freq = 52)
  r <- algo.cusum(dp, control = list(range = rng, k = 1.04, h = 2.26, trans = "standard"))
  for (i in seq_along(rng)) emit(nm, "cusum", rng[i], s$counts[rng[i]], expected = r$control$m,
                                 upper = r$upperbound[i], alarm = r$alarm[i], stat = r$cusum[i])
}

ref <- do.call(rbind, ref)
write.csv(ref, "reference.csv", row.names = FALSE, quote = FALSE)
cat("wrote series.csv, negbin.csv, glm.csv, reference.csv with", nrow(ref), "reference rows\n")

## ---------------------------------------------------------------- BH
p <- c(0.0001, 0.004, 0.019, 0.0095, 0.5, 0.04, 0.03, 0.03, 0.2, 1, 0.0008, 0.07, 0.6, 0.012, 0.049)
write.csv(data.frame(p = fmt(p), q = fmt(p.adjust(p, "BH"))), "bh.csv", row.names = FALSE, quote = FALSE)
