// periods.js reads and writes plaint's period labels ("2026-10",
// "2026-W40", "2026-Q4", "2026-10-03"), all in UTC, as the server does
// (domain/period.go).

const DAY = 86400000;

// parse returns the start (ms since the epoch, UTC) of the period a label
// names, or NaN.
export function parse(label) {
  let m;
  if ((m = /^(\d{4})-(\d{2})$/.exec(label))) return Date.UTC(+m[1], +m[2] - 1, 1);
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(label))) return Date.UTC(+m[1], +m[2] - 1, +m[3]);
  if ((m = /^(\d{4})-Q([1-4])$/.exec(label))) return Date.UTC(+m[1], 3 * (+m[2] - 1), 1);
  if ((m = /^(\d{4})-W(\d{2})$/.exec(label))) return isoWeekStart(+m[1], +m[2]);
  return NaN;
}

// isoWeekStart is the Monday of ISO week w of ISO year y.
function isoWeekStart(y, w) {
  const jan4 = Date.UTC(y, 0, 4);
  const wd = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - wd * DAY + (w - 1) * 7 * DAY;
}

// periodStart is the start of the period of width bucket that holds t.
export function periodStart(bucket, t) {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  switch (bucket) {
    case 'day':
      return Date.UTC(y, mo, d.getUTCDate());
    case 'week':
      return Date.UTC(y, mo, d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    case 'quarter':
      return Date.UTC(y, mo - (mo % 3), 1);
    default:
      return Date.UTC(y, mo, 1);
  }
}

// add returns the start of the period n buckets after the one starting at s.
export function add(bucket, s, n) {
  const d = new Date(s);
  switch (bucket) {
    case 'day':
      return s + n * DAY;
    case 'week':
      return s + 7 * n * DAY;
    case 'quarter':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3 * n, 1);
    default:
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
  }
}

// label is the label of the period of width bucket that starts at s.
export function label(bucket, s) {
  const d = new Date(s);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  switch (bucket) {
    case 'day':
      return d.toISOString().slice(0, 10);
    case 'week': {
      // The ISO year is the year of the week's Thursday.
      const th = new Date(s + 3 * DAY);
      const iy = th.getUTCFullYear();
      const w = Math.round((s - isoWeekStart(iy, 1)) / (7 * DAY)) + 1;
      return `${iy}-W${String(w).padStart(2, '0')}`;
    }
    case 'quarter':
      return `${y}-Q${Math.floor(mo / 3) + 1}`;
    default:
      return `${y}-${String(mo + 1).padStart(2, '0')}`;
  }
}

// step returns the label n buckets after the given one.
export function step(bucket, lbl, n) {
  return label(bucket, add(bucket, parse(lbl), n));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// human writes a period label for people: "Oct 2026", "week of 5 Oct 2026",
// "2026 Q4", "5 Oct 2026".
export function human(bucket, lbl) {
  const s = parse(lbl);
  if (Number.isNaN(s)) return lbl;
  const d = new Date(s);
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  switch (bucket) {
    case 'day':
      return day;
    case 'week':
      return `week of ${day}`;
    case 'quarter':
      return lbl.replace('-', ' ');
    default:
      return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  }
}

// short is a compact axis label: "Oct 26", "5 Oct".
export function short(bucket, s) {
  const d = new Date(s);
  if (bucket === 'week' || bucket === 'day') return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  if (bucket === 'quarter') return label(bucket, s);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCFullYear()).slice(2)}`;
}

// coverage says how far the period starting at s has run at time now: 1 for
// a past period, 0 for a future one, the elapsed share in between.
export function coverage(bucket, s, now) {
  const e = add(bucket, s, 1);
  if (now >= e) return 1;
  if (now <= s) return 0;
  return (now - s) / (e - s);
}
