// The outbox of reports made in the field: kept in IndexedDB until the server has them.
// Each report gets its Idempotency-Key when it is queued, so however often a flush is retried
// (lost responses, two tabs, a reload half-way), the server creates the case exactly once.
import { ApiError, report, upload } from '/shared/api.js';
import { uuid } from '/shared/dom.js';

const DB = 'pingan-field';
const STORE = 'outbox';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const result = fn(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); resolve(result.result ?? result); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}

export const pending = () => tx('readonly', (s) => s.getAll());
const put = (item) => tx('readwrite', (s) => s.put(item));
const remove = (key) => tx('readwrite', (s) => s.delete(key));

export async function enqueue(body, photos, username) {
  const item = { key: uuid(), body, photos, photoIds: null, username, queuedAt: Date.now(), error: null };
  await put(item);
  return item;
}

let running = null;

/** Send what is queued, oldest first; stop at the first network failure and retry later. */
export function flush(username, onSent) {
  if (running) return running;
  const work = async () => {
    const items = (await pending()).filter((i) => i.username === username && !i.error)
      .sort((a, b) => a.queuedAt - b.queuedAt);
    for (const item of items) {
      try {
        if (!item.photoIds) {
          item.photoIds = [];
          for (const blob of item.photos) item.photoIds.push(await upload(blob, blob.name || 'photo.jpg'));
          item.photos = [];
          await put(item);
        }
        const kase = await report({ ...item.body, photo_ids: item.photoIds }, item.key);
        await remove(item.key);
        onSent(kase, item);
      } catch (err) {
        if (err instanceof ApiError && err.status >= 400 && err.status < 500 && ![401, 408, 429].includes(err.status)) {
          item.error = err.message; // the server refused it: keep it to show, do not resend
          await put(item);
          continue;
        }
        break; // offline or the server is away: try again when back online
      }
    }
  };
  const locked = navigator.locks ? navigator.locks.request('pingan-outbox', work) : work();
  running = locked.finally(() => { running = null; });
  return running;
}
