// trend.js is the page of one complaint category (#/trend/billing): its
// monthly or weekly counts, filtered by segment and channel, with the
// detector's expected band and alerts when the server has a detector, a
// running period drawn as unfinished, the figures as a table, and a CSV
// download of exactly what is shown.
import { request, url } from './api.js';
import { AlertsUnavailable, fetchBand } from './alerts.js';
import { forget, trendChart } from './charts.js';
import { errorState, h, num, pct, pvalue, signed, state, table, when } from './dom.js';
import * as periods from './periods.js';
import { MIN_PACE_COVERED, model, paced } from './trends.js';

const SPANS = { month: [12, 24, 36], week: [13, 26, 52] };
const DEFAULT_SPAN = { month: 24, week: 26 };
const DEFAULT_SPAN_OF_SERVER = 12; // buckets the API returns without from

export function render(ctx, category, params) {
  if (!category) {
    ctx.main.append(state('empty', 'Pick a category on the overview.', h('a', { href: '#/' }, 'Go to the overview')));
    ctx.setState('empty');
    return null;
  }
  document.title = `${category} · plaint`;
  const bucket = params.get('bucket') || 'month';
  const spans = SPANS[bucket] || SPANS.month;
  const span = Number(params.get('span')) || DEFAULT_SPAN[bucket] || DEFAULT_SPAN.month;
  const segment = params.get('segment') || '';
  const channel = params.get('channel') || '';
  let stopped = false;

  const go = (changes) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    if (changes.bucket) p.delete('span'); // each width has its own ranges
    const q = p.toString();
    ctx.navigate(`#/trend/${encodeURIComponent(category)}${q ? '?' + q : ''}`);
  };

  const segSelect = h('select', { id: 'f-segment', name: 'segment', onchange: (e) => go({ segment: e.target.value }) }, h('option', { value: '' }, 'All segments'));
  const chanSelect = h('select', { id: 'f-channel', name: 'channel', onchange: (e) => go({ channel: e.target.value }) }, h('option', { value: '' }, 'All channels'));
  for (const [sel, v] of [
    [segSelect, segment],
    [chanSelect, channel],
  ]) {
    if (v) sel.append(h('option', { value: v, selected: true }, v));
  }
  const radio = (value, text) =>
    h('label', { class: 'seg-btn' }, h('input', { type: 'radio', name: 'bucket', value, checked: bucket === value, onchange: () => go({ bucket: value }) }), h('span', null, text));
  const controls = h(
    'form',
    { class: 'controls', 'aria-label': 'What the chart shows', onsubmit: (e) => e.preventDefault() },
    h('fieldset', { class: 'seg' }, h('legend', null, 'Counts per'), radio('month', 'Month'), radio('week', 'Week')),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'f-span' }, 'Range'),
      h(
        'select',
        { id: 'f-span', name: 'span', onchange: (e) => go({ span: e.target.value }) },
        (spans.includes(span) ? spans : [...spans, span].sort((a, b) => a - b)).map((n) => h('option', { value: n, selected: n === span }, `last ${n} ${bucket === 'week' ? 'weeks' : 'months'}`)),
      ),
    ),
    h('div', { class: 'field' }, h('label', { for: 'f-segment' }, 'Segment'), segSelect),
    h('div', { class: 'field' }, h('label', { for: 'f-channel' }, 'Channel'), chanSelect),
  );
  const subtitle = h('p', { class: 'muted subtitle', id: 'trend-subtitle' });
  const body = h('div', { class: 'trend-body', id: 'trend' }, state('loading', 'Loading the trend…'));
  ctx.main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Overview'), ' › ', h('span', { 'aria-current': 'page' }, category)),
    h('h1', { class: 'page-title' }, category, h('span', { class: 'muted title-sub' }, ' complaints')),
    subtitle,
    controls,
    body,
  );

  const where = [`category=${category}`];
  if (segment) where.push(`segment=${segment}`);
  if (channel) where.push(`channel=${channel}`);

  const load = async () => {
    body.replaceChildren(state('loading', 'Loading the trend…'));
    ctx.setState('loading');
    try {
      const base = { by: 'category', bucket, where, format: 'json' };
      let res = await request('v1/trends', base);
      if (span !== DEFAULT_SPAN_OF_SERVER && res.to) {
        res = await request('v1/trends', { ...base, from: periods.step(res.bucket, res.to, -(span - 1)), to: res.to });
      }
      const band = await detectorBand(category, res, { segment, channel });
      if (stopped) return;
      draw(ctx, body, subtitle, category, res, band, { segment, channel });
      fillOptions(category, res, segSelect, chanSelect, segment, channel);
    } catch (err) {
      if (stopped) return;
      forget('trend:');
      body.replaceChildren(errorState(err, load, 'The trend'));
      ctx.setState('error');
    }
  };
  load();
  return () => {
    stopped = true;
    forget('trend:');
  };
}

// fillOptions lists the segments and channels that have complaints of the
// category in the range shown.
async function fillOptions(category, res, segSelect, chanSelect, segment, channel) {
  for (const [dim, sel, current] of [
    ['segment', segSelect, segment],
    ['channel', chanSelect, channel],
  ]) {
    try {
      const r = await request('v1/trends', { by: dim, bucket: res.bucket, from: res.from, to: res.to, where: `category=${category}`, format: 'json' });
      const values = [...new Set(r.rows.map((row) => row.key[dim]))].sort();
      for (const v of values) if (v !== current) sel.append(h('option', { value: v }, v));
      if (current) {
        const opts = [...sel.options].slice(1).sort((a, b) => a.value.localeCompare(b.value));
        sel.replaceChildren(sel.options[0], ...opts);
        sel.value = current;
      }
    } catch {
      // The chart is there; the filter lists only what is selected.
    }
  }
}

// detectorBand asks the detector's band of the series shown (GET
// /v1/alerts/band) over the range shown. The detector judges a category,
// or a category and one segment or channel: with both filters there is no
// band (null); a server without a detector answers AlertsUnavailable.
async function detectorBand(category, res, filters) {
  if (filters.segment && filters.channel) return null;
  if (res.bucket !== 'month' && res.bucket !== 'week') return null;
  const q = { category, period: res.bucket, from: res.from, to: res.to };
  if (filters.segment) q.segment = filters.segment;
  if (filters.channel) q.channel = filters.channel;
  const band = await fetchBand(q).catch(() => AlertsUnavailable);
  if (band && typeof band === 'object') band.query = q; // for its CSV link
  return band;
}

// detectorSeries lines the band up with the buckets shown: the expected
// count and upper bound of each complete period (the running one is left
// out: its band is for the share elapsed, which the chart does not draw
// as a count), and a marker at each period where an alert was raised or
// updated, drawn on the period's count.
function detectorSeries(m, band) {
  if (band === AlertsUnavailable) return { available: false, why: 'unavailable', series: null, points: 0, count: 0 };
  if (band === null) return { available: false, why: 'series', series: null, points: 0, count: 0 };
  const index = new Map(m.buckets.map((b, i) => [b.start, i]));
  const at = (day) => index.get(periods.periodStart(m.bucket, Date.parse(day + 'T00:00:00Z')));
  const out = { expected: m.buckets.map(() => null), upper: m.buckets.map(() => null), alerts: m.buckets.map(() => null) };
  let points = 0;
  let count = 0;
  let running = null;
  for (const p of band.points || []) {
    const i = at(p.period_start);
    if (i === undefined || p.expected == null || p.upper == null) continue;
    if (p.partial || m.buckets[i].partial) {
      running = p;
      continue;
    }
    out.expected[i] = Math.round(p.expected * 10) / 10;
    out.upper[i] = Math.round(p.upper * 10) / 10;
    points++;
  }
  for (const a of band.alerts || []) {
    const i = at(a.period_start);
    if (i === undefined) continue;
    if (out.alerts[i] === null) count++;
    // On the count of a complete period (an alert raised while it ran saw
    // less); on the count it was raised at in the running one.
    const c = m.series[0]?.counts[i];
    out.alerts[i] = !m.buckets[i].partial && c != null ? c : (a.observed ?? null);
  }
  return { available: true, series: points || count ? out : null, points, count, running };
}

function draw(ctx, body, subtitle, category, res, band, filters) {
  forget('trend:');
  const m = model(res);
  const unit = m.bucket === 'week' ? 'week' : 'month';
  const filterText = [filters.segment && `segment ${filters.segment}`, filters.channel && `channel ${filters.channel}`].filter(Boolean).join(', ');
  subtitle.textContent = `Complaints per ${unit}, ${periods.human(m.bucket, m.from)} to ${periods.human(m.bucket, m.to)}${filterText ? ' · ' + filterText : ''} · log position ${num(m.asOfSeq)}`;
  const csvName = ['plaint', category, filters.segment, filters.channel, m.bucket, m.from, m.to].filter(Boolean).join('-') + '.csv';
  const csvHref = url('v1/trends', { by: 'category', bucket: m.bucket, where: res.where ? whereOf(res.where) : [`category=${category}`], from: m.from, to: m.to, as_of: m.asOfSeq || undefined, format: 'csv' });
  const download = h('a', { class: 'button', id: 'csv-download', href: csvHref, download: csvName }, 'Download CSV');

  const s = m.series[0];
  if (!s) {
    body.replaceChildren(
      state(
        'empty',
        `No ${category} complaints${filterText ? ' for ' + filterText : ''} from ${periods.human(m.bucket, m.from)} to ${periods.human(m.bucket, m.to)}.`,
        h('span', null, filterText ? 'Try other filters, or ' : '', h('a', { href: '#/' }, filterText ? 'go back to the overview' : 'Go back to the overview'), '.'),
      ),
    );
    ctx.setState('empty');
    return;
  }

  const det = detectorSeries(m, band);
  const chartEl = h('div', { class: 'chart', id: 'trend-chart', role: 'img', dataset: { points: String(m.buckets.length), bandPoints: String(det.points), alertMarkers: String(det.count) } });
  const notes = [];
  if (m.partial !== null) {
    const b = m.buckets[m.partial];
    const p = paced(s.counts[m.partial], b.covered);
    notes.push(
      h(
        'p',
        { class: 'note partial-note', id: 'partial-note' },
        h('span', { class: 'swatch swatch-partial', 'aria-hidden': 'true' }),
        `${capital(periods.human(m.bucket, b.label))} is still running (${Math.round(b.covered * 100)}% of the ${unit} has passed): ${num(s.counts[m.partial])} complaints so far. `,
        p !== null
          ? `Its dashed point is the pace so far (about ${num(Math.round(p))} for the ${unit}), not a count, and it is not compared with complete ${unit}s.`
          : `It is shaded and not drawn as a point until ${Math.round(MIN_PACE_COVERED * 100)}% of it has passed: so early, its count says little about the whole ${unit}.`,
      ),
    );
  }
  if (!det.available && det.why === 'series') notes.push(h('p', { class: 'note muted', id: 'detector-note' }, 'Expected band and alerts: not shown, as the detector judges a category with one segment or one channel, not both.'));
  else if (!det.available) notes.push(h('p', { class: 'note muted', id: 'detector-note' }, 'Expected band and alerts: not shown, as alerts are not available on this server.'));
  else if (!det.series) notes.push(h('p', { class: 'note muted', id: 'detector-note' }, `No expected band yet (the detector needs more history of this series) and no alerts in this range.`));
  else
    notes.push(
      h(
        'p',
        { class: 'note', id: 'detector-note' },
        `The detector's expected count and upper bound (shaded) for ${num(det.points)} complete ${unit}s; ${det.count ? `${det.count} ${det.count === 1 ? 'alert' : 'alerts'} raised in this range (red points).` : 'no alerts raised in this range.'}`,
        det.running ? ` So far this ${unit} it expected about ${num(Math.round(det.running.expected))} (bound ${num(Math.round(det.running.upper))}) for the share elapsed.` : '',
      ),
    );

  const bandDownload = det.available && band.query
    ? h('span', null, ' · ', h('a', { id: 'band-csv', href: url('v1/alerts/band', { ...band.query, format: 'csv' }), download: csvName.replace(/\.csv$/, '-band.csv') }, "the detector's band as CSV"))
    : null;
  const rows = m.buckets.map((b, i) => ({ b, i, row: s.rows[i] }));
  const fig = table(
    `${category} complaints per ${unit}`,
    [
      {
        label: unit === 'week' ? 'Week starting' : 'Month',
        cls: 'key',
        cell: (r) => [m.bucket === 'week' ? periods.human('day', periods.label('day', r.b.start)) : periods.human(m.bucket, r.b.label), r.b.partial ? h('span', { class: 'badge badge-partial' }, `in progress, ${Math.round(r.b.covered * 100)}%`) : null],
      },
      { label: 'Complaints', num: true, cell: (r) => num(s.counts[r.i]) },
      {
        label: 'Change',
        num: true,
        cell: (r) => (r.row && !r.b.partial ? [signed(r.row.change), h('span', { class: 'chg-pct' }, ` (${pct(r.row.pct_change)})`)] : '–'),
      },
      { label: 'p', num: true, cls: 'opt', cell: (r) => (r.row && !r.b.partial ? pvalue(r.row.p_value) : '–') },
      { label: 'A year before', num: true, cls: 'opt', cell: (r) => (r.row ? num(r.row.yoy_count) : '–') },
      { label: 'Restated', cls: 'opt', cell: (r) => (r.row && r.row.restated ? `yes, ${num(r.row.late_count)} late (${when(r.row.restated_at)})` : '') },
    ],
    rows.slice().reverse(),
    { class: 'data', id: 'trend-table' },
  );
  body.replaceChildren(
    h('div', { class: 'panel chart-panel' }, chartEl, ...notes, h('p', { class: 'actions' }, download, h('span', { class: 'muted' }, ' the figures shown, as the API gives them'), bandDownload)),
    h('section', { class: 'panel', 'aria-labelledby': 'fig-h' }, h('h2', { id: 'fig-h' }, 'The figures'), fig),
  );
  chartEl.setAttribute('aria-label', `Line chart of ${category} complaints per ${unit}, ${periods.human(m.bucket, m.from)} to ${periods.human(m.bucket, m.to)}; the table below lists every value.`);
  trendChart('trend:main', chartEl, m, s.counts, null, det.series);
  ctx.setState('ready');
}

function capital(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// whereOf turns the answer's where object back into query parameters.
function whereOf(w) {
  const order = ['category', 'segment', 'channel', 'root_cause', 'product', 'region', 'severity'];
  return order.filter((d) => w[d]).map((d) => `${d}=${w[d].join(',')}`);
}
