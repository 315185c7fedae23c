// Patrol (巡查): start, follow the position with watchPosition, send the points in batches every
// ~15 s (kept in localStorage while there is no signal), stop. Text goes in via textContent only.
import { ApiError, get, post } from '/shared/api.js';
import { $, toast } from '/shared/dom.js';
import { t } from '/shared/i18n.js';

const SEND_MS = 15_000;
const BATCH = 500;
const key = (username) => `pingan.patrol.${username}`;
let state = null; // { username, patrol, buffer }
let watchId = null;
let timer = null;
let sending = null;

function save() {
  localStorage.setItem(key(state.username), JSON.stringify({ patrol: state.patrol, buffer: state.buffer }));
}

function restore(username) {
  try { return JSON.parse(localStorage.getItem(key(username)) || 'null') || {}; } catch { return {}; }
}

/** Wire the patrol box for a grid worker (others do not patrol); safe to call again. */
export async function initPatrol(user) {
  const box = $('#patrol');
  box.hidden = user.role !== 'grid_worker';
  if (box.hidden) return;
  if (!state || state.username !== user.username) {
    const saved = restore(user.username);
    state = { username: user.username, patrol: saved.patrol || null, buffer: saved.buffer || [] };
    if (!state.patrol && navigator.onLine) {
      try {
        const [last] = await get('/api/v1/patrols', { limit: 1 });
        if (last && !last.ended_at) state.patrol = last;
      } catch { /* offline: nothing to resume */ }
    }
    if (state.patrol) watch();
  }
  $('#patrol-toggle').onclick = toggle;
  renderPatrol();
}

export function renderPatrol() {
  if (!state) return;
  const on = Boolean(state.patrol);
  const button = $('#patrol-toggle');
  button.textContent = t(on ? 'field.patrol_stop' : 'field.patrol');
  button.dataset.state = on ? 'on' : 'off';
  const stats = $('#patrol-stats');
  const p = state.patrol;
  stats.hidden = !on;
  stats.dataset.points = String(p ? p.points : 0);
  stats.dataset.pending = String(state.buffer.length);
  stats.textContent = p ? t('field.patrol_stats', { n: p.points, d: distanceText(p.distance_m) })
    + (state.buffer.length ? ` · ${t('field.patrol_pending', { n: state.buffer.length })}` : '') : '';
}

function distanceText(m) {
  return m >= 1000 ? `${(m / 1000).toFixed(2)} km` : `${Math.round(m)} m`;
}

async function toggle() {
  const button = $('#patrol-toggle');
  button.disabled = true;
  try {
    if (state.patrol) await stop();
    else await begin();
  } catch (err) {
    toast(err.message, 'error');
  } finally {
    button.disabled = false;
    renderPatrol();
  }
}

async function begin() {
  if (!navigator.geolocation) throw new Error(t('field.patrol_no_gps'));
  try {
    state.patrol = await post('/api/v1/patrols', {});
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'patrol.already_open') throw err;
    const [last] = await get('/api/v1/patrols', { limit: 1 });
    state.patrol = last;
  }
  save();
  watch();
  toast(t('field.patrol_started'));
}

async function stop() {
  await send();
  const ended = await post(`/api/v1/patrols/${state.patrol.id}/end`, {});
  unwatch();
  state.patrol = null;
  save();
  toast(t('field.patrol_ended', { n: ended.points, d: distanceText(ended.distance_m) }));
}

function watch() {
  if (watchId !== null || !navigator.geolocation) return;
  watchId = navigator.geolocation.watchPosition((pos) => {
    const { longitude, latitude, accuracy } = pos.coords;
    state.buffer.push({
      lng: longitude, lat: latitude, crs: 'wgs84',
      accuracy_m: Number.isFinite(accuracy) ? accuracy : null, at: new Date(pos.timestamp || Date.now()).toISOString(),
    });
    save();
    renderPatrol();
    if (state.patrol && state.patrol.points === 0 && state.buffer.length === 1) send(); // the first fix at once
  }, () => toast(t('field.patrol_no_gps'), 'error'), { enableHighAccuracy: true, maximumAge: 5000 });
  timer = setInterval(send, SEND_MS);
}

/** Whether a patrol is following the phone's position (its buffer then carries every fix). */
export const following = () => watchId !== null;

function unwatch() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  clearInterval(timer);
  watchId = null;
  timer = null;
}

/** Send what is buffered; keep it when offline, drop a batch the server refuses. */
export function send() {
  if (sending) return sending;
  sending = (async () => {
    while (state && state.buffer.length && navigator.onLine) {
      const batch = state.buffer.slice(0, BATCH);
      try {
        const res = await post('/api/v1/me/positions', { points: batch });
        if (res.patrol && state.patrol && res.patrol.id === state.patrol.id) state.patrol = res.patrol;
      } catch (err) {
        const refused = err instanceof ApiError && err.status >= 400 && err.status < 500 && ![401, 408, 429].includes(err.status);
        if (!refused) break; // offline or the server is away: try again later
      }
      state.buffer.splice(0, batch.length);
      save();
      renderPatrol();
    }
  })().finally(() => { sending = null; });
  return sending;
}
