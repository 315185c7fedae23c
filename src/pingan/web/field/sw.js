// The field app's service worker: the app shell comes from the cache when there is no signal.
// Network first (so a release is picked up at once), cache as the fallback; the API is never cached.
const CACHE = 'pingan-field-v3';
const SHELL = [
  '/field/', '/field/main.js', '/field/queue.js', '/field/patrol.js', '/field/call-view.js', '/field/field.css', '/field/manifest.webmanifest',
  '/field/icon.svg', '/shared/api.js', '/shared/i18n.js', '/shared/dom.js', '/shared/map.js',
  '/shared/case-view.js', '/shared/report-form.js', '/shared/call.js', '/shared/live.js', '/shared/style.css', '/shared/i18n/zh-CN.json',
  '/shared/i18n/en.json', '/vendor/leaflet.js', '/vendor/leaflet.css',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  event.respondWith(fetch(event.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(event.request, copy));
    }
    return res;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })));
});
