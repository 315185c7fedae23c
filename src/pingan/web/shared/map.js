// Leaflet maps drawn on canvas, with our own unit and grid boundaries as the base layer:
// no tile server, so the map works with no internet (and in headless browsers, no WebGL).
/* global L */
import { get } from './api.js';
import { h } from './dom.js';
import { localName } from './i18n.js';

export const STATE_COLOURS = {
  reported: '#ff9800', filed: '#fbc02d', dispatched: '#42a5f5', accepted: '#1e88e5',
  handled: '#7e57c2', rework: '#d81b60', verified: '#26a69a', closed: '#66bb6a',
  evaluated: '#2e7d32', rejected: '#9e9e9e', merged: '#bdbdbd', suspended: '#795548',
};

export function createMap(el, options = {}) {
  const map = L.map(el, {
    preferCanvas: true, zoomControl: true, attributionControl: false, minZoom: 6, maxZoom: 19,
    ...options,
  });
  map.setView([30.75, 120.75], 10);
  return map;
}

/** Boundaries of `code`'s descendants at `level` as a clickable layer; resolves with the layer. */
export async function boundaries(map, code, { level, simplify = 0.0005, onClick, style } = {}) {
  const data = await get(`/api/v1/units/${encodeURIComponent(code)}/geojson`, { level, simplify });
  const layer = L.geoJSON(data, {
    style: style || (() => ({ color: '#4fc3f7', weight: 1.2, fillColor: '#0d47a1', fillOpacity: 0.12 })),
    onEachFeature: (feature, lyr) => {
      lyr.bindTooltip(h('span', { text: localName(feature.properties) }), { sticky: true });
      if (onClick) lyr.on('click', (e) => onClick(feature.properties, e));
    },
  });
  layer.addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  return layer;
}

export function markerStyle(state, urgency, overdue) {
  return {
    radius: urgency === 'urgent' ? 8 : 6,
    color: overdue ? '#ff1744' : '#102027',
    weight: overdue ? 3 : 1,
    fillColor: STATE_COLOURS[state] || '#90a4ae',
    fillOpacity: 0.9,
  };
}
