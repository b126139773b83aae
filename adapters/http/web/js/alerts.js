// alerts.js reads the detector's rising-issue alerts: GET /v1/alerts (open
// and recent) and the live stream GET /v1/alerts/stream (Server-Sent Events
// carrying alert.raised, alert.updated and alert.cleared CloudEvents). An
// alert's data has series (the dimensions of its series, e.g. {"category":
// "billing", "segment": "smb"}), period (week or month), period_start
// (YYYY-MM-DD), observed, expected, upper, p_value, q_value, severity,
// longevity, rule, customers_affected and sample_complaint_ids.
import { request, stream } from './api.js';

// AlertsUnavailable says the server has no detector (GET /v1/alerts is 404).
export const AlertsUnavailable = Symbol('alerts unavailable');

// seriesName writes a series for people: "billing · smb".
export function seriesName(series) {
  const order = ['category', 'segment', 'channel', 'root_cause', 'product', 'region', 'severity'];
  const keys = Object.keys(series || {}).sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : 1);
  });
  return keys.map((k) => series[k]).join(' · ');
}

// seriesKey identifies a series and period type: one alert is open per key.
export function seriesKey(series, period) {
  const keys = Object.keys(series || {}).sort();
  return (period || '') + '|' + keys.map((k) => k + '=' + series[k]).join('&');
}

const stateOfType = { 'alert.raised': 'open', 'alert.updated': 'open', 'alert.cleared': 'cleared' };

// normalize turns one item of the alerts answer or one streamed event (a
// CloudEvent, or an alert object without the envelope) into
// {id, key, state, type, time, ...data}.
export function normalize(item) {
  const envelope = item && typeof item.data === 'object' && item.data !== null && (item.specversion || item.type);
  const d = envelope ? item.data : item;
  const type = envelope ? item.type : d.type || d.last_event;
  let state = d.state || d.status || stateOfType[type] || 'open';
  if (state === 'raised' || state === 'updated') state = 'open';
  if (d.cleared_at && state === 'open' && !envelope) state = 'cleared';
  const key = seriesKey(d.series, d.period);
  return {
    ...d,
    key,
    id: d.alert_id || d.id || (envelope ? item.subject : null) || key,
    state,
    type: type || (state === 'cleared' ? 'alert.cleared' : 'alert.raised'),
    time: (envelope && item.time) || d.updated_at || d.raised_at || d.time || null,
  };
}

// listOf reads the answer of GET /v1/alerts: an array, or an object holding
// alerts (or open and recent).
export function listOf(body) {
  if (Array.isArray(body)) return body;
  if (!body || typeof body !== 'object') return [];
  if (Array.isArray(body.alerts)) return body.alerts;
  // The board keeps the last item of each series: the cleared ones (most
  // recent first in the answer) go first, oldest first, so that a series'
  // open alert wins over an earlier episode of it that cleared.
  const recent = Array.isArray(body.recent) ? [...body.recent].reverse() : [];
  return [...recent, ...(Array.isArray(body.open) ? body.open : [])];
}

// fetchAlerts returns the normalized alerts, or AlertsUnavailable.
export async function fetchAlerts(params) {
  try {
    const body = await request('v1/alerts', params);
    const list = listOf(body).map(normalize);
    // The stream goes on from the last event this answer includes, so that
    // none raised in between is missed.
    if (body && typeof body.last_seq === 'number') list.lastSeq = body.last_seq;
    return list;
  } catch (err) {
    if (err.notAvailable) return AlertsUnavailable;
    throw err;
  }
}

// fetchBand returns the detector's band of one series (GET
// /v1/alerts/band: {series, period, points: [{period_start, observed,
// expected, upper, partial, exposure, baseline, reason}], alerts:
// [{alert_id, type, period_start, observed, level, rule, window_start}]}),
// or AlertsUnavailable when the server has no detector.
export async function fetchBand(params) {
  try {
    return await request('v1/alerts/band', params);
  } catch (err) {
    if (err.notAvailable) return AlertsUnavailable;
    throw err;
  }
}

// AlertBoard holds the alerts by series and keeps them current from the
// stream; onChange(board) runs after every change.
export class AlertBoard {
  constructor(onChange, onState) {
    this.byKey = new Map();
    this.onChange = onChange;
    this.onState = onState || (() => {});
    this.close = () => {};
  }

  load(alerts) {
    this.lastSeq = alerts.lastSeq;
    this.byKey.clear();
    for (const a of alerts) this.apply(a, false);
    this.onChange(this);
  }

  apply(a, notify = true) {
    // Events come in log order: the latest one says how the series stands.
    const old = this.byKey.get(a.key);
    this.byKey.set(a.key, { ...old, ...a, fresh: notify });
    if (notify) this.onChange(this);
  }

  open() {
    return [...this.byKey.values()].filter((a) => a.state === 'open').sort(bySeverity);
  }

  cleared() {
    return [...this.byKey.values()].filter((a) => a.state === 'cleared').sort((a, b) => String(b.time).localeCompare(String(a.time)));
  }

  // follow listens to the stream until close() is called.
  follow() {
    const on = (ev) => this.apply(normalize(ev));
    const path = typeof this.lastSeq === 'number' ? `v1/alerts/stream?after=${this.lastSeq}` : 'v1/alerts/stream';
    this.close = stream(path, { message: on, 'alert.raised': on, 'alert.updated': on, 'alert.cleared': on }, this.onState);
  }
}

function bySeverity(a, b) {
  const sa = typeof a.severity === 'number' ? a.severity : 0;
  const sb = typeof b.severity === 'number' ? b.severity : 0;
  if (sa !== sb) return sb - sa;
  return String(b.time).localeCompare(String(a.time));
}
