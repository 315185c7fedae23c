// The grid worker's field app (网格员): tasks to verify or handle, my grid's map, and reports
// that survive having no signal (queued in IndexedDB, sent once when back online).
/* global L */
import { get, newestOnly, signIn, signOut, useSession } from '/shared/api.js';
import { $, h, clear, toast } from '/shared/dom.js';
import { loadI18n, langSwitch, t } from '/shared/i18n.js';
import { actionBar, caseSummary, photoStrip, stateBadge, timelineList } from '/shared/case-view.js';
import { boundaries, createMap, loadMapConfig, markerStyle } from '/shared/map.js';
import { reportForm } from '/shared/report-form.js';
import { enqueue, flush, pending } from './queue.js';
import { initPatrol, send as sendPositions } from './patrol.js';
import { FieldCall } from './call-view.js';
import { CallClient } from '/shared/call.js';
import { connectLive } from '/shared/live.js';

const FIELD_ROLES = ['grid_worker', 'handler'];
let user = null;
let map = null;

async function main() {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/field/sw.js', { scope: '/field/' }).catch(() => {});
  await Promise.all([loadI18n(), loadMapConfig()]);
  langSwitch($('#lang'));
  window.addEventListener('langchange', () => { if (user) render(); });
  user = useSession('field');
  $('#login-form').addEventListener('submit', onSignIn);
  $('#sign-out').addEventListener('click', () => { signOut(); location.reload(); });
  window.addEventListener('online', () => { netStatus(); sendQueued(); if (user) sendPositions(); });
  window.addEventListener('offline', netStatus);
  netStatus();
  if (user && FIELD_ROLES.includes(user.role)) start();
  else $('#login-view').hidden = false;
}

function netStatus() {
  const el = $('#net');
  el.dataset.state = navigator.onLine ? 'live' : 'offline';
  el.textContent = t(navigator.onLine ? 'net.online' : 'net.offline');
}

async function onSignIn(e) {
  e.preventDefault();
  const f = e.target.elements;
  try {
    user = await signIn(f.username.value.trim(), f.password.value);
    if (!FIELD_ROLES.includes(user.role)) { signOut(); throw new Error(t('auth.wrong_app')); }
    $('#login-view').hidden = true;
    start();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
}

function start() {
  $('#app-view').hidden = false;
  $('#tabs').hidden = false;
  $('#sign-out').hidden = false;
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  render();
  sendQueued();
  listen();
}

/** Calls ring over the WebSocket; case events refresh my tasks without polling. */
function listen() {
  let live = null;
  const calls = new CallClient((msg) => live && live.send(msg));
  new FieldCall($('#call'), calls, { sendsPosition: user.role === 'grid_worker' });
  let refresh = null;
  live = connectLive((event) => {
    if (calls.handle(event)) return;
    if (event.case_id != null) {
      clearTimeout(refresh);
      refresh = setTimeout(loadTasks, 500);
    }
  }, (status) => { document.body.dataset.live = status; });
  window.pinganCalls = { client: calls, stats: () => calls.stats(), call: () => calls.call };
}

function render() {
  $('#who').textContent = `${user.display_name} · ${t(`role.${user.role}`)}`;
  const { form, draft } = reportForm();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const { body, photos } = draft();
    await enqueue(body, photos, user.username);
    form.reset();
    toast(t('field.queued'));
    await showQueue();
    sendQueued();
  });
  clear($('#report-box')).append(form);
  initPatrol(user);
  loadTasks();
  showQueue();
}

function showTab(name) {
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== `tab-${name}`;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  if (name === 'map') showMap();
}

async function showQueue() {
  const items = (await pending()).filter((i) => i.username === user.username);
  const box = $('#queue');
  box.hidden = items.length === 0;
  box.dataset.count = String(items.filter((i) => !i.error).length);
  const failed = items.filter((i) => i.error);
  box.textContent = t('field.queue_count', { n: items.length - failed.length })
    + (failed.length ? ` · ${t('field.queue_failed', { n: failed.length })}` : '');
}

async function sendQueued() {
  if (!navigator.onLine || !user) return;
  await flush(user.username, (kase) => toast(t('field.sent', { no: kase.tracking_no })));
  await showQueue();
  loadTasks();
}

/** Grid workers verify handled cases in their grid; handlers work what is dispatched to them. */
async function loadTasks() {
  const states = user.role === 'handler' ? ['dispatched', 'accepted', 'rework'] : ['handled'];
  const list = clear($('#tasks'));
  let page;
  try {
    page = await get('/api/v1/cases', { state: states, limit: 100 });
  } catch (err) {
    list.append(h('li', { class: 'muted', text: t('field.tasks_unavailable') }));
    return;
  }
  if (!page.items.length) list.append(h('li', { class: 'muted', text: t('field.no_tasks') }));
  for (const c of page.items) {
    const li = h('li', { class: 'task', dataset: { caseId: String(c.id) } },
      stateBadge(c.state), ' ', h('strong', { text: c.tracking_no }), h('div', { text: c.title }));
    li.addEventListener('click', () => openTask(c.id));
    list.append(li);
  }
}

const newestTask = newestOnly();

async function openTask(id) {
  const current = newestTask();
  const [kase, timeline] = await Promise.all([get(`/api/v1/cases/${id}`), get(`/api/v1/cases/${id}/timeline`)]);
  if (!current()) return; // another task was tapped since: show that one
  const box = clear($('#task-detail'));
  box.hidden = false;
  box.dataset.caseId = String(id);
  box.append(caseSummary(kase), kase.photo_ids.length ? photoStrip(kase.photo_ids) : '',
    actionBar(kase, (updated, action) => {
      toast(t('detail.done', { action: t(`action.${action}`), no: updated.tracking_no }));
      box.hidden = true;
      loadTasks();
    }, (err) => toast(err.message, 'error')),
    h('h4', { text: t('detail.timeline') }), timelineList(timeline));
  box.scrollIntoView({ behavior: 'smooth' });
}

async function showMap() {
  if (map) return;
  map = createMap($('#field-map'));
  const area = user.grid_code || user.jurisdiction.split('.').at(-1);
  await boundaries(map, area, { level: 'grid' });
  const page = await get('/api/v1/cases', { limit: 200, state: ['reported', 'filed', 'dispatched', 'accepted', 'handled', 'rework', 'verified'] });
  for (const c of page.items) {
    L.circleMarker([c.lat, c.lng], markerStyle(c.state, c.urgency, c.overdue)).bindTooltip(h('span', { text: c.title })).addTo(map);
  }
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition((p) => {
      L.circleMarker([p.coords.latitude, p.coords.longitude], { radius: 7, color: '#fff', fillColor: '#00e5ff', fillOpacity: 1 })
        .bindTooltip(t('field.you_are_here')).addTo(map);
    }, () => {});
  }
}

main();
