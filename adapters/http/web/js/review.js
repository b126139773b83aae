// review.js is the lost-customer review (#/review?period=2026-09 or
// 2026-Q3), read from GET /v1/review: who left in the period, what they
// were worth, why, the complaints before they left, and the call-back list.
// Servers without the review say so plainly.
import { url } from './api.js';
import { h, money, num, signed, state, table, when } from './dom.js';
import * as periods from './periods.js';
import { autoTable, cellOf, loadPage } from './tables.js';

export function render(ctx, _arg, params) {
  document.title = 'Lost-customer review · plaint';
  const period = params.get('period') || periods.label('month', periods.add('month', periods.periodStart('month', Date.now()), -1));
  const top = params.get('top') || '10';
  const input = h('input', { id: 'f-period', name: 'period', value: period, pattern: '\\d{4}-(\\d{2}|Q[1-4])', required: true, inputmode: 'text', 'aria-describedby': 'f-period-help' });
  const form = h(
    'form',
    {
      class: 'controls',
      'aria-label': 'Review period',
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate(`#/review?period=${encodeURIComponent(input.value.trim())}&top=${encodeURIComponent(top)}`);
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'f-period' }, 'Period ', h('span', { id: 'f-period-help', class: 'help' }, 'a month (2026-09) or a quarter (2026-Q3)')), input),
    h('button', { type: 'submit', class: 'button' }, 'Show'),
  );
  const body = h('div', { id: 'review' }, state('loading', 'Loading the review…'));
  ctx.main.append(h('h1', { class: 'page-title' }, 'Lost-customer review'), form, body);

  return loadPage(ctx, body, {
    path: 'v1/review',
    params: { period, top, format: 'json' },
    what: 'The review',
    missing: [
      'The lost-customer review is not available on this server yet.',
      'This plaint server does not answer GET /v1/review. A later version adds it: the customers who left in a period, their value, why, the complaints before they left, and whom to call back.',
    ],
    draw: (r) => {
      drawReview(body, r, { period, top });
      // A period nobody left in is the empty state, as the other views say.
      return Array.isArray(r.customers) && r.customers.length ? 'ready' : 'empty';
    },
  });
}

// drawReview shows an answer of GET /v1/review in body; q is the question
// (period, top), for the download links.
export function drawReview(body, r, q) {
  const d = r.defected || {};
  const values = Array.isArray(d.value) ? d.value : [];
  const change = d.change && typeof d.change === 'object' ? d.change : null;
  const summary = h(
    'div',
    { class: 'tiles' },
    h('div', { class: 'tile' }, h('p', { class: 'tile-label' }, `Customers lost, ${r.period || q.period}`), h('p', { class: 'tile-value' }, num(d.count)), change ? h('p', { class: 'tile-sub' }, changeText(change)) : null),
    h('div', { class: 'tile' }, h('p', { class: 'tile-label' }, 'Value lost'), h('p', { class: 'tile-value tile-money' }, values.length ? values.map((v) => money(v.amount, v.currency)).join(' + ') : '–')),
  );
  const callbacks = Array.isArray(r.callbacks) ? r.callbacks : [];
  const customers = Array.isArray(r.customers) ? r.customers : [];
  const parts = [
    h('p', { class: 'muted subtitle' }, `${r.from || ''} to ${r.to || ''} (end exclusive) · `, h('a', { href: url('v1/review', { period: q.period, top: q.top, format: 'csv' }), download: `plaint-review-${q.period}.csv` }, 'Download CSV'), ' · ', h('a', { href: url('v1/review', { period: q.period, top: q.top, format: 'markdown' }), download: `plaint-review-${q.period}.md` }, 'Markdown for the meeting notes')),
    summary,
  ];
  parts.push(
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'cb-h' },
      h('h2', { id: 'cb-h' }, 'Call back'),
      callbacks.length
        ? table(
            'Accounts to call back, by value',
            [
              { label: 'Customer', cls: 'key', cell: (c) => h('code', null, c.customer_id) },
              { label: 'Value', num: true, cell: (c) => money(c.value, c.currency) },
              { label: 'Reason', cell: (c) => c.reason || '–' },
              { label: 'Phone', cls: 'opt', cell: (c) => c.phone_hint || '–' },
            ],
            callbacks,
            { class: 'data', id: 'callbacks' },
          )
        : state('empty', 'Nobody to call back in this period.'),
    ),
  );
  for (const [key, title] of [
    ['by_reason', 'By reason'],
    ['by_segment', 'By segment'],
  ]) {
    if (Array.isArray(r[key]) && r[key].length) parts.push(h('section', { class: 'panel' }, h('h2', null, title), autoTable(title, r[key], ['reason', 'segment', 'count', 'value', 'change'], { class: 'data' })));
  }
  parts.push(
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'lost-h' },
      h('h2', { id: 'lost-h' }, `Customers who left (${customers.length})`),
      customers.length
        ? h(
            'ul',
            { class: 'lost-list' },
            customers.map((c) =>
              h(
                'li',
                null,
                h('p', null, h('code', null, c.customer_id), ` · ${c.segment || '–'} · ${money(c.value, c.currency)} · ${c.reason || 'no reason given'}${c.competitor ? ' · to ' + c.competitor : ''} · left ${when(c.defected_at)}`),
                Array.isArray(c.complaints) && c.complaints.length
                  ? h(
                      'details',
                      null,
                      h('summary', null, `${c.complaints.length} complaint${c.complaints.length === 1 ? '' : 's'} in the 90 days before`),
                      h('ul', null, c.complaints.map((k) => h('li', null, `${when(k.time)} · ${k.category || '–'} · ${k.channel || '–'} · severity ${k.severity ?? '–'} · ${k.resolved ? 'resolved' : 'not resolved'}`))),
                    )
                  : h('p', { class: 'muted' }, 'No complaint in the 90 days before leaving.'),
              ),
            ),
          )
        : state('empty', 'No customer left in this period.'),
    ),
  );
  body.replaceChildren(...parts);
}

// changeText writes the change against the previous period: "+4 on the
// previous period", with the value change when the server gives one.
function changeText(c) {
  const parts = [];
  if (typeof c.count === 'number') parts.push(signed(c.count));
  if (Array.isArray(c.value) && c.value.length) parts.push(c.value.map((v) => (String(v.amount).startsWith('-') ? '' : '+') + money(v.amount, v.currency)).join(' + '));
  return parts.length ? parts.join(', ') + ' on the previous period' : cellOf('change', c);
}
