// Cases on the map: one compact request for the whole jurisdiction (100,000 cases included),
// clustered by Supercluster (a k-d tree built once per load, in well under a second), and only
// what is in view drawn: clusters as small labelled icons, single cases as canvas circles.
// Live events restyle or add one case and redraw; the tree is rebuilt lazily, at most every 2 s.
/* global L, Supercluster */
import { get, newestOnly } from '/shared/api.js';
import { markerStyle } from '/shared/map.js';

const REBUILD_MS = 2000;

export class CasesLayer {
  constructor(map, onSelect) {
    this.map = map;
    this.onSelect = onSelect;
    this.cases = new Map(); // id → GeoJSON point feature
    this.index = null;
    this.rebuildTimer = null;
    this.renderer = L.canvas({ padding: 0.5 });
    this.layer = L.layerGroup().addTo(map);
    map.on('moveend', () => this.draw());
    this.newest = newestOnly();
  }

  /** Every case of a unit; the count, or null when a newer load began meanwhile. */
  async load(unitCode) {
    const current = this.newest();
    const data = await get('/api/v1/stats/points', { unit: unitCode });
    if (!current()) return null;
    this.cases.clear();
    for (const row of data.rows) this.cases.set(row[0], feature(row));
    this.rebuild();
    return data.total;
  }

  rebuild() {
    clearTimeout(this.rebuildTimer);
    this.rebuildTimer = null;
    this.index = new Supercluster({
      radius: 50, maxZoom: 16, minPoints: 3,
      map: (p) => ({ overdue: p.overdue ? 1 : 0 }),
      reduce: (acc, p) => { acc.overdue += p.overdue; },
    }).load([...this.cases.values()]);
    this.draw();
  }

  draw() {
    if (!this.index) return;
    const b = this.map.getBounds().pad(0.25);
    const zoom = Math.round(this.map.getZoom());
    const found = this.index.getClusters(
      [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())],
      zoom,
    );
    this.layer.clearLayers();
    for (const f of found) this.layer.addLayer(f.properties.cluster ? this.clusterMarker(f) : this.caseMarker(f));
  }

  clusterMarker(f) {
    const [lng, lat] = f.geometry.coordinates;
    const { point_count: n, overdue, cluster_id: id } = f.properties;
    const size = n < 100 ? 'small' : n < 1000 ? 'medium' : 'large';
    const div = document.createElement('div');
    const span = document.createElement('span');
    span.textContent = n >= 10000 ? `${Math.round(n / 1000)}k` : String(n);
    div.append(span);
    const m = L.marker([lat, lng], {
      icon: L.divIcon({ html: div, className: `case-cluster ${size}${overdue ? ' has-overdue' : ''}`, iconSize: L.point(40, 40) }),
      keyboard: false,
    });
    m.on('click', () => {
      const to = Math.min(this.index.getClusterExpansionZoom(id), 18);
      this.map.flyTo([lat, lng], to, { duration: 0.4 });
    });
    return m;
  }

  caseMarker(f) {
    const [lng, lat] = f.geometry.coordinates;
    const { id, state, urgency, overdue } = f.properties;
    const m = L.circleMarker([lat, lng], { ...markerStyle(state, urgency, overdue), renderer: this.renderer });
    m.on('click', () => this.onSelect(id));
    return m;
  }

  /** Add or restyle one case after a live event. */
  upsert(kase) {
    const known = this.cases.get(kase.id);
    if (known && known.properties.version > kase.version) return; // an older read answering late
    if (known) {
      Object.assign(known.properties, { state: kase.state, urgency: kase.urgency, overdue: kase.overdue, version: kase.version });
      known.geometry.coordinates = [kase.lng, kase.lat];
    } else {
      const f = feature([kase.id, kase.lng, kase.lat, kase.state, kase.urgency, kase.overdue]);
      f.properties.version = kase.version;
      this.cases.set(kase.id, f);
    }
    this.draw(); // a single case in view shows its new colour at once
    if (!this.rebuildTimer) this.rebuildTimer = setTimeout(() => this.rebuild(), REBUILD_MS);
  }

  get size() {
    return this.cases.size;
  }

  describe(id) {
    const f = this.cases.get(id);
    return f ? { state: f.properties.state, urgency: f.properties.urgency, overdue: f.properties.overdue } : null;
  }
}

function feature([id, lng, lat, state, urgency, overdue]) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [lng, lat] },
    properties: { id, state, urgency, overdue },
  };
}
