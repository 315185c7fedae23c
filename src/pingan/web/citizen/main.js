// The citizen page (市民): report on a map with photos, get a tracking number, follow the case
// and rate the result. It only ever shows the signed-in citizen's own reports.
/* global L */
import { get, report, signIn, signOut, upload, useSession } from '/shared/api.js';
import { $, h, clear, toast, uuid } from '/shared/dom.js';
import { loadI18n, langSwitch, t, formatTime } from '/shared/i18n.js';
import { actionBar, caseSummary, stateBadge, timelineList } from '/shared/case-view.js';
import { boundaries, createMap, loadMapConfig } from '/shared/map.js';
import { reportForm } from '/shared/report-form.js';
import { connectLive } from '/shared/live.js';

let user = null;
let map = null;
let pin = null;

async function main() {
  await Promise.all([loadI18n(), loadMapConfig()]);
  langSwitch($('#lang'));
  user = useSession('citizen');
  $('#login-form').addEventListener('submit', onSignIn);
  $('#sign-out').addEventListener('click', () => { signOut(); location.reload(); });
  $('#track-form').addEventListener('submit', (e) => { e.preventDefault(); openCase(e.target.elements.no.value.trim()); });
  window.addEventListener('langchange', () => { if (user) renderForm(); });
  if (user && user.role === 'citizen') start();
  else $('#login-view').hidden = false;
}

async function onSignIn(e) {
  e.preventDefault();
  const f = e.target.elements;
  try {
    user = await signIn(f.username.value.trim(), f.password.value);
    if (user.role !== 'citizen') { signOut(); throw new Error(t('auth.wrong_app')); }
    $('#login-view').hidden = true;
    start();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
}

let place = null;

function renderForm() {
  place = reportForm({ onPlace: (lng, lat) => dropPin(lng, lat) });
  place.form.addEventListener('submit', submit);
  clear($('#report-box')).append(place.form);
}

function dropPin(lng, lat) {
  if (pin) pin.remove();
  pin = L.circleMarker([lat, lng], { radius: 9, color: '#fff', weight: 2, fillColor: '#e53935', fillOpacity: 1 }).addTo(map);
  map.panTo([lat, lng]);
}

async function start() {
  $('#app-view').hidden = false;
  $('#sign-out').hidden = false;
  map = createMap($('#citizen-map'));
  renderForm();
  const city = user.jurisdiction.split('.')[0];
  await boundaries(map, city, { level: 'grid', simplify: 0.0003,
    style: () => ({ color: '#1565c0', weight: 0.6, fillColor: '#90caf9', fillOpacity: 0.15 }) });
  map.on('click', (e) => place.setPlace(e.latlng.lng, e.latlng.lat, 'map'));
  loadMine();
  connectLive((event) => {
    loadMine();
    const open = $('#case-view').dataset.trackingNo;
    if (open && event.payload.tracking_no === open) openCase(open);
  });
}

async function submit(e) {
  e.preventDefault();
  const button = e.submitter;
  if (button) button.disabled = true;
  try {
    const { body, photos } = place.draft();
    const photoIds = [];
    for (const p of photos) photoIds.push(await upload(p, p.name));
    const kase = await report({ ...body, photo_ids: photoIds }, uuid());
    place.form.reset();
    const receipt = clear($('#receipt'));
    receipt.hidden = false;
    receipt.append(h('p', { text: t('citizen.thanks') }),
      h('p', {}, t('citizen.your_number'), ' ', h('strong', { id: 'tracking-no', text: kase.tracking_no })));
    loadMine();
    openCase(kase.tracking_no);
  } catch (err) {
    toast(err.message, 'error');
  } finally {
    if (button) button.disabled = false;
  }
}

async function loadMine() {
  const page = await get('/api/v1/cases', { limit: 20 });
  const list = clear($('#my-cases'));
  for (const c of page.items) {
    const li = h('li', { dataset: { trackingNo: c.tracking_no } }, stateBadge(c.state), ' ',
      h('strong', { text: c.tracking_no }), ' ', h('span', { text: c.title }),
      h('span', { class: 'muted', text: ` ${formatTime(c.created_at)}` }));
    li.addEventListener('click', () => openCase(c.tracking_no));
    list.append(li);
  }
}

async function openCase(no) {
  const box = $('#case-view');
  try {
    const kase = await get(`/api/v1/cases/by-tracking-no/${encodeURIComponent(no)}`);
    const timeline = await get(`/api/v1/cases/${kase.id}/timeline`);
    clear(box);
    box.hidden = false;
    box.dataset.trackingNo = kase.tracking_no;
    box.dataset.state = kase.state;
    box.append(caseSummary(kase),
      actionBar(kase, (updated) => { toast(t('citizen.rated')); openCase(updated.tracking_no); }, (err) => toast(err.message, 'error')),
      h('h4', { text: t('detail.timeline') }), timelineList(timeline));
  } catch (err) {
    clear(box);
    box.hidden = false;
    box.append(h('p', { class: 'error', text: err.status === 404 ? t('citizen.not_found') : err.message }));
  }
}

main();
