// The 12345 hotline desk (热线受理): an operator takes a call — the caller's number (shown
// masked, with their earlier calls), their account in free text, a category suggested from it,
// the place by address or on the map, similar open cases offered before filing — and files it, or
// adds the call to the case it repeats. The follow-up tab records 回访 results on closed cases.
/* global L */
import { get, post, signIn, signOut, useSession } from '/shared/api.js';
import { $, h, clear, toast, uuid } from '/shared/dom.js';
import { loadI18n, langSwitch, t, localName, formatTime } from '/shared/i18n.js';
import { boundaries, createMap, loadMapConfig, markerStyle } from '/shared/map.js';
import { fillCategories } from '/shared/report-form.js';

const DESK_ROLES = ['operator', 'commander'];
const SUGGEST_AFTER_MS = 500;
let user = null;
let map = null;
let pin = null;
let similarLayer = null;
let idempotencyKey = uuid();

async function main() {
  await Promise.all([loadI18n(), loadMapConfig()]);
  langSwitch($('#lang'));
  user = useSession('hotline');
  $('#login-form').addEventListener('submit', onSignIn);
  $('#sign-out').addEventListener('click', () => { signOut(); location.reload(); });
  if (user && DESK_ROLES.includes(user.role)) start();
  else $('#login-view').hidden = false;
}

async function onSignIn(e) {
  e.preventDefault();
  const f = e.target.elements;
  try {
    user = await signIn(f.username.value.trim(), f.password.value);
    if (!DESK_ROLES.includes(user.role)) { signOut(); throw new Error(t('auth.wrong_app')); }
    $('#login-view').hidden = true;
    start();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
}

async function start() {
  $('#app-view').hidden = false;
  $('#tabs').hidden = false;
  $('#sign-out').hidden = false;
  $('#who').textContent = `${user.display_name} · ${t(`role.${user.role}`)}`;
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  map = createMap($('#desk-map'));
  similarLayer = L.layerGroup().addTo(map);
  map.on('click', (e) => setPlace(e.latlng.lng, e.latlng.lat, t('hotline.place_map')));
  boundaries(map, user.jurisdiction.split('.').at(-1), { level: 'community', simplify: 0.0003 }).catch(() => {});
  const select = $('#call-form select[name=category_code]');
  select.append(h('option', { value: '', text: t('hotline.choose_category') }));
  await fillCategories(select);
  wireForm();
  // read by the browser tests: place the call without pixel-hunting on the map
  window.pinganHotline = { setPlace: (lng, lat) => setPlace(lng, lat, t('hotline.place_map')) };
}

function showTab(name) {
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== `tab-${name}`;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  if (name === 'followups') loadFollowups();
  if (name === 'intake') setTimeout(() => map.invalidateSize(), 0);
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function wireForm() {
  const form = $('#call-form');
  const f = form.elements;
  f.caller_phone.addEventListener('change', () => callerHistory(f.caller_phone.value.trim()));
  f.account.addEventListener('input', debounce(() => {
    if (!f.title.dataset.edited) f.title.value = firstSentence(f.account.value);
    suggest(f.account.value.trim());
    similar();
  }, SUGGEST_AFTER_MS));
  f.title.addEventListener('input', () => { f.title.dataset.edited = '1'; });
  f.category_code.addEventListener('change', () => { markChosen(); similar(); });
  $('#geocode').addEventListener('click', () => geocode(f.address.value.trim()));
  f.address.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); geocode(f.address.value.trim()); } });
  form.addEventListener('submit', (e) => { e.preventDefault(); file(null); });
}

function firstSentence(text) {
  const one = text.trim().split(/[。！？!?\n]/)[0] || '';
  return one.length > 40 ? `${one.slice(0, 40)}…` : one;
}

async function callerHistory(phone) {
  const box = clear($('#caller-history'));
  if (!phone) return;
  try {
    const found = await get('/api/v1/hotline/callers', { phone });
    box.append(h('p', { text: t('hotline.caller_calls', { phone: found.phone_masked, n: found.calls.length }) }));
    if (found.calls.length) {
      box.append(h('ul', {}, found.calls.slice(0, 5).map((c) => h('li', {},
        `${formatTime(c.received_at)} · ${c.tracking_no} · `, h('strong', { text: t(`state.${c.state}`) }), ` · ${c.title}`))));
    }
  } catch (err) {
    box.append(h('p', { class: 'error', text: err.message }));
  }
}

async function suggest(text) {
  const box = clear($('#suggestions'));
  if (text.length < 4) return;
  let found;
  try {
    found = await post('/api/v1/intake/suggest', { text });
  } catch {
    return; // no model trained yet: the operator picks the category by hand
  }
  const select = $('#call-form select[name=category_code]');
  for (const c of found.categories.slice(0, 3)) {
    const chip = h('button', { type: 'button', class: 'chip', dataset: { code: c.code },
      text: `${c.code} ${localName({ name: c.name_zh, name_en: c.name_en })} ${Math.round(c.confidence * 100)}%` });
    chip.addEventListener('click', () => { select.value = c.code; markChosen(); similar(); });
    box.append(chip);
  }
  const [dept] = found.departments || [];
  if (dept) box.append(h('span', { class: 'dept', text: t('hotline.department_hint', { name: localName({ name: dept.name_zh || dept.name || dept.code, name_en: dept.name_en }), p: Math.round(dept.confidence * 100) }) }));
  if (!select.value && found.categories.length) { select.value = found.categories[0].code; markChosen(); }
}

function markChosen() {
  const code = $('#call-form select[name=category_code]').value;
  for (const chip of document.querySelectorAll('#suggestions .chip')) chip.classList.toggle('chosen', chip.dataset.code === code);
}

async function geocode(q) {
  if (!q) return;
  const status = $('#place-status');
  try {
    const found = await get('/api/v1/places/geocode', { q });
    if (found.lng == null) { status.textContent = t('hotline.address_unknown'); return; }
    setPlace(found.lng, found.lat, t('hotline.place_address', { level: found.level || '' }));
  } catch (err) {
    status.textContent = err.status === 404 ? t('hotline.address_unknown') : err.message;
  }
}

function setPlace(lng, lat, how) {
  const f = $('#call-form').elements;
  f.lng.value = lng.toFixed(6);
  f.lat.value = lat.toFixed(6);
  $('#place-status').textContent = how;
  if (pin) pin.remove();
  pin = L.marker([lat, lng]).addTo(map);
  map.setView([lat, lng], Math.max(map.getZoom(), 15));
  similar();
}

async function similar() {
  const f = $('#call-form').elements;
  const list = clear($('#similar'));
  similarLayer.clearLayers();
  if (!f.category_code.value || !f.lng.value || !f.title.value.trim()) return;
  let found = [];
  try {
    found = await post('/api/v1/cases/similar', {
      category_code: f.category_code.value, title: f.title.value.trim(), description: f.account.value.trim(),
      lng: Number(f.lng.value), lat: Number(f.lat.value), crs: 'wgs84',
    });
  } catch { return; }
  for (const { score, case: c } of found) {
    L.circleMarker([c.lat, c.lng], markerStyle(c.state, c.urgency, c.overdue)).addTo(similarLayer);
    const same = h('button', { type: 'button', class: 'same', dataset: { caseId: String(c.id) }, text: t('hotline.same_matter') });
    same.addEventListener('click', () => file(c.id));
    list.append(h('li', { dataset: { caseId: String(c.id) } },
      h('strong', { text: c.tracking_no }), ` · ${c.title} · ${t(`state.${c.state}`)} · ${Math.round(score * 100)}% `, same));
  }
  if (!found.length) list.append(h('li', { class: 'muted', text: t('hotline.no_similar') }));
}

async function file(duplicateOf) {
  const form = $('#call-form');
  const f = form.elements;
  const body = {
    caller_phone: f.caller_phone.value.trim(), caller_name: f.caller_name.value.trim() || null,
    account: f.account.value.trim(), title: f.title.value.trim(), category_code: f.category_code.value,
    urgency: f.urgency.value, address: f.address.value.trim(),
    lng: Number(f.lng.value), lat: Number(f.lat.value), crs: 'wgs84', duplicate_of: duplicateOf,
  };
  try {
    const done = await post('/api/v1/hotline/calls', body, { 'Idempotency-Key': idempotencyKey });
    const out = $('#call-result');
    out.dataset.caseId = String(done.case.id);
    out.textContent = t(done.repeat ? 'hotline.added_to_case' : 'hotline.filed', { no: done.case.tracking_no });
    toast(out.textContent);
    idempotencyKey = uuid();
    form.reset();
    delete f.title.dataset.edited;
    clear($('#suggestions'));
    clear($('#similar'));
    clear($('#caller-history'));
    if (pin) { pin.remove(); pin = null; }
    similarLayer.clearLayers();
  } catch (err) {
    toast(err.message, 'error');
  }
}

async function loadFollowups() {
  const rows = clear($('#followup-rows'));
  let due = [];
  try { due = await get('/api/v1/hotline/followups'); } catch (err) { toast(err.message, 'error'); return; }
  for (const d of due) {
    const stars = h('select', { name: 'satisfaction' },
      [5, 4, 3, 2, 1].map((n) => h('option', { value: String(n), text: '★'.repeat(n) })));
    const note = h('input', { name: 'note', maxLength: 500, placeholder: t('hotline.note') });
    const reached = h('button', { type: 'button', class: 'primary', dataset: { act: 'reached' }, text: t('hotline.record_result') });
    const missed = h('button', { type: 'button', dataset: { act: 'unreachable' }, text: t('hotline.unreachable') });
    const send = (outcome) => post('/api/v1/hotline/followups', {
      case_id: d.case_id, outcome, satisfaction: outcome === 'reached' ? Number(stars.value) : null, note: note.value.trim() || null,
    }).then(() => { toast(t('hotline.followup_saved')); loadFollowups(); }).catch((err) => toast(err.message, 'error'));
    reached.addEventListener('click', () => send('reached'));
    missed.addEventListener('click', () => send('unreachable'));
    rows.append(h('tr', { dataset: { caseId: String(d.case_id) } },
      h('td', { text: d.tracking_no }), h('td', { text: d.title }), h('td', { text: formatTime(d.closed_at) }),
      h('td', { text: d.phone_masked || '–' }), h('td', { text: String(d.attempts) }),
      h('td', {}, h('form', {}, stars, note, reached, missed))));
  }
  if (!due.length) rows.append(h('tr', {}, h('td', { colspan: 6, class: 'muted', text: t('hotline.no_followups') })));
}

main();
