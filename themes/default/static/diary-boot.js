// The diary unlock page's first steps on a remembered device, started while the page is
// still loading: the first script of the page's head (small, and from the service worker's
// cache after the first visit), so it runs before the rest of the page is parsed and long
// before diary.js (deferred) runs. It reads the device record from IndexedDB and, once the
// record names the family's slot and the first child's `now` chunk, starts fetching those
// two files. It opens, decrypts and shows nothing: diary.js takes the record and the
// answers from window.diaryBoot, checks them as it checks its own, and does the rest
// (docs/access.md, "Remember this device"). In a frame, with a code in the address or
// without IndexedDB it does nothing, and diary.js starts from scratch as before.
// Keep the database's name, version and stores, the record's key and the requests'
// options in step with diary.js.
'use strict';
(() => {
  if (window.diaryBoot !== undefined) return;
  const HEX32 = /^[0-9a-f]{32}$/;
  try {
    if (window.top !== window.self || location.hash.startsWith('#c=') ||
        typeof window.indexedDB !== 'object' || window.indexedDB === null ||
        typeof window.fetch !== 'function' || typeof window.CryptoKey !== 'function') {
      return;
    }
  } catch {
    return;
  }
  const folder = new URL('.', location.href).pathname;
  /** Requests started here, by path relative to the diary folder: promises of Responses. */
  const started = new Map();
  const get = (path) => {
    if (started.has(path)) return;
    const res = fetch(path, { cache: 'no-cache', credentials: 'same-origin' });
    res.catch(() => undefined); // whoever takes it sees the failure; untaken, it is quiet
    started.set(path, res);
  };
  const getFiles = (slot, now) => {
    if (typeof slot !== 'string' || !HEX32.test(slot)) return;
    get('k/' + slot + '.bin');
    if (typeof now === 'string' && HEX32.test(now)) get('c/' + now + '.bin');
  };
  const device = new Promise((resolve, reject) => {
    const req = indexedDB.open('diary', 2);
    req.onupgradeneeded = () => {
      for (const name of ['device', 'seen']) {
        if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
      }
    };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('blocked'));
    req.onsuccess = () => {
      const db = req.result;
      try {
        const tx = db.transaction('device', 'readonly');
        const read = tx.objectStore('device').get(folder);
        tx.oncomplete = () => resolve(read.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      } catch (err) {
        reject(err);
      } finally {
        db.close();
      }
    };
  });
  device.then((rec) => {
    if (rec && rec.kek instanceof CryptoKey) getFiles(rec.slot, rec.now && rec.now.id);
  }, () => undefined); // diary.js reports a failure
  window.diaryBoot = {
    /** The raw device record (undefined when there is none). */
    device,
    /** The answer to a request started here for `path`, once; null when none was. */
    take(path) {
      const res = started.get(path) || null;
      started.delete(path);
      return res;
    },
  };
})();
