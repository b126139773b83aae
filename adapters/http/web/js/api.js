// api.js is the dashboard's only way to reach the server. Every request, the
// live alert stream and every download link are made here, so that signing in
// (a token exchanged once for an HttpOnly, SameSite=Strict cookie, which the
// browser then sends by itself) changes this file alone: requests already go
// out same-origin with credentials, a 401 is reported to whoever listens for
// "plaint:unauthorized", and no token ever goes into a URL.

// ApiError is a failed request: the server's JSON error ({"error": {"code",
// "message"}}) when it sent one, else the HTTP status or the network failure.
export class ApiError extends Error {
  constructor(status, code, message, path) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the server could not be reached
    this.code = code;
    this.path = path;
  }

  // notAvailable says the server has no such endpoint (an older or partial
  // server), as opposed to a query it rejected.
  get notAvailable() {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

// url resolves an API path ("v1/trends") with query parameters against the
// page, so that the dashboard also works behind a proxy under a sub-path.
// params is a URLSearchParams, or an object whose array values repeat.
export function url(path, params) {
  const u = new URL(path, document.baseURI);
  if (params) {
    const p = params instanceof URLSearchParams ? params : toParams(params);
    u.search = p.toString();
  }
  return u.pathname + u.search;
}

function toParams(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.set(k, String(v));
  }
  return p;
}

// request fetches path and returns the decoded JSON (or the text, with
// {as: 'text'}). It throws ApiError for every failure.
export async function request(path, params, { as = 'json', signal } = {}) {
  const target = url(path, params);
  let resp;
  try {
    resp = await fetch(target, {
      credentials: 'same-origin',
      headers: { Accept: as === 'json' ? 'application/json' : 'text/csv, text/plain, */*' },
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'unreachable', 'The plaint server cannot be reached. Is it running?', target);
  }
  if (!resp.ok) throw await errorOf(resp, target);
  if (as === 'text') return resp.text();
  try {
    return await resp.json();
  } catch {
    throw new ApiError(resp.status, 'bad_response', `The server's answer to ${target} is not JSON.`, target);
  }
}

async function errorOf(resp, target) {
  let code = 'http_' + resp.status;
  let message = `${resp.status} ${resp.statusText || 'error'} from ${target}`;
  const type = resp.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      const body = await resp.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch {
      // keep the status line
    }
  }
  if (resp.status === 401) {
    window.dispatchEvent(new CustomEvent('plaint:unauthorized', { detail: { path: target } }));
  }
  return new ApiError(resp.status, code, message, target);
}

// stream opens a Server-Sent Events stream. handlers maps event names to
// functions of the parsed JSON data ("message" for unnamed events); onState
// hears "open", "reconnecting" and "closed". The browser resumes with
// Last-Event-ID by itself after a dropped connection. It returns a function
// that closes the stream.
export function stream(path, handlers, onState = () => {}) {
  const es = new EventSource(url(path), { withCredentials: true });
  es.addEventListener('open', () => onState('open'));
  es.addEventListener('error', () => onState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (ev) => {
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        console.warn(`plaint: ignoring a ${name} event that is not JSON`);
        return;
      }
      fn(data, ev.lastEventId);
    });
  }
  return () => es.close();
}

// signIn exchanges a token for the session cookie (the token goes in the
// body, never in a URL) and returns the role it signs in as.
export async function signIn(token) {
  const target = url('v1/session');
  let resp;
  try {
    resp = await fetch(target, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token }),
    });
  } catch {
    throw new ApiError(0, 'unreachable', 'The plaint server cannot be reached. Is it running?', target);
  }
  if (!resp.ok) throw await errorOf(resp, target);
  return (await resp.json()).role;
}
