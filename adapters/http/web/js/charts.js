// charts.js draws the dashboard's charts with uPlot (vendor/uplot): the
// overview's sparklines and the trend page's chart. Every chart is kept in
// `charts` by name, so that a test (or a curious person in the console,
// window.plaintDashboard.charts) can read exactly what was drawn.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import * as periods from './periods.js';
import { paced } from './trends.js';

export const charts = new Map();

export const colors = {
  count: '#1d4ed8',
  partial: '#1d4ed8',
  expected: '#4b5563',
  upper: '#b45309',
  band: 'rgba(180, 83, 9, 0.13)',
  alert: '#b91c1c',
  grid: 'rgba(0, 0, 0, 0.08)',
  axis: '#374151',
};

// keep registers a chart under name, destroying the one it replaces.
function keep(name, u) {
  const old = charts.get(name);
  if (old && old !== u) old.destroy();
  charts.set(name, u);
  return u;
}

// forget destroys the charts whose names start with prefix (when a page is
// left).
export function forget(prefix) {
  for (const [name, u] of charts) {
    if (name.startsWith(prefix)) {
      u.destroy();
      charts.delete(name);
    }
  }
}

// splitSeries returns the counts of complete buckets (null at the partial
// one) and the dashed continuation to the partial bucket at the pace so far;
// paceAt is the partial bucket's index, null when no pace is drawn.
function splitSeries(m, counts) {
  const full = counts.slice();
  const pace = counts.map(() => null);
  let paceAt = null;
  if (m.partial !== null) {
    const i = m.partial;
    full[i] = null;
    const p = paced(counts[i], m.buckets[i].covered);
    if (p !== null) {
      pace[i] = Math.round(p * 10) / 10;
      paceAt = i;
      if (i > 0 && full[i - 1] !== null) pace[i - 1] = full[i - 1];
    }
  }
  return { full, pace, paceAt };
}

// hatch fills the partial bucket's column with diagonal lines, through
// uPlot's draw hook, so the running period reads as unfinished.
function hatchPartial(index) {
  return (u) => {
    if (index === null) return;
    const xs = u.data[0];
    const ctx = u.ctx;
    const left = u.bbox.left;
    const top = u.bbox.top;
    const h = u.bbox.height;
    const step = xs.length > 1 ? u.valToPos(xs[1], 'x', true) - u.valToPos(xs[0], 'x', true) : u.bbox.width;
    const cx = u.valToPos(xs[index], 'x', true);
    const x0 = Math.max(left, cx - step / 2);
    const x1 = Math.min(left + u.bbox.width, cx + step / 2);
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, top, x1 - x0, h);
    ctx.clip();
    ctx.strokeStyle = 'rgba(29, 78, 216, 0.14)';
    ctx.lineWidth = 1 * devicePixelRatio;
    const gap = 8 * devicePixelRatio;
    for (let x = x0 - h; x < x1; x += gap) {
      ctx.beginPath();
      ctx.moveTo(x, top + h);
      ctx.lineTo(x + h, top);
      ctx.stroke();
    }
    ctx.restore();
  };
}

// sparkline draws one series of a trend model small, in el.
export function sparkline(name, el, m, counts, label) {
  const xs = m.buckets.map((_, i) => i);
  const { full, pace, paceAt } = splitSeries(m, counts);
  const series = [{}, { label, stroke: colors.count, width: 1.5, fill: 'rgba(29, 78, 216, 0.08)', points: { show: false } }];
  const data = [xs, full];
  if (paceAt !== null) {
    series.push({ label: label + ' (in progress)', stroke: colors.partial, width: 1.5, dash: [3, 3], points: { show: true, size: 5, fill: '#fff', width: 1.5, filter: () => [paceAt] } });
    data.push(pace);
  }
  const u = new uPlot(
    {
      width: matchMedia('(max-width: 720px)').matches ? 80 : 128,
      height: 34,
      pxAlign: false,
      cursor: { show: false },
      select: { show: false },
      legend: { show: false },
      scales: { x: { time: false, range: () => [-0.5, xs.length - 0.5] }, y: { range: (u, lo, hi) => [0, Math.max(1, hi) * 1.1] } },
      axes: [{ show: false }, { show: false }],
      series,
      hooks: { draw: [hatchPartial(m.partial)] },
    },
    data,
    el,
  );
  return keep(name, u);
}

// trendChart draws counts per bucket with, when given, the detector's
// expected value and upper bound (a shaded band) and its alerts (red points).
// detector is null when the server has no detector; else
// {expected: [], upper: [], alerts: []} aligned with the buckets (nulls where
// it has nothing).
export function trendChart(name, el, m, counts, title, detector) {
  const xs = m.buckets.map((b) => b.start / 1000);
  const { full, pace, paceAt } = splitSeries(m, counts);
  const bucket = m.bucket;
  const xLabel = (v) => periods.human(bucket, periods.label(bucket, v * 1000));
  const num = (u, v) => (v == null ? '–' : Number.isInteger(v) ? v.toLocaleString('en') : v.toLocaleString('en', { maximumFractionDigits: 1 }));
  const series = [
    { label: bucket === 'week' ? 'Week' : 'Month', value: (u, v) => (v == null ? '–' : xLabel(v)) },
    { label: 'Complaints', stroke: colors.count, width: 2, fill: 'rgba(29, 78, 216, 0.06)', value: num, points: { show: true, size: 6, fill: colors.count } },
  ];
  const data = [xs, full];
  if (paceAt !== null) {
    series.push({ label: 'In progress, at the pace so far', stroke: colors.partial, width: 2, dash: [6, 5], value: num, points: { show: true, size: 9, fill: '#fff', width: 2, filter: () => [paceAt] } });
    data.push(pace);
  }
  const bands = [];
  if (detector) {
    const e = series.length;
    series.push(
      { label: 'Expected', stroke: colors.expected, width: 1.5, dash: [2, 4], value: num, points: { show: true, size: 5, fill: colors.expected } },
      { label: 'Upper bound', stroke: colors.upper, width: 1.5, dash: [8, 4], value: num, points: { show: true, size: 5, fill: colors.upper } },
      { label: 'Alert', stroke: colors.alert, width: 0, paths: () => null, value: num, points: { show: true, size: 13, fill: colors.alert, stroke: '#7f1d1d', width: 2 } },
    );
    data.push(detector.expected, detector.upper, detector.alerts);
    bands.push({ series: [e + 1, e], fill: colors.band });
  }
  const width = Math.max(280, el.clientWidth || 600);
  const height = width < 520 ? 260 : 340;
  // Ticks at bucket starts, as many as fit.
  const splits = (u) => {
    const room = Math.max(2, Math.floor(u.bbox.width / devicePixelRatio / 64));
    const every = Math.max(1, Math.ceil(xs.length / room));
    return xs.filter((_, i) => (xs.length - 1 - i) % every === 0);
  };
  const u = new uPlot(
    {
      title,
      width,
      height,
      series,
      bands,
      scales: { x: { time: false, range: (u, lo, hi) => [lo - (hi - lo) / Math.max(1, 2 * (xs.length - 1)), hi + (hi - lo) / Math.max(1, 2 * (xs.length - 1))] }, y: { range: (u, lo, hi) => [0, Math.max(4, hi * 1.12)] } },
      axes: [
        { stroke: colors.axis, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid }, splits, values: (u, vals) => vals.map((v) => periods.short(bucket, v * 1000)) },
        { stroke: colors.axis, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid }, size: 52, values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? v.toLocaleString('en') : '')) },
      ],
      cursor: { points: { size: 8 } },
      legend: { live: true },
      hooks: { draw: [hatchPartial(m.partial)] },
    },
    data,
    el,
  );
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height: w < 520 ? 260 : 340 });
    });
    ro.observe(el);
    const destroy = u.destroy.bind(u);
    u.destroy = () => {
      ro.disconnect();
      destroy();
    };
  }
  return keep(name, u);
}
