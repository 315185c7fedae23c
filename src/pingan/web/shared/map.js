// Leaflet maps drawn on canvas, with our own unit and grid boundaries as the base layer:
// no tile server by default, so the map works with no internet (and in headless browsers, no
// WebGL). A deployment may configure a tile layer in WGS-84 or GCJ-02; for GCJ-02 tiles the map's
// projection shifts every WGS-84 overlay into GCJ-02 before projecting, so both line up exactly.
/* global L */
import { get } from './api.js';
import { h } from './dom.js';
import { localName } from './i18n.js';

export const STATE_COLOURS = {
  reported: '#ff9800', filed: '#fbc02d', dispatched: '#42a5f5', accepted: '#1e88e5',
  handled: '#7e57c2', rework: '#d81b60', verified: '#26a69a', closed: '#66bb6a',
  evaluated: '#2e7d32', rejected: '#9e9e9e', merged: '#bdbdbd', suspended: '#795548',
};

let mapConfig = { tile_url: null, tile_crs: 'wgs84', attribution: '' };

/** Read the deployment's tile settings once, before the first map is created. */
export async function loadMapConfig() {
  try { mapConfig = await get('/api/v1/map/config'); } catch { /* offline: boundaries only */ }
  return mapConfig;
}

export function createMap(el, options = {}) {
  const tiles = mapConfig.tile_url;
  const map = L.map(el, {
    preferCanvas: true, zoomControl: true, attributionControl: Boolean(tiles && mapConfig.attribution),
    minZoom: 6, maxZoom: 19, crs: tiles && mapConfig.tile_crs === 'gcj02' ? GCJ02 : L.CRS.EPSG3857,
    ...options,
  });
  if (tiles) L.tileLayer(tiles, { attribution: mapConfig.attribution, maxZoom: 19 }).addTo(map);
  map.setView([30.75, 120.75], 10);
  return map;
}

// GCJ-02 (火星坐标), the datum of Chinese web maps: the same formulas as pingan.domain.geo.
const A = 6378245.0;
const EE = 0.00669342162296594323;

function outOfChina(lng, lat) {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function delta(lng, lat) {
  const x = lng - 105.0;
  const y = lat - 35.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLat += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLat += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  let dLng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLng += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLng += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLng += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  return [
    (dLng * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI),
    (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI),
  ];
}

export function wgs84ToGcj02(lng, lat) {
  if (outOfChina(lng, lat)) return [lng, lat];
  const [dLng, dLat] = delta(lng, lat);
  return [lng + dLng, lat + dLat];
}

export function gcj02ToWgs84(lng, lat) {
  if (outOfChina(lng, lat)) return [lng, lat];
  let [x, y] = [lng, lat];
  for (let i = 0; i < 6; i += 1) {  // invert by fixed-point iteration: well under a millimetre
    const [gx, gy] = wgs84ToGcj02(x, y);
    x -= gx - lng;
    y -= gy - lat;
  }
  return [x, y];
}

const MERCATOR = L.Projection.SphericalMercator;
const GCJ02 = L.extend({}, L.CRS.EPSG3857, {
  code: 'PINGAN:GCJ02',
  projection: {
    bounds: MERCATOR.bounds,
    project(latlng) {
      const [lng, lat] = wgs84ToGcj02(latlng.lng, latlng.lat);
      return MERCATOR.project(L.latLng(lat, lng));
    },
    unproject(point) {
      const ll = MERCATOR.unproject(point);
      const [lng, lat] = gcj02ToWgs84(ll.lng, ll.lat);
      return L.latLng(lat, lng);
    },
  },
});

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
