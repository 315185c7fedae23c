// Cases as clustered canvas markers: one compact request draws the whole jurisdiction
// (100,000 cases included); live events update single markers in place.
/* global L */
import { get } from '/shared/api.js';
import { markerStyle } from '/shared/map.js';

export class CasesLayer {
  constructor(map, onSelect) {
    this.map = map;
    this.onSelect = onSelect;
    this.markers = new Map();
    this.renderer = L.canvas({ padding: 0.5 });
    this.cluster = L.markerClusterGroup({
      chunkedLoading: true, chunkInterval: 120, chunkDelay: 20, showCoverageOnHover: false,
      maxClusterRadius: 50, disableClusteringAtZoom: 17, iconCreateFunction: clusterIcon,
    });
    map.addLayer(this.cluster);
  }

  async load(unitCode) {
    const data = await get('/api/v1/stats/points', { unit: unitCode });
    this.cluster.clearLayers();
    this.markers.clear();
    const layers = data.rows.map((row) => this.marker(row));
    await new Promise((resolve) => {
      this.cluster.addLayers(layers);
      // chunkedLoading adds in slices; resolve once the last slice is in
      const done = () => (this.cluster.getLayers().length >= layers.length ? resolve() : setTimeout(done, 30));
      done();
    });
    return data.total;
  }

  marker([id, lng, lat, state, urgency, overdue]) {
    const m = L.circleMarker([lat, lng], {
      ...markerStyle(state, urgency, overdue), renderer: this.renderer, caseId: id, state, urgency, overdue,
    });
    m.on('click', () => this.onSelect(id));
    this.markers.set(id, m);
    return m;
  }

  /** Add or restyle one case after a live event. */
  upsert(kase) {
    const row = [kase.id, kase.lng, kase.lat, kase.state, kase.urgency, kase.overdue];
    const old = this.markers.get(kase.id);
    if (old) {
      Object.assign(old.options, { state: kase.state, urgency: kase.urgency, overdue: kase.overdue });
      old.setStyle(markerStyle(kase.state, kase.urgency, kase.overdue));
      this.cluster.refreshClusters(old);
      return;
    }
    this.cluster.addLayer(this.marker(row));
  }

  get size() {
    return this.markers.size;
  }

  describe(id) {
    const m = this.markers.get(id);
    return m ? { state: m.options.state, urgency: m.options.urgency, overdue: m.options.overdue } : null;
  }
}

function clusterIcon(cluster) {
  const n = cluster.getChildCount();
  const overdue = cluster.getAllChildMarkers().some((m) => m.options.overdue);
  const size = n < 100 ? 'small' : n < 1000 ? 'medium' : 'large';
  const div = document.createElement('div');
  const span = document.createElement('span');
  span.textContent = String(n);
  div.append(span);
  return L.divIcon({
    html: div, className: `marker-cluster marker-cluster-${size}${overdue ? ' has-overdue' : ''}`,
    iconSize: L.point(40, 40),
  });
}
