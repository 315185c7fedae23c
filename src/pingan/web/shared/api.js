// The API client: bearer token per app, Accept-Language, ETags on actions, Idempotency-Key on reports.
import { lang } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

const sessionKey = (app) => `pingan.session.${app}`;
let current = { app: 'web', token: null, user: null };

export function useSession(app) {
  current = { app, token: null, user: null };
  try {
    const stored = JSON.parse(localStorage.getItem(sessionKey(app)) || 'null');
    if (stored && stored.token && stored.expires > Date.now()) current = { app, ...stored };
  } catch { /* a broken entry is a signed-out user */ }
  return current.user;
}

export const user = () => current.user;
export const token = () => current.token;

/** Sign in; `totp` is the authenticator code, sent only when the server asked for one. */
export async function signIn(username, password, totp) {
  const form = new URLSearchParams({ username, password });
  if (totp) form.set('totp', totp);
  const res = await fetch('/api/v1/auth/token', {
    method: 'POST', body: form, headers: { 'Accept-Language': lang() },
  });
  const data = await readJson(res);
  if (data.stage === 'totp_enrol') {
    throw new ApiError(403, 'auth.totp_enrol_first', 'Enrol an authenticator first (POST /api/v1/auth/totp)');
  }
  current = {
    app: current.app, token: data.access_token, user: data.user,
    expires: Date.now() + data.expires_in * 1000,
  };
  localStorage.setItem(sessionKey(current.app), JSON.stringify(current));
  return data.user;
}

/** Forget the session here and, unless the server already refused the token, revoke it there. */
export function signOut({ revoke = true } = {}) {
  if (revoke && current.token) {
    fetch('/api/v1/auth/logout', {
      method: 'POST', keepalive: true, headers: { Authorization: `Bearer ${current.token}` },
    }).catch(() => {});
  }
  localStorage.removeItem(sessionKey(current.app));
  current = { app: current.app, token: null, user: null };
}

async function readJson(res) {
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const err = (data && data.error) || {};
    if (res.status === 401 && current.token) signOut({ revoke: false });
    throw new ApiError(res.status, err.code || `http.${res.status}`, err.message || res.statusText);
  }
  return data;
}

function headers(extra = {}) {
  const h = { 'Accept-Language': lang(), ...extra };
  if (current.token) h.Authorization = `Bearer ${current.token}`;
  return h;
}

/**
 * Reads that overlap may answer in any order; only the newest may paint. Each call of the
 * returned function starts a read and gives back `current()`, true while no newer read has begun:
 * `const current = this.newest(); const data = await get(…); if (!current()) return;`
 */
export function newestOnly() {
  let latest = 0;
  return () => {
    const mine = ++latest;
    return () => mine === latest;
  };
}

export async function get(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
  }
  return readJson(await fetch(url, { headers: headers() }));
}

export async function post(path, body, extra = {}) {
  const res = await fetch(path, {
    method: 'POST', body: JSON.stringify(body),
    headers: headers({ 'Content-Type': 'application/json', ...extra }),
  });
  return readJson(res);
}

/** Take an action on a case with the version the reader last saw (412 when someone was faster). */
export function act(kase, action, body = {}) {
  return post(`/api/v1/cases/${kase.id}/actions/${action}`, body, { 'If-Match': `"${kase.version}"` });
}

export function report(body, idempotencyKey) {
  return post('/api/v1/cases', body, { 'Idempotency-Key': idempotencyKey });
}

/** POST a multipart form (a file upload); the answer's JSON. */
export async function postForm(path, form) {
  return readJson(await fetch(path, { method: 'POST', body: form, headers: headers() }));
}

export async function upload(blob, name = 'photo.jpg') {
  const form = new FormData();
  form.append('file', blob, name);
  return (await postForm('/api/v1/attachments', form)).id;
}

/** A photo as an object URL: attachments need the bearer token, so an <img src> cannot fetch them. */
export async function photoUrl(id) {
  const res = await fetch(`/api/v1/attachments/${id}`, { headers: headers() });
  if (!res.ok) throw new ApiError(res.status, `http.${res.status}`);
  return URL.createObjectURL(await res.blob());
}

export async function download(path, params, filename) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
  }
  const res = await fetch(url, { headers: headers() });
  if (!res.ok) throw new ApiError(res.status, `http.${res.status}`);
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
