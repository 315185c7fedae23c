// The report form shared by the field app and the citizen page: category, text, photos, place.
// Browser geolocation is WGS-84 (GPS), so positions are sent with crs "wgs84"; a point picked on
// our own map is WGS-84 too (the boundaries are served in WGS-84).
import { get } from './api.js';
import { h } from './dom.js';
import { t, localName } from './i18n.js';

const CATEGORY_CACHE = 'pingan.categories';

async function categories() {
  try {
    const list = await get('/api/v1/categories');
    localStorage.setItem(CATEGORY_CACHE, JSON.stringify(list));
    return list;
  } catch (err) {
    const cached = localStorage.getItem(CATEGORY_CACHE);
    if (cached) return JSON.parse(cached); // offline: the list seen last time
    throw err;
  }
}

/** Fill a <select> with the categories (小类), grouped by 大类; the last list seen when offline. */
export async function fillCategories(select) {
  const groups = new Map();
  for (const c of await categories()) {
    if (!groups.has(c.major_code)) {
      groups.set(c.major_code, h('optgroup', { label: localName({ name: c.major_name, name_en: c.major_name_en }) }));
    }
    groups.get(c.major_code).append(h('option', { value: c.code, text: `${c.code} ${localName(c)}` }));
  }
  select.append(...groups.values());
}

export function reportForm({ onPlace } = {}) {
  const category = h('select', { name: 'category_code', required: true });
  const lng = h('input', { name: 'lng', type: 'number', step: 'any', required: true, readOnly: true });
  const lat = h('input', { name: 'lat', type: 'number', step: 'any', required: true, readOnly: true });
  const locate = h('button', { type: 'button', class: 'locate', text: t('report.locate') });
  const status = h('span', { class: 'muted locate-status' });
  const form = h('form', { class: 'report-form' },
    h('label', {}, t('report.category'), category),
    h('label', {}, t('report.title'), h('input', { name: 'title', required: true, maxLength: 200 })),
    h('label', {}, t('report.description'), h('textarea', { name: 'description', rows: 3, maxLength: 5000 })),
    h('label', {}, t('report.urgency'), h('select', { name: 'urgency' },
      h('option', { value: 'routine', text: t('urgency.routine') }),
      h('option', { value: 'urgent', text: t('urgency.urgent') }))),
    h('label', {}, t('report.photos'),
      h('input', { name: 'photos', type: 'file', accept: 'image/*', capture: 'environment', multiple: true })),
    h('fieldset', { class: 'place' }, h('legend', { text: t('report.place') }),
      h('div', { class: 'coords' }, lng, lat), locate, status,
      h('p', { class: 'muted', text: t('report.wgs84_note') })),
    h('button', { type: 'submit', class: 'primary', text: t('report.submit') }));

  fillCategories(category).catch(() => { status.textContent = t('report.no_categories'); });

  const setPlace = (x, y, source) => {
    lng.value = x.toFixed(6);
    lat.value = y.toFixed(6);
    status.textContent = t(`report.place_${source}`);
    if (onPlace) onPlace(x, y);
  };
  locate.addEventListener('click', () => {
    if (!navigator.geolocation) { status.textContent = t('report.no_gps'); return; }
    status.textContent = t('report.locating');
    navigator.geolocation.getCurrentPosition(
      (pos) => setPlace(pos.coords.longitude, pos.coords.latitude, 'gps'),
      () => { status.textContent = t('report.no_gps'); },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 30_000 });
  });

  return {
    form,
    setPlace,
    /** The request body and the photo files, read from the form. */
    draft() {
      const f = form.elements;
      return {
        body: {
          category_code: f.category_code.value, title: f.title.value.trim(),
          description: f.description.value.trim(), urgency: f.urgency.value,
          lng: Number(f.lng.value), lat: Number(f.lat.value), crs: 'wgs84',
        },
        photos: [...f.photos.files],
      };
    },
  };
}
