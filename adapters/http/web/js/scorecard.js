// scorecard.js is the five-metric scorecard by customer group, month by
// month (#/scorecard?from=2026-01&to=2026-10&by=segment), read from
// GET /v1/scorecard: new and lost customers with their value, renewals,
// revenue and profit, referrals. Servers without it say so plainly.
import { url } from './api.js';
import { h, state } from './dom.js';
import * as periods from './periods.js';
import { autoTable, loadPage } from './tables.js';

// The scorecard's CSV columns, in their order.
const COLUMNS = ['period', 'segment', 'new_customers', 'new_value', 'lost_customers', 'lost_value', 'renewals', 'referrals', 'revenue', 'cost', 'profit'];

export function render(ctx, _arg, params) {
  document.title = 'Scorecard · plaint';
  const last = periods.add('month', periods.periodStart('month', Date.now()), -1);
  const from = params.get('from') || periods.label('month', periods.add('month', last, -11));
  const to = params.get('to') || periods.label('month', last);
  const by = params.get('by') || 'segment';
  const fromIn = h('input', { id: 'f-from', name: 'from', value: from, pattern: '\\d{4}-\\d{2}', required: true });
  const toIn = h('input', { id: 'f-to', name: 'to', value: to, pattern: '\\d{4}-\\d{2}', required: true });
  const form = h(
    'form',
    {
      class: 'controls',
      'aria-label': 'Scorecard range',
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate(`#/scorecard?from=${encodeURIComponent(fromIn.value.trim())}&to=${encodeURIComponent(toIn.value.trim())}&by=${encodeURIComponent(by)}`);
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'f-from' }, 'From'), fromIn),
    h('div', { class: 'field' }, h('label', { for: 'f-to' }, 'To'), toIn),
    h('button', { type: 'submit', class: 'button' }, 'Show'),
  );
  const body = h('div', { id: 'scorecard' }, state('loading', 'Loading the scorecard…'));
  ctx.main.append(h('h1', { class: 'page-title' }, 'Scorecard'), form, body);

  return loadPage(ctx, body, {
    path: 'v1/scorecard',
    params: { from, to, by, format: 'json' },
    what: 'The scorecard',
    missing: [
      'The scorecard is not available on this server yet.',
      'This plaint server does not answer GET /v1/scorecard. A later version adds it: new and lost customers with their value, renewals, revenue and profit, and referrals, by customer group, month by month.',
    ],
    draw: (r) => (drawScorecard(body, r, { from, to, by }) ? 'ready' : 'empty'),
  });
}

// drawScorecard shows an answer of GET /v1/scorecard (an array of rows or
// {"rows": [...]}) in body, and reports whether it had rows; q is the
// question (from, to, by), for the download link.
export function drawScorecard(body, r, q) {
  const rows = Array.isArray(r) ? r : Array.isArray(r.rows) ? r.rows : [];
  const csv = h('a', { href: url('v1/scorecard', { ...q, format: 'csv' }), download: `plaint-scorecard-${q.from}-${q.to}.csv` }, 'Download CSV');
  body.replaceChildren(
    h('p', { class: 'muted subtitle' }, `${periods.human('month', q.from)} to ${periods.human('month', q.to)}, by ${q.by}. Money is exact, in each row's currency. `, csv),
    rows.length ? h('section', { class: 'panel' }, autoTable('Scorecard by month and group', rows, COLUMNS, { class: 'data', id: 'scorecard-table' })) : state('empty', 'No customer activity in this range.'),
  );
  return rows.length > 0;
}
