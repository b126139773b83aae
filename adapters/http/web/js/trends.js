// trends.js turns an answer of GET /v1/trends?format=json into what the
// pages draw: the buckets (with the partial one marked), one series of counts
// per key, and the overview's order.
import * as periods from './periods.js';

// coveredShare reads the share of a partial bucket that has elapsed, as the
// server reports it; undefined when it does not.
function coveredShare(o) {
  for (const k of ['covered', 'covered_share', 'coverage', 'elapsed_share', 'exposure']) {
    if (typeof o[k] === 'number') return o[k];
  }
  return undefined;
}

// model reads a trend answer. now is the wall clock (ms), used only when the
// server does not say itself which bucket is partial.
export function model(res, now = Date.now()) {
  const bucket = res.bucket || 'month';
  const buckets = (res.buckets || []).map((b) => {
    const start = periods.parse(b.bucket);
    let partial;
    let covered;
    if (typeof b.partial === 'boolean') {
      partial = b.partial;
      covered = partial ? coveredShare(b) : 1;
    } else {
      covered = periods.coverage(bucket, start, now);
      partial = covered < 1;
    }
    if (partial && covered === undefined) covered = periods.coverage(bucket, start, now);
    return { label: b.bucket, start, total: b.total, restated: !!b.restated, restatedAt: b.restated_at, partial, covered };
  });
  const index = new Map(buckets.map((b, i) => [b.label, i]));
  const dims = res.by || [];
  const series = new Map();
  for (const row of res.rows || []) {
    const name = dims.map((d) => row.key[d]).join(' · ');
    let s = series.get(name);
    if (!s) {
      s = { name, key: row.key, counts: buckets.map(() => 0), rows: buckets.map(() => null) };
      series.set(name, s);
    }
    const i = index.get(row.bucket);
    if (i === undefined) continue;
    s.counts[i] = row.count;
    s.rows[i] = row;
    if (typeof row.partial === 'boolean' && row.partial && !buckets[i].partial) {
      buckets[i].partial = true;
      buckets[i].covered = coveredShare(row) ?? periods.coverage(bucket, buckets[i].start, now);
    }
  }
  // The headline bucket is the last complete one: a period still running is
  // shown beside it, never compared with it as if it were over.
  let headline = buckets.length - 1;
  while (headline > 0 && buckets[headline].partial) headline--;
  const partial = buckets.findIndex((b) => b.partial);
  return {
    bucket,
    from: res.from,
    to: res.to,
    where: res.where || {},
    asOfSeq: res.as_of_seq,
    alpha: res.alpha,
    dims,
    buckets,
    series: [...series.values()],
    headline,
    partial: partial >= 0 ? partial : null,
  };
}

// group says where a row of the headline bucket goes: 0 a significant rise,
// 1 steady, 2 a significant fall.
export function group(row) {
  if (!row || !row.significant) return 1;
  if (row.change > 0) return 0;
  if (row.change < 0) return 2;
  return 1;
}

// ordered returns the series in the order of `plaint trend`'s table
// (projections.WriteTrendTable): significant rises first, the largest first;
// then the steady keys by count; then significant falls, the largest first;
// ties by name.
export function ordered(m) {
  const h = m.headline;
  const withRow = m.series.map((s) => ({ s, row: s.rows[h] || { count: 0, change: 0, significant: false }, g: group(s.rows[h]) }));
  withRow.sort((a, b) => {
    if (a.g !== b.g) return a.g - b.g;
    let d = 0;
    if (a.g === 0) d = b.row.change - a.row.change;
    else if (a.g === 1) d = b.row.count - a.row.count;
    else d = a.row.change - b.row.change;
    if (d !== 0) return d;
    return a.s.name < b.s.name ? -1 : a.s.name > b.s.name ? 1 : 0;
  });
  return withRow;
}

// MIN_PACE_COVERED is the share of a period that must have passed before
// its pace is drawn: earlier, a handful of complaints would read as a spike
// and none as a drop.
export const MIN_PACE_COVERED = 0.2;

// paced is the count a partial bucket would reach at the pace so far, or
// null while too little of it has passed to say.
export function paced(count, covered) {
  if (!(covered >= MIN_PACE_COVERED)) return null;
  return count / covered;
}
