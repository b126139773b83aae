// tables.js shows the review's and scorecard's tables, whose exact columns
// the server decides: known columns first, in a fixed order and with their
// own formats, then whatever else the rows hold.
import { request } from './api.js';
import { errorState, h, money, num, pct, table, when } from './dom.js';

// cellOf formats one value: money lists ([{currency, amount}]), decimal
// amounts beside a currency, counts, times.
export function cellOf(key, v, row) {
  if (v === null || v === undefined) return '–';
  if (Array.isArray(v)) {
    if (v.every((x) => x && typeof x === 'object' && 'amount' in x)) return v.map((x) => money(x.amount, x.currency)).join(' + ') || '–';
    return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  }
  if (typeof v === 'object') {
    return Object.entries(v)
      .map(([k, x]) => `${k}: ${typeof x === 'object' ? cellOf(k, x, v) : x}`)
      .join(', ');
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') {
    if (/pct|percent/.test(key)) return pct(v);
    if (/rate|lift|share/.test(key)) return v.toLocaleString('en', { maximumFractionDigits: 3 });
    return num(v);
  }
  if (/(_at|^time)$/.test(key)) return when(v);
  if (/(value|amount|revenue|cost|profit)/.test(key) && /^-?\d+(\.\d+)?$/.test(v)) return money(v, row && row.currency);
  return String(v);
}

// label turns a field name into a column heading: lost_value → Lost value.
export function label(key) {
  const s = key.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// autoTable lays out rows of objects: the known columns in order, then the
// rest. A currency column is left out: money cells carry their currency.
export function autoTable(caption, rows, known = [], attrs = {}) {
  const keys = [];
  for (const k of known) if (rows.some((r) => k in r)) keys.push(k);
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k) && k !== 'currency') keys.push(k);
  const numeric = (k) => rows.every((r) => r[k] === null || r[k] === undefined || typeof r[k] === 'number' || /^-?\d+(\.\d+)?$/.test(r[k]));
  return table(
    caption,
    keys.map((k) => ({ label: label(k), num: numeric(k), cell: (r) => cellOf(k, r[k], r) })),
    rows,
    attrs,
  );
}

// unavailable is the placeholder of a page the server cannot answer yet.
export function unavailable(title, detail) {
  return h('div', { class: 'state state-unavailable', role: 'status', dataset: { state: 'unavailable' } }, h('p', { class: 'state-title' }, title), h('p', { class: 'state-detail' }, detail));
}

// loadPage fetches a page's answer and draws it into body, or says that the
// server does not have the endpoint yet, or shows the error with a retry.
// draw(answer) returns the page's state (ready or empty). It returns the
// function that stops it when the page is left.
export function loadPage(ctx, body, { path, params, what, missing, draw }) {
  let stopped = false;
  const load = async () => {
    try {
      const r = await request(path, params);
      if (!stopped) ctx.setState(draw(r));
    } catch (err) {
      if (stopped) return;
      if (err.notAvailable) {
        body.replaceChildren(unavailable(...missing));
        ctx.setState('unavailable');
        return;
      }
      body.replaceChildren(errorState(err, load, what));
      ctx.setState('error');
    }
  };
  load();
  return () => {
    stopped = true;
  };
}
