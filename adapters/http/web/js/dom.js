// dom.js builds the pages' elements and their loading, empty and error
// states. Text is always set as text, never parsed as HTML.

// h makes an element: h('a', {href: '#/', class: 'x'}, 'text', child...).
// Attributes starting with "on" are listeners; false/null/undefined
// attributes and children are left out.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// state shows a page-wide state in el: kind is loading, empty or error.
export function state(kind, title, detail, action) {
  return h(
    'div',
    { class: `state state-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { state: kind } },
    kind === 'loading' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    h('p', { class: 'state-title' }, title),
    detail ? h('p', { class: 'state-detail' }, detail) : null,
    action || null,
  );
}

// errorState shows an ApiError with its code and a retry button.
export function errorState(err, retry, what = 'This page') {
  const detail = [err.message];
  if (err.code && err.status) detail.push(h('span', { class: 'muted' }, ` (${err.code}, HTTP ${err.status})`));
  return state(
    'error',
    err.status === 0 ? 'The server cannot be reached' : `${what} could not be loaded`,
    detail,
    retry ? h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again') : null,
  );
}

const intFmt = new Intl.NumberFormat('en');

// num writes a count: 12,345.
export function num(v) {
  return v === null || v === undefined ? '–' : intFmt.format(v);
}

// signed writes a change: +12, −3, 0.
export function signed(v) {
  if (v === null || v === undefined) return '–';
  if (v > 0) return '+' + intFmt.format(v);
  if (v < 0) return '−' + intFmt.format(-v);
  return '0';
}

// pct writes a percentage change, or – when it is undefined (from zero).
export function pct(v) {
  if (v === null || v === undefined) return '–';
  const s = Math.abs(v).toFixed(1) + '%';
  return v > 0 ? '+' + s : v < 0 ? '−' + s : s;
}

// share writes a share of 1 as a percentage.
export function share(v) {
  return v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '%';
}

// pvalue writes a p-value as the CLI does: <0.001 or three decimals.
export function pvalue(v) {
  if (v === null || v === undefined) return '–';
  if (v < 0.001) return '<0.001';
  return v.toFixed(3);
}

// money writes a decimal amount in its currency: "61,234.00 USD". Amounts
// arrive as decimal strings and are never turned into floats.
export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return '–';
  const s = String(amount);
  const neg = s.startsWith('-');
  const [int, frac] = (neg ? s.slice(1) : s).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '−' : '') + grouped + (frac !== undefined ? '.' + frac : '') + (currency ? ' ' + currency : '');
}

// when writes a time for people, in UTC: "3 Oct 2026, 14:22 UTC".
export function when(t) {
  if (!t) return '–';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }) + ' UTC';
}

// table makes an accessible table in a horizontally scrolling wrapper.
// columns: [{label, cls, cell(row) -> node|string, num}].
export function table(caption, columns, rows, attrs = {}) {
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      attrs,
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: [c.cls, c.num ? 'num' : ''].filter(Boolean).join(' ') || null }, c.label)))),
      h(
        'tbody',
        null,
        rows.map((r) => h('tr', null, columns.map((c) => h('td', { class: [c.cls, c.num ? 'num' : ''].filter(Boolean).join(' ') || null }, c.cell(r))))),
      ),
    ),
  );
}
