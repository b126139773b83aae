// overview.js is the front page: the open rising-issue alerts, kept live
// over Server-Sent Events, and below them the month-over-month table of
// complaint categories with a sparkline each, the largest significant rises
// first.
import { request, url } from './api.js';
import { AlertBoard, AlertsUnavailable, fetchAlerts, seriesName } from './alerts.js';
import { forget, sparkline } from './charts.js';
import { errorState, h, num, pct, pvalue, share, signed, state, table, when } from './dom.js';
import * as periods from './periods.js';
import { model, ordered, paced } from './trends.js';

const REFRESH_MS = 60000;

export function render(ctx) {
  document.title = 'Overview · plaint';
  const alertsBody = h('div', { class: 'alerts-body', id: 'alerts', 'aria-live': 'polite', dataset: { state: 'loading' } }, state('loading', 'Loading alerts…'));
  const live = h('span', { class: 'live', id: 'alerts-live', hidden: true });
  const trendsBody = h('div', { class: 'trends-body', id: 'categories' }, state('loading', 'Loading the month-over-month table…'));
  ctx.main.append(
    h('h1', { class: 'page-title' }, 'Overview'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'alerts-h' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'alerts-h' }, 'Open rising-issue alerts'), live),
      alertsBody,
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'cats-h' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'cats-h' }, 'Complaints by category, month over month')),
      trendsBody,
    ),
  );

  let stopped = false;
  const board = new AlertBoard(
    (b) => drawAlerts(alertsBody, b),
    (s) => {
      live.hidden = false;
      live.dataset.state = s;
      live.textContent = s === 'open' ? 'live' : s === 'reconnecting' ? 'reconnecting…' : 'not live';
    },
  );
  loadAlerts(alertsBody, board, () => stopped);

  let timer = null;
  const loadTrends = async (first) => {
    try {
      const res = await request('v1/trends', { by: 'category', bucket: 'month', format: 'json' });
      if (stopped) return;
      drawTrends(trendsBody, res);
      ctx.setState(res.rows.length ? 'ready' : 'empty');
    } catch (err) {
      if (stopped) return;
      if (first || !trendsBody.querySelector('table')) {
        forget('overview:');
        trendsBody.replaceChildren(errorState(err, () => loadTrends(true), 'The category table'));
        ctx.setState('error');
      }
    }
  };
  loadTrends(true);
  const tick = () => {
    if (document.visibilityState === 'visible') loadTrends(false);
  };
  timer = setInterval(tick, REFRESH_MS);

  return () => {
    stopped = true;
    clearInterval(timer);
    board.close();
    forget('overview:');
  };
}

async function loadAlerts(body, board, stopped) {
  let alerts;
  try {
    alerts = await fetchAlerts();
  } catch (err) {
    if (stopped()) return;
    body.dataset.state = 'error';
    body.replaceChildren(errorState(err, () => loadAlerts(body, board, stopped), 'The alerts'));
    return;
  }
  if (stopped()) return;
  if (alerts === AlertsUnavailable) {
    body.dataset.state = 'unavailable';
    body.replaceChildren(
      state('empty', 'Alerts are not available on this server.', 'This plaint server has no rising-issue detector yet; the trends below are complete without it.'),
    );
    return;
  }
  board.load(alerts);
  board.follow();
}

// drawAlerts shows the board's open alerts as cards, and those cleared lately.
export function drawAlerts(body, board) {
  const open = board.open();
  const cleared = board.cleared();
  body.dataset.state = open.length ? 'ready' : 'empty';
  const parts = [];
  if (open.length === 0) parts.push(state('empty', 'No open alerts.', 'No complaint category is rising above what its own history leads the detector to expect.'));
  else parts.push(h('ul', { class: 'alert-list', 'aria-label': `${open.length} open alerts` }, open.map(alertCard)));
  if (cleared.length) {
    parts.push(
      h(
        'details',
        { class: 'cleared' },
        h('summary', null, `Recently cleared (${cleared.length})`),
        h('ul', { class: 'cleared-list' }, cleared.map((a) => h('li', null, h('a', { href: trendHref(a) }, seriesName(a.series)), ` · ${a.period || ''} of ${a.period_start || '?'} · cleared ${when(a.time)}`))),
      ),
    );
  }
  body.replaceChildren(...parts);
}

function trendHref(a) {
  const s = a.series || {};
  const p = new URLSearchParams();
  if (a.period === 'week') p.set('bucket', 'week');
  if (s.segment) p.set('segment', s.segment);
  if (s.channel) p.set('channel', s.channel);
  const q = p.toString();
  return `#/trend/${encodeURIComponent(s.category || '')}${q ? '?' + q : ''}`;
}

function fixed(v, d = 1) {
  return typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: d }) : '–';
}

function alertCard(a) {
  const periodLabel = a.period_start ? periods.human(a.period || 'month', a.period === 'week' ? periods.label('week', Date.parse(a.period_start + 'T00:00:00Z')) : a.period_start.slice(0, 7)) : '?';
  const facts = [
    ['Severity', typeof a.level === 'number' ? `${a.level} of 10 (${fixed(a.severity, 1)} sd above)` : fixed(a.severity, 2)],
    ['Longevity', typeof a.longevity === 'number' ? `${a.longevity} ${a.period === 'week' ? 'week' : 'month'}${a.longevity === 1 ? '' : 's'} in a row` : '–'],
    ['Rule', a.rule || '–'],
    ['p / q', `${pvalue(a.p_value)} / ${pvalue(a.q_value)}`],
    ['Customers affected', num(a.customers_affected)],
    [a.type === 'alert.updated' ? 'Updated' : a.state === 'cleared' ? 'Cleared' : 'Raised', when(a.time)],
  ];
  const samples = Array.isArray(a.sample_complaint_ids) ? a.sample_complaint_ids : [];
  return h(
    'li',
    { class: 'alert-card' + (a.fresh ? ' fresh' : ''), dataset: { alertKey: a.key, alertId: a.id } },
    h('h3', null, h('a', { href: trendHref(a) }, seriesName(a.series) || 'unnamed series'), h('span', { class: 'badge' }, a.type === 'alert.updated' ? 'updated' : 'raised')),
    h(
      'p',
      { class: 'alert-figures' },
      h('strong', null, fixed(a.observed, 0)),
      ` complaints in ${periodLabel}${a.partial ? ` so far (${Math.round((a.exposure || 0) * 100)}% of it has passed)` : ''}, against ${fixed(a.expected)} expected (upper bound ${fixed(a.upper)})`,
    ),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v)))),
    samples.length
      ? h('details', { class: 'samples' }, h('summary', null, `Sample complaints (${samples.length})`), h('ul', null, samples.map((id) => h('li', null, h('code', null, id)))))
      : null,
  );
}

function drawTrends(body, res) {
  forget('overview:');
  const m = model(res);
  if (m.series.length === 0) {
    body.replaceChildren(
      state(
        'empty',
        'No complaints yet.',
        h(
          'span',
          null,
          `Nothing was filed from ${periods.human('month', m.from)} to ${periods.human('month', m.to)}. When call-center or CRM software publishes complaint.filed events to NATS (try `,
          h('code', null, 'plaint emit --synthetic'),
          '), they appear here.',
        ),
      ),
    );
    return;
  }
  const hb = m.buckets[m.headline];
  const prevLabel = m.headline > 0 ? m.buckets[m.headline - 1].label : periods.step('month', hb.label, -1);
  const pb = m.partial !== null ? m.buckets[m.partial] : null;
  const rows = ordered(m);
  const rises = rows.filter((r) => r.g === 0).length;
  const falls = rows.filter((r) => r.g === 2).length;
  const total = hb.total;
  const prevTotal = m.headline > 0 ? m.buckets[m.headline - 1].total : null;

  const tiles = h(
    'div',
    { class: 'tiles' },
    tile(`Complaints in ${periods.human('month', hb.label)}`, num(total), prevTotal !== null ? `${signed(total - prevTotal)} on ${periods.human('month', prevLabel)}` : ''),
    tile('Significant rises', num(rises), rises ? 'categories up, month over month' : 'none this month', rises ? 'tile-up' : ''),
    tile('Significant falls', num(falls), falls ? 'categories down' : 'none this month', falls ? 'tile-down' : ''),
    pb ? tile(`${periods.human('month', pb.label)} so far`, num(pb.total), `${Math.round(pb.covered * 100)}% of the month has passed`, 'tile-partial') : null,
  );

  const sparkCells = [];
  const columns = [
    {
      label: 'Category',
      cls: 'key',
      cell: (r) => h('a', { href: `#/trend/${encodeURIComponent(r.s.key.category)}`, class: 'cat-link' }, r.s.key.category),
    },
    {
      label: ['Trend', h('span', { class: 'opt' }, `, ${periods.short('month', m.buckets[0].start)}–${periods.short('month', m.buckets[m.buckets.length - 1].start)}`)],
      cls: 'spark',
      cell: (r) => {
        const el = h('div', { class: 'sparkline', role: 'img', 'aria-label': `${r.s.key.category}: ${r.s.counts.join(', ')} complaints per month` });
        sparkCells.push([el, r]);
        return el;
      },
    },
    { label: periods.human('month', hb.label), num: true, cell: (r) => num(r.row.count) },
    { label: 'Change', num: true, cell: (r) => h('span', { class: changeClass(r) }, arrow(r), signed(r.row.change), h('span', { class: 'chg-pct' }, ` (${pct(r.row.pct_change)})`)) },
    { label: periods.human('month', prevLabel), num: true, cls: 'opt', cell: (r) => num(r.row.prev_count) },
    { label: 'A year before', num: true, cls: 'opt', cell: (r) => num(r.row.yoy_count) },
    { label: 'Share', num: true, cls: 'opt', cell: (r) => share(r.row.share) },
    { label: 'Per 1,000 customers', num: true, cls: 'opt', cell: (r) => (r.row.rate_per_1000 == null ? '–' : r.row.rate_per_1000.toFixed(2)) },
    { label: 'p', num: true, cls: 'opt', cell: (r) => pvalue(r.row.p_value) },
  ];
  if (pb) columns.push({ label: `${periods.human('month', pb.label)} so far`, num: true, cls: 'partial-col opt', cell: (r) => num(r.s.counts[m.partial]) });

  const note = h(
    'p',
    { class: 'muted note' },
    `${periods.human('month', hb.label)} against ${periods.human('month', prevLabel)}. ▲ and ▼ mark changes significant at p < ${m.alpha || 0.05} (exact test of two Poisson counts). `,
    pb
      ? `${periods.human('month', pb.label)} is still running: its count so far is shown apart, and its column in the sparklines is shaded${paced(1, pb.covered) !== null ? ', with the pace so far dashed' : ''}. `
      : '',
    `Log position ${num(m.asOfSeq)}. `,
    h('a', { href: url('v1/trends', { by: 'category', bucket: 'month', from: m.from, to: m.to, as_of: m.asOfSeq || undefined, format: 'csv' }), download: `plaint-categories-${m.from}-${m.to}.csv` }, 'Download CSV'),
  );
  body.replaceChildren(tiles, table('Complaint categories, month over month', columns, rows, { class: 'data cats', id: 'category-table' }), note);
  for (const [el, r] of sparkCells) sparkline(`overview:spark:${r.s.key.category}`, el, m, r.s.counts, r.s.key.category);
}

function tile(label, value, sub, cls = '') {
  return h('div', { class: 'tile ' + cls }, h('p', { class: 'tile-label' }, label), h('p', { class: 'tile-value' }, value), sub ? h('p', { class: 'tile-sub' }, sub) : null);
}

function changeClass(r) {
  return r.g === 0 ? 'chg chg-up' : r.g === 2 ? 'chg chg-down' : 'chg';
}

function arrow(r) {
  if (r.g === 0) return h('span', { class: 'arrow', title: 'significant rise' }, '▲', h('span', { class: 'sr-only' }, 'significant rise: '));
  if (r.g === 2) return h('span', { class: 'arrow', title: 'significant fall' }, '▼', h('span', { class: 'sr-only' }, 'significant fall: '));
  return null;
}
