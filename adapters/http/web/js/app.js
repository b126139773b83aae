// app.js starts the dashboard: it picks the page from the URL fragment
// (#/, #/trend/billing?bucket=week, #/review, #/scorecard), renders it into
// <main>, and shows which server answers in the header.
import { request, signIn } from './api.js';
import { charts } from './charts.js';
import { h, num, state } from './dom.js';
import * as overview from './overview.js';
import * as trend from './trend.js';
import * as review from './review.js';
import * as scorecard from './scorecard.js';

const main = document.getElementById('main');
let leave = () => {};

// The handle a test or a person in the console reads the drawn charts from.
window.plaintDashboard = { charts };

// route reads the fragment: the page, its path parameter and its query.
export function route(hash = location.hash) {
  const raw = hash.startsWith('#/') ? hash.slice(2) : '';
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', arg: parts[1] || '', params: new URLSearchParams(query) };
}

const pages = { overview, trend, review, scorecard };

// ctx is what a page gets: where to render, and how to say what state it is
// in (loading, ready, empty, error), which tests and assistive technology read.
function context(view) {
  return {
    main,
    setState(s) {
      main.dataset.view = view;
      main.dataset.state = s;
      main.setAttribute('aria-busy', s === 'loading' ? 'true' : 'false');
    },
    navigate(hash) {
      if (location.hash === hash) show();
      else location.hash = hash;
    },
  };
}

function show() {
  if (!location.hash.startsWith('#/') && location.hash !== '') return; // an in-page anchor
  leave();
  signingIn = false;
  const r = route();
  const page = pages[r.page];
  for (const a of document.querySelectorAll('[data-nav]')) {
    const current = a.dataset.nav === r.page || (r.page === 'trend' && a.dataset.nav === 'overview');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  if (!page) {
    const ctx = context('missing');
    document.title = 'Not found · plaint';
    main.append(state('empty', 'There is no such page.', h('a', { href: '#/' }, 'Go to the overview')));
    ctx.setState('empty');
    leave = () => {};
    return;
  }
  const ctx = context(r.page);
  ctx.setState('loading');
  leave = page.render(ctx, r.arg, r.params) || (() => {});
}

async function serverStatus() {
  const el = document.getElementById('server-status');
  try {
    const [health, stats] = await Promise.all([request('healthz'), request('v1/stats')]);
    el.replaceChildren(
      h('span', { class: 'dot dot-ok', 'aria-hidden': 'true' }),
      `${num(stats.events)} events`,
      h('span', { class: 'muted' }, ` · plaint ${health.version || ''}`),
    );
    el.title = `Data directory ${health.data_dir || '?'}; log position ${stats.last_seq}`;
  } catch (err) {
    const why = err.status === 0 ? 'server unreachable' : err.status === 401 ? 'sign-in required' : 'server status unknown';
    el.replaceChildren(h('span', { class: 'dot dot-bad', 'aria-hidden': 'true' }), why);
  }
}

document.getElementById('skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => {
  show();
  serverStatus();
});
// signInForm replaces the page with a form that asks for a token once; the
// server keeps it in an HttpOnly cookie, and the page is shown again.
let signingIn = false;
function signInForm() {
  if (signingIn) return;
  signingIn = true;
  leave();
  leave = () => {};
  document.getElementById('server-status').textContent = 'sign-in required';
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help' });
  const problem = h('p', { class: 'state-detail', role: 'alert', id: 'signin-error' });
  const form = h(
    'form',
    { class: 'signin', id: 'signin', onsubmit: async (ev) => {
      ev.preventDefault();
      problem.textContent = '';
      try {
        await signIn(input.value);
        signingIn = false;
        show();
        serverStatus();
      } catch (err) {
        problem.textContent = err.message;
        input.select();
      }
    } },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'token' }, 'Token'),
    input,
    h('p', { class: 'muted', id: 'token-help' }, 'A read or admin token of the server\'s --tokens file. It is kept in a cookie of this browser only.'),
    h('button', { type: 'submit', class: 'button' }, 'Sign in'),
    problem,
  );
  main.replaceChildren(form);
  context('signin').setState('ready');
  input.focus();
}
window.addEventListener('plaint:unauthorized', signInForm);
show();
serverStatus();
