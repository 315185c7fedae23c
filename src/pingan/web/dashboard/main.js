/* global L */
// The command dashboard (指挥大屏): map, KPIs, live feed, case panel and list for one jurisdiction.
import { get, signIn, signOut, useSession } from '/shared/api.js';
import { $, h, clear, toast } from '/shared/dom.js';
import { loadI18n, langSwitch, t, localName } from '/shared/i18n.js';
import { connectLive } from '/shared/live.js';
import { boundaries, createMap, loadMapConfig, STATE_COLOURS } from '/shared/map.js';
import { CasesLayer } from './cases-layer.js';
import { CaseList } from './case-list.js';
import { DetailPanel } from './detail.js';
import { Feed } from './feed.js';
import { KpiPanel } from './kpi-panel.js';
import { WorkersLayer } from './workers-layer.js';
import { AlarmsLayer } from './alarms-layer.js';
import { CallPanel } from './call-panel.js';
import { CallClient } from '/shared/call.js';

const CENTRE_ROLES = ['commander', 'operator', 'auditor', 'admin'];
const started = performance.now();

async function main() {
  await Promise.all([loadI18n(), loadMapConfig()]);
  langSwitch($('#lang'));
  const user = useSession('dashboard');
  $('#login-form').addEventListener('submit', onSignIn);
  $('#sign-out').addEventListener('click', () => { signOut(); location.reload(); });
  if (user && CENTRE_ROLES.includes(user.role)) await startApp(user);
  else $('#login-view').hidden = false;
}

async function onSignIn(e) {
  e.preventDefault();
  const f = e.target.elements;
  try {
    const user = await signIn(f.username.value.trim(), f.password.value, f.totp.value.trim());
    if (!CENTRE_ROLES.includes(user.role)) { signOut(); throw new Error(t('auth.wrong_app')); }
    $('#login-view').hidden = true;
    await startApp(user);
  } catch (err) {
    if (err.code === 'auth.totp_required') { $('#totp-field').hidden = false; f.totp.focus(); }
    $('#login-error').textContent = err.message;
  }
}

async function startApp(user) {
  $('#app-view').hidden = false;
  $('#sign-out').hidden = false;
  $('#who').textContent = `${user.display_name} · ${t(`role.${user.role}`)}`;
  const map = createMap($('#map'));
  const root = await unitByPath(user.jurisdiction);
  const trail = [root];
  let gridLayer = null;
  let unitLayer = null;

  let live = null;
  const calls = new CallClient((msg) => live && live.send(msg));
  const callPanel = new CallPanel($('#call-panel'), calls);
  calls.addEventListener('ended', (e) => { if (e.detail.call?.case_id) detail.refresh(e.detail.call.case_id); });
  const detail = new DetailPanel($('#detail'), (kase) => cases.upsert(kase), (userId, kase) => callPanel.call(userId, kase));
  const select = (id) => detail.open(id).catch((err) => toast(err.message, 'error'));
  const cases = new CasesLayer(map, select);
  const workers = new WorkersLayer(map, (w) => callPanel.call(w.user_id));
  workers.start();
  const alarms = new AlarmsLayer(map, select);
  alarms.load();
  const feed = new Feed($('#feed'), $('#alert'), select);
  const kpis = new KpiPanel($('#kpis'), $('#chart-units'), $('#chart-categories'), $('#chart-trend'), (code) => drill(code));
  const list = new CaseList($('#filters'), $('#case-rows'), $('#list-total'), select);

  async function show(unit) {
    if (gridLayer) gridLayer.remove();
    if (unitLayer) unitLayer.remove();
    renderCrumbs();
    list.unitPath = unit.path;
    const childLevel = { city: 'district', district: 'town', town: 'community', community: 'grid' }[unit.level];
    gridLayer = childLevel && childLevel !== 'grid'
      ? await boundaries(map, unit.code, { level: 'grid', simplify: 0.0003,
        style: () => ({ color: '#4fc3f7', weight: 0.5, opacity: 0.5, fillOpacity: 0.03 }) })
      : null;
    unitLayer = await boundaries(map, unit.code, {
      level: childLevel || 'grid', simplify: 0.0005,
      style: () => ({ color: '#ffd54f', weight: 2, fillColor: '#0d47a1', fillOpacity: 0.08 }),
      onClick: childLevel && childLevel !== 'grid' ? (p) => drill(p.code) : (p, e) => gridCall(p, e.latlng),
    });
    // the map first: on a two-core server the KPI aggregation would otherwise compete with it
    const count = await cases.load(unit.code);
    if (count === null) return; // the user moved on to another unit meanwhile
    $('#marker-count').textContent = String(count);
    document.body.dataset.mapReady = String(performance.now() - started);
    const [kpiData] = await Promise.all([kpis.load(unit.code), list.load()]);
    if (kpiData) await list.fillOptions(kpiData.by_unit);
  }

  async function drill(code) {
    const unit = await get(`/api/v1/units/${code}`);
    if (unit.level === 'grid') return;
    trail.push(unit);
    await show(unit);
  }

  /** A grid's popup: its workers, each with a video-call button. */
  async function gridCall(props, latlng) {
    const box = h('div', { class: 'grid-popup', dataset: { grid: props.code } }, h('strong', { text: localName(props) }));
    L.popup().setLatLng(latlng).setContent(box).openOn(map);
    try {
      const people = await get(`/api/v1/grids/${encodeURIComponent(props.code)}/contacts`);
      for (const c of people) {
        box.append(h('div', { class: 'contact', dataset: { userId: String(c.user_id) } },
          h('i', { class: `presence${c.online ? ' online' : ''}` }), `${c.display_name} `,
          h('button', { type: 'button', class: 'primary call-button', text: t('call.call'),
            onclick: () => { map.closePopup(); callPanel.call(c.user_id); } })));
      }
      if (!people.length) box.append(h('p', { class: 'muted', text: t('call.nobody') }));
    } catch (err) {
      box.append(h('p', { class: 'error', text: err.message }));
    }
  }

  function renderCrumbs() {
    const nav = clear($('#crumbs'));
    trail.forEach((u, i) => {
      const b = h('button', { type: 'button', class: 'crumb', dataset: { code: u.code }, text: localName(u) });
      b.addEventListener('click', () => { trail.splice(i + 1); show(u); });
      nav.append(b, i < trail.length - 1 ? ' › ' : '');
    });
  }

  renderLegend();
  let refreshTimer = null;
  const refreshSoon = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { kpis.load(trail.at(-1).code); list.load(); }, 800);
  };
  live = connectLive(async (event) => {
    if (calls.handle(event)) return;
    if (event.type === 'worker.position') { workers.move(event); return; }
    let kase = null;
    if (event.case_id != null) {
      try { kase = await get(`/api/v1/cases/${event.case_id}`); } catch { /* no longer visible */ }
    }
    if (kase && kase.location_path.startsWith(trail.at(-1).path)) cases.upsert(kase);
    $('#marker-count').textContent = String(cases.size);
    feed.add(event, kase);
    if (event.alarm_id != null) alarms.load();
    if (event.case_id != null) detail.refresh(event.case_id);
    refreshSoon();
  }, (status) => {
    const el = $('#live-status');
    el.dataset.state = status;
    el.textContent = t(`live.${status}`);
  });
  window.addEventListener('langchange', () => {
    kpis.render();
    renderCrumbs();
    renderLegend();
    list.fillOptions(kpis.data ? kpis.data.by_unit : []).then(() => list.load());
    $('#who').textContent = `${user.display_name} · ${t(`role.${user.role}`)}`;
    const el = $('#live-status');
    el.textContent = t(`live.${el.dataset.state}`);
    if (detail.caseId) detail.open(detail.caseId);
  });
  // Read by the browser tests and the load benchmark: what the map holds, without pixels.
  window.pinganDashboard = {
    markerOf: (id) => cases.describe(id), markerCount: () => cases.size,
    workerOf: (username) => workers.describe(username), workerCount: () => workers.size,
    reloadWorkers: () => workers.load(), crs: () => map.options.crs.code, openWorker: (username) => workers.open(username),
    openCase: (id) => detail.open(id),
  };
  window.pinganCalls = {
    client: calls, stats: () => calls.stats(), call: () => calls.call,
    firstFrameMs: () => callPanel.firstFrameMs, dial: (userId) => callPanel.call(userId),
    openGrid: async (code) => {
      const u = await get(`/api/v1/units/${code}`);
      await gridCall(u, L.latLng(u.center[1], u.center[0]));
    },
  };
  await show(root);
  document.body.dataset.interactive = String(performance.now() - started);
}

async function unitByPath(path) {
  const code = path.split('.').at(-1);
  return get(`/api/v1/units/${code}`);
}

function renderLegend() {
  const el = clear($('#legend'));
  for (const s of ['reported', 'filed', 'dispatched', 'accepted', 'handled', 'verified', 'closed', 'evaluated']) {
    el.append(h('span', { class: 'legend-item' }, h('i', { style: `background:${STATE_COLOURS[s]}` }), t(`state.${s}`)));
  }
  el.append(h('span', { class: 'legend-item' }, h('i', { class: 'ring' }), t('case.overdue')));
  el.append(h('span', { class: 'legend-item' }, h('i', { class: 'worker-marker patrolling' }), t('map.workers')));
  el.append(h('span', { class: 'legend-item' }, h('i', { class: 'alarm-marker open' }), t('map.alarms')));
}

main();
