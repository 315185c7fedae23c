// Grid workers' last positions (24 h): small square markers, the worker's name in a tooltip (set
// as textContent), green while on patrol. Loaded on start and refreshed every 30 s.
/* global L */
import { get } from '/shared/api.js';

const REFRESH_MS = 30_000;

export class WorkersLayer {
  constructor(map) {
    this.layer = L.layerGroup().addTo(map);
    this.markers = new Map();
    this.timer = null;
  }

  start() {
    this.load();
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  async load() {
    let rows;
    try {
      rows = await get('/api/v1/workers/positions');
    } catch {
      return; // not a role that sees workers, or offline: keep what is shown
    }
    this.layer.clearLayers();
    this.markers.clear();
    for (const w of rows) {
      const label = document.createElement('span');
      label.textContent = w.display_name;
      const m = L.marker([w.lat, w.lng], {
        icon: L.divIcon({ className: `worker-marker${w.patrolling ? ' patrolling' : ''}`, iconSize: [10, 10] }),
        keyboard: false,
      }).bindTooltip(label, { direction: 'top', offset: [0, -6] });
      m.worker = w;
      this.layer.addLayer(m);
      this.markers.set(w.username, m);
    }
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
