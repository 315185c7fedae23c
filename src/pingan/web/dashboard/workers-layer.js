// Grid workers' last positions (24 h): small square markers, the worker's name in a tooltip (set
// as textContent), green while on patrol. Loaded on start, refreshed every 30 s, and moved live
// when a worker's phone reports a position. Clicking a worker offers a video call.
/* global L */
import { get, newestOnly } from '/shared/api.js';
import { h } from '/shared/dom.js';
import { t } from '/shared/i18n.js';

const REFRESH_MS = 30_000;

export class WorkersLayer {
  constructor(map, onCall = null) {
    this.onCall = onCall;
    this.layer = L.layerGroup().addTo(map);
    this.markers = new Map();
    this.timer = null;
    this.newest = newestOnly();
  }

  start() {
    this.load();
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  async load() {
    const current = this.newest();
    let rows;
    try {
      rows = await get('/api/v1/workers/positions');
    } catch {
      return; // not a role that sees workers, or offline: keep what is shown
    }
    if (!current()) return;
    this.layer.clearLayers();
    this.markers.clear();
    for (const w of rows) this.place(w);
  }

  place(w) {
    const label = document.createElement('span');
    label.textContent = w.display_name;
    const m = L.marker([w.lat, w.lng], {
      icon: L.divIcon({ className: `worker-marker${w.patrolling ? ' patrolling' : ''}`, iconSize: [10, 10] }),
      keyboard: false,
    }).bindTooltip(label, { direction: 'top', offset: [0, -6] });
    m.worker = w;
    if (this.onCall) {
      m.bindPopup(() => h('div', { class: 'worker-popup' },
        h('strong', { text: w.display_name }), ' ',
        h('button', { type: 'button', class: 'primary call-button', dataset: { userId: String(w.user_id) },
          text: t('call.call'), onclick: () => { m.closePopup(); this.onCall(m.worker); } })));
    }
    this.layer.addLayer(m);
    this.markers.set(w.username, m);
    return m;
  }

  /** A live position from the WebSocket: move the worker's marker (or add it). */
  move(p) {
    const m = this.markers.get(p.username);
    if (!m) { this.place(p); return; }
    m.worker = { ...m.worker, ...p };
    m.setLatLng([p.lat, p.lng]);
  }

  open(username) {
    this.markers.get(username)?.openPopup();
  }

  get size() {
    return this.markers.size;
  }

  describe(username) {
    const m = this.markers.get(username);
    if (!m) return null;
    const { display_name: name, lng, lat, patrolling } = m.worker;
    return { display_name: name, lng, lat, patrolling, tooltip: m.getTooltip().getContent().textContent };
  }
}
