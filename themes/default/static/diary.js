// The diary unlock page: opens a child's sealed diary in the browser, following access
// protocol v2 (docs/access.md; the Rust side is src/seal.rs and src/seal_diaries/). A slot
// saying "v":2 opens each child's diary in chunks: the `now` chunk (this week and next, the
// marks, the list of earlier parts) at once, each earlier part of the year (`term-…`) when
// the family goes back to it. A slot saying "v":1 opens the child's single page file
// (p/<page>.bin) as before; devices remembered by either page keep working. Plain
// JavaScript, no framework, no requests beyond this site's diary/ folder. Every text shown
// comes from the page's data-msg-* attributes, so this file holds no language of its own
// (dates are spelled by the browser in the page's language).
'use strict';
(() => {
  const app = document.getElementById('diary-app');
  if (!app) return;
  const $ = (id) => document.getElementById(id);
  const form = $('diary-form');
  const input = $('diary-code');
  const rememberBox = $('diary-remember');
  const rememberRow = $('diary-remember-row');
  const submit = $('diary-submit');
  const statusBox = $('diary-status');
  const errorBox = $('diary-error');
  const view = $('diary-view');
  const kids = $('diary-kids');
  const weekBar = $('diary-weekbar');
  const weekNav = $('diary-weeknav');
  const earlierNav = $('diary-earlier');
  const earlierList = $('diary-earlier-list');
  const partStatus = $('diary-part-status');
  const partError = $('diary-part-error');
  const prevButton = $('diary-prev');
  const nowButton = $('diary-now');
  const nextButton = $('diary-next');
  const box = $('diary');
  const deviceNote = $('diary-device-state');
  const rememberNowButton = $('diary-remember-now');
  const forgetButton = $('diary-forget');
  const closeButton = $('diary-close');
  const offlineNote = $('diary-offline');
  const printWeekButton = $('diary-print-week');

  const msg = (name) => app.getAttribute('data-msg-' + name) || name;

  // ---- Protocol constants (docs/access.md, exact) --------------------------------------
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const CODE_LEN = 16;
  const NONCE_LEN = 12;
  const TAG_LEN = 16;
  const SLOT_AAD = 'diary/slot/v1/';
  const PAGE_AAD = 'diary/page/v1/';
  const CHUNK_INFO = 'diary/chunk/v2/';
  const HEX32 = /^[0-9a-f]{32}$/;
  const DAY = /^\d{4}-\d{2}-\d{2}$/;
  const PART_NAME = /^term-\d{4}-\d{2}-\d{2}$/;

  /** Why an unlock stopped: 'gone' (slot not found), 'broken', 'network'. */
  class Stop extends Error {
    constructor(kind) {
      super(kind);
      this.kind = kind;
    }
  }

  // ---- What the browser must offer ---------------------------------------------------
  function missingFeature() {
    const c = window.crypto;
    if (!c || !c.subtle) {
      const host = location.hostname;
      const local = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
      if (window.isSecureContext === false || (location.protocol === 'http:' && !local)) {
        return 'https';
      }
      return 'unsupported';
    }
    const needed = [window.DecompressionStream, window.TextDecoder, window.TextEncoder,
      window.fetch, window.Response, window.Promise, window.DataView];
    if (needed.some((f) => typeof f !== 'function')) return 'unsupported';
    return null;
  }
  const hasIndexedDB = (() => {
    try {
      return typeof window.indexedDB === 'object' && window.indexedDB !== null;
    } catch {
      return false;
    }
  })();

  // ---- Codes ----------------------------------------------------------------------------
  /** Exactly seal::normalize_code: ASCII uppercase; spaces and '-' dropped; O→0, I→1,
   *  L→1; anything else, or a length other than 16, is not a code (null). */
  function normalizeCode(text) {
    let out = '';
    for (const ch of String(text)) {
      let c = ch >= 'a' && ch <= 'z' ? String.fromCharCode(ch.charCodeAt(0) - 32) : ch;
      if (c === ' ' || c === '-') continue;
      if (c === 'O') c = '0';
      else if (c === 'I' || c === 'L') c = '1';
      else if (c.length !== 1 || ALPHABET.indexOf(c) < 0) return null;
      out += c;
    }
    return out.length === CODE_LEN ? out : null;
  }

  // ---- Bytes ------------------------------------------------------------------------------
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  function unb64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const utf8 = (bytes) => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

  /** The bytes of a file of the diary folder; null when the host says it is not there.
   *  `owner`: the page id of the child a chunk or page file belongs to (for the offline
   *  copy). */
  async function fetchBytes(path, owner) {
    let res;
    try {
      res = await fetch(path, { cache: 'no-cache', credentials: 'same-origin' });
    } catch {
      throw new Stop('network');
    }
    // 403: what some object stores answer for a file that does not exist.
    if (res.status === 404 || res.status === 410 || res.status === 403) return null;
    if (!res.ok) throw new Stop('network');
    let bytes;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch {
      throw new Stop('network');
    }
    offlineSaw(path, bytes, res, owner);
    return bytes;
  }

  /** nonce(12) ‖ AES-256-GCM(ciphertext ‖ tag) → plaintext; any failure is 'broken'. */
  async function openSealed(key, file, aad) {
    if (file.length < NONCE_LEN + TAG_LEN) throw new Stop('broken');
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: file.subarray(0, NONCE_LEN),
          additionalData: new TextEncoder().encode(aad), tagLength: 128 },
        key, file.subarray(NONCE_LEN));
      return new Uint8Array(plain);
    } catch {
      throw new Stop('broken');
    }
  }

  const importAesKey = (raw) =>
    crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);

  // ---- Protocol steps -----------------------------------------------------------------
  let paramsPromise = null;
  /** params.json: {"v":1,"kdf":"PBKDF2-HMAC-SHA256","iterations":N,"salt":"<b64 16>"}. */
  function loadParams() {
    if (!paramsPromise) {
      paramsPromise = (async () => {
        const bytes = await fetchBytes('params.json');
        if (!bytes) throw new Stop('broken');
        let p;
        let salt;
        try {
          p = JSON.parse(utf8(bytes));
          salt = unb64(p.salt);
        } catch {
          throw new Stop('broken');
        }
        if (!p || p.v !== 1 || p.kdf !== 'PBKDF2-HMAC-SHA256' || salt.length !== 16 ||
            !Number.isSafeInteger(p.iterations) || p.iterations < 100000) {
          throw new Stop('broken');
        }
        return { salt, iterations: p.iterations };
      })();
      paramsPromise.catch(() => { paramsPromise = null; });
    }
    return paramsPromise;
  }

  /** bits = PBKDF2-HMAC-SHA256(code, salt, iterations, 48 bytes); slot = hex(bits[0..16]);
   *  kek = bits[16..48] as a non-extractable AES-GCM key. */
  async function derive(code, params) {
    const password = await crypto.subtle.importKey(
      'raw', new TextEncoder().encode(code), 'PBKDF2', false, ['deriveBits']);
    const bits = new Uint8Array(await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: params.salt, iterations: params.iterations },
      password, 384));
    const slot = hex(bits.subarray(0, 16));
    const kek = await importAesKey(bits.subarray(16, 48));
    bits.fill(0);
    return { slot, kek };
  }

  /** k/<slot>.bin → the children it opens, each with its page key imported. */
  async function openSlot(slot, kek) {
    const file = await fetchBytes('k/' + slot + '.bin');
    if (!file) {
      // Revoked: nothing of this family stays saved on the device.
      await offlineDrop(slot);
      throw new Stop('gone');
    }
    const plain = await openSealed(kek, file, SLOT_AAD + slot);
    let data;
    try {
      data = JSON.parse(utf8(plain));
    } catch {
      throw new Stop('broken');
    }
    plain.fill(0);
    if (!data || (data.v !== 1 && data.v !== 2) || !Array.isArray(data.children) ||
        data.children.length === 0) {
      throw new Stop('broken');
    }
    const v = data.v;
    return Promise.all(data.children.map(async (c) => {
      if (!c || typeof c.page !== 'string' || !HEX32.test(c.page) ||
          typeof c.key !== 'string' || typeof c.name !== 'string') {
        throw new Stop('broken');
      }
      let raw;
      try {
        raw = unb64(c.key);
      } catch {
        throw new Stop('broken');
      }
      if (raw.length !== 32) throw new Stop('broken');
      try {
        // v2: the dek only derives chunk keys (HKDF); v1: it opens the page file itself.
        const key = v === 2
          ? await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits'])
          : await importAesKey(raw);
        return { v, page: c.page, name: c.name, key };
      } catch {
        throw new Stop('broken');
      } finally {
        raw.fill(0);
      }
    }));
  }

  /** A chunk's file id, key (non-extractable, decrypt only) and AAD: HKDF-SHA256 of the
   *  child's dek, salt 32 zero bytes, info = "diary/chunk/v2/" + page + "/" + name, 48
   *  bytes; id = hex(okm[0..16]), key = okm[16..48]. */
  async function chunkKey(child, name) {
    const info = CHUNK_INFO + child.page + '/' + name;
    let okm;
    try {
      okm = new Uint8Array(await crypto.subtle.deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32),
          info: new TextEncoder().encode(info) },
        child.key, 384));
    } catch {
      throw new Stop('broken');
    }
    try {
      const id = hex(okm.subarray(0, 16));
      const key = await importAesKey(okm.subarray(16, 48));
      return { id, key, aad: info };
    } catch {
      throw new Stop('broken');
    } finally {
      okm.fill(0);
    }
  }

  /** P = u32be(L) ‖ gzip(html)[L] ‖ zeros → the HTML, strict UTF-8. */
  async function unpad(p) {
    if (p.length < 4) throw new Stop('broken');
    const len = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, false);
    if (len > p.length - 4) throw new Stop('broken');
    try {
      const gz = new Response(p.subarray(4, 4 + len)).body
        .pipeThrough(new DecompressionStream('gzip'));
      return utf8(new Uint8Array(await new Response(gz).arrayBuffer()));
    } catch {
      throw new Stop('broken');
    } finally {
      p.fill(0);
    }
  }

  /** The one element of an HTML fragment matching `selector`, with the child's own lines
   *  in place, adopted into the page but not yet in it; anything else is 'broken'. */
  function single(html, selector) {
    const template = document.createElement('template');
    template.innerHTML = html;
    const node = template.content.firstElementChild;
    if (!node || template.content.children.length !== 1 || !node.matches(selector)) {
      throw new Stop('broken');
    }
    placeOwnLines(node);
    return document.adoptNode(node);
  }

  const OWN_PLACE = /^[0-9]{1,9}[hm]$/;

  /** A chunk's weeks are shared by the child's class and come with empty place holders
   *  <i data-o="12h"></i>; the child's own lines (attendance, marks) come in one
   *  <div class="own-lines" hidden>, each in a <div data-o="12h"> naming its place
   *  (docs/access.md, "Own lines"). Moves each where it belongs and drops the rest. */
  function placeOwnLines(root) {
    const places = new Map();
    for (const i of root.querySelectorAll('i[data-o]')) {
      places.set(i.getAttribute('data-o'), i);
    }
    const boxes = root.querySelectorAll('div.own-lines');
    if (boxes.length > 1) throw new Stop('broken');
    if (boxes.length === 1) {
      for (const line of Array.from(boxes[0].children)) {
        const name = line.getAttribute('data-o') || '';
        const place = places.get(name);
        if (!OWN_PLACE.test(name) || !place || !place.parentNode) throw new Stop('broken');
        place.replaceWith(...line.childNodes);
      }
      boxes[0].remove();
    }
    for (const place of places.values()) place.remove();
  }

  /** c/<id>.bin of a v2 child → the chunk's HTML. Missing is 'broken': the slot or the
   *  `now` chunk says it is there. */
  async function openChunk(child, name) {
    const { id, key, aad } = await chunkKey(child, name);
    let file;
    if (prefetched && prefetched.id === id) {
      file = await prefetched.file;
      prefetched = null;
    } else {
      file = await fetchBytes('c/' + id + '.bin', child.page);
    }
    if (!file) throw new Stop('broken');
    mark('chunk-fetched');
    const plain = await openSealed(key, file, aad);
    mark('chunk-decrypted');
    const html = await unpad(plain);
    mark('chunk-gunzipped');
    return html;
  }

  /** The earlier parts listed in a `now` chunk (<ol class="dparts">, oldest first). */
  function readParts(article) {
    const lists = article.querySelectorAll('ol.dparts');
    if (lists.length > 1) throw new Stop('broken');
    if (lists.length === 0) return [];
    const parts = Array.from(lists[0].children, (li) => ({
      name: li.getAttribute('data-part') || '',
      first: li.getAttribute('data-first') || '',
      last: li.getAttribute('data-last') || '',
      label: li.textContent.replace(/\s+/g, ' ').trim(),
      state: 'new', // 'new', 'loading', 'loaded', 'failed'
    }));
    const names = new Set();
    for (const p of parts) {
      if (!PART_NAME.test(p.name) || !DAY.test(p.first) || !DAY.test(p.last) ||
          p.first > p.last || !p.label || names.has(p.name)) {
        throw new Stop('broken');
      }
      names.add(p.name);
    }
    return parts;
  }

  /** A child's diary as it opens: the `now` chunk (v2) or the page file (v1), checked,
   *  prepared, not yet in the document. */
  async function openDiary(child) {
    if (child.v === 1) {
      return { article: await openPage(child), parts: [], firstNow: '' };
    }
    const article = single(await openChunk(child, 'now'), 'article.child');
    const parts = readParts(article);
    prepare(article);
    mark('parsed');
    // The first week of `now`, before any earlier part's weeks go in front of it.
    const first = article.querySelector('.dweek');
    return { article, parts, firstNow: first ? first.getAttribute('data-week') || '' : '' };
  }

  /** p/<page>.bin → P = u32be(L) ‖ gzip(html)[L] ‖ zeros → the child's <article>,
   *  parsed but not yet in the document. */
  async function openPage(child) {
    const file = await fetchBytes('p/' + child.page + '.bin', child.page);
    if (!file) throw new Stop('broken');
    const html = await unpad(await openSealed(child.key, file, PAGE_AAD + child.page));
    const node = single(html, 'article.child');
    prepare(node);
    return node;
  }

  // ---- Remembered device (IndexedDB: {v, slot, kek} with kek a non-extractable CryptoKey)
  const DB_NAME = 'diary';
  const DB_STORE = 'device';
  // One record per diary folder, so two sites on one origin do not mix.
  const recordKey = () => new URL('.', location.href).pathname;

  function openDb() {
    return new Promise((resolve, reject) => {
      // Version 2 added the `seen` store of "what is new" (below); the device store stays.
      const req = indexedDB.open(DB_NAME, 2);
      req.onupgradeneeded = () => {
        for (const name of [DB_STORE, SEEN_STORE]) {
          if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('blocked'));
    });
  }
  async function inStore(mode, action) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(DB_STORE, mode);
        const req = action(tx.objectStore(DB_STORE));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
  /** Remembers the device: {v: 1, slot, kek}, and with a v2 slot `now`, the page id and
   *  the `now` chunk's file id of the child a remembered opening shows first (children[0]),
   *  so that the next opening fetches that chunk together with the slot. */
  async function rememberDevice(slot, kek, children) {
    let now = null;
    const first = children && children[0];
    if (first && first.v === 2) {
      try {
        now = { page: first.page, id: (await chunkKey(first, 'now')).id };
      } catch { /* remembered without it */ }
    }
    const rec = now ? { v: 1, slot, kek, now } : { v: 1, slot, kek };
    return inStore('readwrite', (s) => s.put(rec, recordKey()));
  }
  const forgetDevice = async () => {
    await inStore('readwrite', (s) => s.delete(recordKey()));
    await forgetSeen();
  };
  async function readDevice() {
    const rec = await inStore('readonly', (s) => s.get(recordKey()));
    if (rec === undefined) return null;
    const ok = rec && rec.v === 1 && typeof rec.slot === 'string' && HEX32.test(rec.slot) &&
      rec.kek instanceof CryptoKey && rec.kek.algorithm && rec.kek.algorithm.name === 'AES-GCM' &&
      rec.kek.usages.includes('decrypt');
    if (!ok) {
      await forgetDevice();
      return null;
    }
    const now = rec.now && typeof rec.now === 'object' && HEX32.test(rec.now.page || '') &&
      HEX32.test(rec.now.id || '') ? { page: rec.now.page, id: rec.now.id } : null;
    return { slot: rec.slot, kek: rec.kek, now };
  }

  /** The `now` chunk fetched while the slot is (a remembered device's `now` hint):
   *  { id, file: promise of the bytes }, taken by the first openChunk of that id. */
  let prefetched = null;
  function prefetchNow(now) {
    const file = fetchBytes('c/' + now.id + '.bin', now.page);
    // Handled by whoever takes it; a prefetch nobody takes (the slot is gone) fails quietly.
    file.catch(() => undefined);
    prefetched = { id: now.id, file };
  }

  // ---- What is new since the last visit (IndexedDB store `seen`, docs/access.md) ---------
  // One record per diary folder (recordKey()): {v: 1, children: {<page>: {at, fp}}} with
  // `at` the time of the child's last visit (ms since 1970) and `fp` the fingerprints of
  // everything the diary showed then: HMAC-SHA256 of an item's identity under a key derived
  // from the child's key (so they say nothing without the code), 9 bytes, base64. Kept only
  // on a remembered device, and only on it; "forget this device" clears it.
  const SEEN_STORE = 'seen';
  const SEEN_INFO = 'diary/seen/v1/';
  const FP = /^[A-Za-z0-9+/]{12}$/;
  const SEEN_MAX_CHILDREN = 12;
  const SEEN_MAX_AGE = 400 * 86400000;
  const SEEN_TIMEOUT = 3000;
  /** Set when this browser refused to keep the remembered device. */
  let storageRefused = false;

  /** Like inStore, on the `seen` store. */
  async function inSeen(mode, action) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(SEEN_STORE, mode);
        const req = action(tx.objectStore(SEEN_STORE));
        tx.oncomplete = () => resolve(req && req.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
  /** A promise that gives up after SEEN_TIMEOUT (a storage that never answers). */
  function inTime(promise) {
    let timer;
    const limit = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), SEEN_TIMEOUT);
    });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  }
  async function forgetSeen() {
    try {
      await inSeen('readwrite', (s) => s.delete(recordKey()));
    } catch { /* nothing kept */ }
  }
  /** The children's entries of a stored record; anything of another shape (an old or
   *  unknown format) is none, and is replaced at the next save. */
  function seenEntries(rec) {
    const out = new Map();
    if (!rec || typeof rec !== 'object' || rec.v !== 1 || !rec.children ||
        typeof rec.children !== 'object' || Array.isArray(rec.children)) {
      return out;
    }
    for (const [page, e] of Object.entries(rec.children)) {
      if (HEX32.test(page) && e && Number.isFinite(e.at) && e.at > 0 && Array.isArray(e.fp) &&
          e.fp.every((f) => typeof f === 'string' && FP.test(f))) {
        out.set(page, { at: e.at, fp: e.fp });
      }
    }
    return out;
  }
  const readSeen = async () => seenEntries(await inSeen('readonly', (s) => s.get(recordKey())));
  /** Stores what a child's diary shows now as seen, in one read-modify-write; entries of
   *  children not opened for over a year, and beyond the newest few, go. */
  function saveSeen(page, fp, at) {
    return inSeen('readwrite', (s) => {
      const get = s.get(recordKey());
      get.onsuccess = () => {
        const entries = seenEntries(get.result);
        entries.set(page, { at, fp });
        const kept = Array.from(entries)
          .filter(([, e]) => at - e.at < SEEN_MAX_AGE)
          .sort((a, b) => b[1].at - a[1].at)
          .slice(0, SEEN_MAX_CHILDREN);
        try {
          s.put({ v: 1, children: Object.fromEntries(kept) }, recordKey());
        } catch {
          // Refused at once (storage full, say): the transaction ends and the save fails.
          s.transaction.abort();
        }
      };
      return get;
    });
  }

  /** The key a child's fingerprints are made with: HKDF-SHA256 of the child's dek, salt 32
   *  zero bytes, info "diary/seen/v1/" + page, 32 bytes, as an HMAC-SHA256 key. */
  async function seenKey(child) {
    const bits = new Uint8Array(await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32),
        info: new TextEncoder().encode(SEEN_INFO + child.page) },
      child.key, 256));
    try {
      return await crypto.subtle.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' },
        false, ['sign']);
    } finally {
      bits.fill(0);
    }
  }
  async function fingerprint(key, id) {
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(id)));
    return btoa(String.fromCharCode(...mac.subarray(0, 9)));
  }

  const clean = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : '');
  /** "пн, 23 ноября Устный ответ" (a mark's title in the period table) → its date and the
   *  kind of work; "23 ноября" is the day and month every date of the diary spells alike. */
  const TITLE = /^([^,]*,\s*(\S+\s+\S+))\s*(.*)$/;
  const NEWS_ORDER = ['mark', 'absence', 'remark', 'homework', 'announcement', 'period'];

  /**
   * What a `now` chunk shows that a parent would call news, each with an identity made of
   * what the chunk holds (day, lesson number, subject, mark value, work type, text), the
   * words that describe it, and the elements of the diary that show it. A mark is one item
   * whether the week or the period table shows it; the n-th of identical items is told
   * apart by its count. Items with `hidden` only help tell a changed period mark.
   */
  function newsItems(article) {
    const items = new Map();
    const source = () => {
      const count = new Map();
      return (key, make, el) => {
        const n = count.get(key) || 0;
        count.set(key, n + 1);
        const id = key + '\u0001' + n;
        let item = items.get(id);
        if (!item) {
          item = Object.assign({ id, els: [] }, make());
          items.set(id, item);
        }
        if (el) item.els.push(el);
        return item;
      };
    };
    const week = source();
    for (const day of article.querySelectorAll('.dweeks section.day')) {
      const time = day.querySelector('h4 time');
      if (!time) continue;
      const iso = time.getAttribute('datetime') || '';
      const label = clean(time);
      const dayMonth = label.slice(label.indexOf(',') + 1).trim();
      for (const li of day.querySelectorAll('li.lesson')) {
        const subject = clean(li.querySelector('.subject'));
        const lesson = clean(li.querySelector('.num'));
        for (const m of li.querySelectorAll('p.marks .mark')) {
          const value = clean(m);
          const work = (m.getAttribute('title') || '').replace(/\s*×[\d.,]+$/, '').trim();
          const info = m.nextElementSibling && m.nextElementSibling.matches('.mark-info')
            ? m.nextElementSibling : m;
          week(['m', subject, value, (dayMonth + ' ' + work).trim()].join('\u0001'),
            () => ({ kind: 'mark', text: markLine(subject, value, work, label) }), info);
        }
        for (const att of li.querySelectorAll('.lhead .att')) {
          week(['a', iso, lesson, subject, att.className].join('\u0001'),
            () => ({ kind: 'absence', text: fill(msg('news-absence'),
              { subject, lesson, date: label, status: clean(att) }) }), att);
        }
        for (const hw of li.querySelectorAll('div.hw:not(.due)')) {
          const text = clean(hw.querySelector('.hwtext'));
          week(['h', iso, lesson, subject, text].join('\u0001'),
            () => ({ kind: 'homework', text: fill(msg('news-homework'),
              { subject, date: label, text }) }), hw);
        }
      }
      for (const r of day.querySelectorAll('ul.remarks li.remark')) week(remarkKey(r), () => remarkItem(r), r);
    }
    const listed = source();
    for (const r of article.querySelectorAll('.remarks-list li.remark')) {
      listed(remarkKey(r), () => remarkItem(r), r);
    }
    const table = source();
    for (const period of article.querySelectorAll('details.period')) {
      const summary = period.querySelector('summary');
      const periodKey = clean(summary);
      const name = summary && summary.firstChild
        ? summary.firstChild.textContent.replace(/\s+/g, ' ').trim() : periodKey;
      for (const row of period.querySelectorAll('tbody tr')) {
        const subject = clean(row.querySelector('th'));
        for (const m of row.querySelectorAll('td.mlist .mark')) {
          const value = clean(m);
          const t = (m.getAttribute('title') || '').replace(/\s+/g, ' ').trim().match(TITLE);
          if (!t) continue;
          const work = t[3].trim();
          table(['m', subject, value, (t[2] + ' ' + work).trim()].join('\u0001'),
            () => ({ kind: 'mark', text: markLine(subject, value, work, t[1]) }), null);
        }
        const cells = row.querySelectorAll('td');
        const final = cells.length ? cells[cells.length - 1].querySelector(':scope > strong') : null;
        if (!final) continue;
        const mark = clean(final);
        const slot = ['P', periodKey, subject].join('\u0001');
        table(slot, () => ({ kind: 'period', hidden: true }), null);
        table(['p', periodKey, subject, mark].join('\u0001'),
          () => ({ kind: 'period', slot: slot + '\u00010', text: { period: name, subject, mark } }),
          final.parentElement);
      }
    }
    const news = source();
    for (const a of article.querySelectorAll('section[aria-labelledby="child-news"] li, ' +
      'section[aria-labelledby="child-news"] article.card')) {
      const title = clean(a.querySelector('a, h3'));
      const when = a.querySelector('time');
      news(['n', title, when ? when.getAttribute('datetime') || '' : ''].join('\u0001'),
        () => ({ kind: 'announcement', text: fill(msg('news-announcement'),
          { title, date: clean(when) }) }), a);
    }
    return Array.from(items.values());
  }
  function markLine(subject, mark, work, date) {
    return fill(msg(work ? 'news-mark-work' : 'news-mark'), { subject, mark, work, date });
  }
  const remarkKey = (r) => 'r\u0001' + clean(r);
  function remarkItem(r) {
    const by = clean(r.querySelector('.muted'));
    return { kind: 'remark', text: fill(msg('news-remark'), {
      kind: clean(r.querySelector('.badge')), date: clean(r.querySelector('.when')),
      text: clean(r.querySelector('.rtext')) + (by ? ' ' + by : '') }) };
  }

  /** A moment spelled in the page's language ("2 декабря, 18:40"), the year only when it
   *  is not this one. */
  function spellMoment(ms) {
    const d = new Date(ms);
    const opts = { day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' };
    if (d.getFullYear() !== new Date().getFullYear()) opts.year = 'numeric';
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, opts).format(d);
    } catch {
      return d.toISOString().slice(0, 16).replace('T', ' ');
    }
  }

  /** A short line under the child's name (the feature is off here, and why). */
  function newsNote(article, text) {
    const old = article.querySelector('.whatsnew-note');
    if (old) old.remove();
    if (!text) return;
    const p = document.createElement('p');
    p.className = 'hint whatsnew-note';
    p.textContent = text;
    const head = article.querySelector('.child-head');
    if (head) head.after(p);
    else article.prepend(p);
  }

  /**
   * Before a child's diary is shown: what is new in it since this device last showed it.
   * Puts the "new since" list under the child's name and a badge on each new item, then
   * keeps what it shows as seen. A first visit lists nothing and keeps everything as seen.
   * Never fails: a storage that refuses, is full or does not answer leaves the diary as it
   * is with a note that "what is new" is unavailable here. State: diary.news.
   */
  async function addNews(child, diary, remembered) {
    if (!diary || child.v !== 2 || diary.news === 'shown' || diary.news === 'working') return;
    const article = diary.article;
    if (!hasIndexedDB || storageRefused) {
      newsUnavailable(diary);
      return;
    }
    if (!remembered) {
      diary.news = 'off';
      article.setAttribute('data-news', 'off');
      newsNote(article, msg('news-hint'));
      return;
    }
    diary.news = 'working';
    try {
      const items = newsItems(article);
      const key = await seenKey(child);
      const fps = await Promise.all(items.map((i) => fingerprint(key, i.id)));
      const stored = (await inTime(readSeen())).get(child.page);
      const at = Date.now();
      newsNote(article, '');
      if (stored) {
        const seen = new Set(stored.fp);
        const fresh = items.filter((item, i) => !item.hidden && !seen.has(fps[i]));
        const had = new Set(items.filter((item, i) => item.hidden && seen.has(fps[i])).map((i) => i.id));
        if (fresh.length) showNews(child, diary, fresh, had, stored.at);
      }
      diary.news = 'shown';
      diary.seen = { fp: Array.from(new Set(fps)) };
      // What is shown now counts as seen at the next visit.
      await inTime(saveSeen(child.page, diary.seen.fp, at));
      article.setAttribute('data-news', stored ? 'seen' : 'first');
    } catch {
      newsUnavailable(diary);
    }
  }
  function newsUnavailable(diary) {
    diary.news = 'unavailable';
    diary.article.setAttribute('data-news', 'unavailable');
    newsNote(diary.article, msg('news-unavailable'));
  }

  const NEWS_SHOWN = 8;
  /** The "new since" list and the badges. */
  function showNews(child, diary, fresh, had, since) {
    const article = diary.article;
    const section = document.createElement('section');
    section.className = 'whatsnew';
    section.setAttribute('aria-labelledby', 'whatsnew-h');
    const h = document.createElement('h3');
    h.id = 'whatsnew-h';
    h.textContent = fill(msg('news-title'), { date: spellMoment(since) });
    const list = document.createElement('ul');
    const sorted = fresh.slice().sort((a, b) => NEWS_ORDER.indexOf(a.kind) - NEWS_ORDER.indexOf(b.kind));
    sorted.forEach((item, i) => {
      const li = document.createElement('li');
      li.className = 'whatsnew-' + item.kind;
      li.textContent = item.kind === 'period'
        ? fill(msg(had.has(item.slot) ? 'news-period-changed' : 'news-period'), item.text)
        : item.text;
      if (i >= NEWS_SHOWN) li.hidden = true;
      list.append(li);
      for (const el of item.els) badge(el);
    });
    const actions = document.createElement('p');
    actions.className = 'whatsnew-actions';
    if (sorted.length > NEWS_SHOWN) {
      const more = document.createElement('button');
      more.type = 'button';
      more.className = 'whatsnew-more';
      more.textContent = fill(msg('news-more'), { n: String(sorted.length - NEWS_SHOWN) });
      more.addEventListener('click', () => {
        for (const li of list.children) li.hidden = false;
        more.remove();
        const first = list.children[NEWS_SHOWN];
        if (first) {
          first.tabIndex = -1;
          first.focus();
        }
      });
      actions.append(more);
    }
    const done = document.createElement('button');
    done.type = 'button';
    done.className = 'whatsnew-seen';
    done.textContent = msg('news-seen');
    done.addEventListener('click', () => markAllSeen(child, diary));
    actions.append(done);
    section.append(h, list, actions);
    const head = article.querySelector('.child-head');
    if (head) head.after(section);
    else article.prepend(section);
  }
  function badge(el) {
    const b = document.createElement('span');
    b.className = 'new-badge';
    b.textContent = msg('news-badge');
    if (el.matches('li, div, td, article')) el.append(' ', b);
    else el.after(' ', b);
  }
  /** "Mark all as seen": the list and the badges go, and this moment is the last visit. */
  function markAllSeen(child, diary) {
    const article = diary.article;
    for (const b of article.querySelectorAll('.new-badge')) {
      const before = b.previousSibling;
      if (before && before.nodeType === Node.TEXT_NODE && before.textContent === ' ') before.remove();
      b.remove();
    }
    const section = article.querySelector('.whatsnew');
    if (section) section.remove();
    const heading = article.querySelector('h2');
    if (heading) heading.focus();
    say(msg('news-cleared'));
    if (session && session.remembered && diary.seen) {
      inTime(saveSeen(child.page, diary.seen.fp, Date.now())).catch(() => newsUnavailable(diary));
    }
  }

  // ---- Offline copy (Cache Storage; docs/access.md "On this device") -------------------
  // On a remembered device, the sealed files an opening fetched (the family's slot, each
  // chunk or page file) are stored exactly as the host served them, in one cache for the
  // family: "diary-data:" + this folder's path + slot. The service worker (sw.js) answers
  // from it only when the network fails, and marks such answers "X-Diary-Offline". The
  // cache is deleted when the host says the slot is gone, when the device is forgotten, and
  // when another family is remembered here. Ciphertext only: none of it opens without the
  // key kept in IndexedDB.
  const hasCaches = (() => {
    try {
      return typeof window.caches === 'object' && window.caches !== null;
    } catch {
      return false;
    }
  })();
  const OFFLINE_PREFIX = 'diary-data:';
  const SEALED_PATH = /^(k|c|p)\/[0-9a-f]{32}\.bin$/;
  /** The sealed files fetched from the network since the opening began and not yet stored:
   *  url → { bytes, owner }. */
  let offlineSeen = new Map();
  /** null while everything shown came from the network; else when the saved copy was
   *  stored ('' when unknown). */
  let offlineFrom = null;
  /** Whether this opening fetched the slot from the network (then it is the host's list of
   *  children, and saved files of other children can go). */
  let slotOnline = false;

  function offlineBegin() {
    offlineSeen = new Map();
    offlineFrom = null;
    slotOnline = false;
  }

  /** fetchBytes tells of each file it got. */
  function offlineSaw(path, bytes, res, owner) {
    if (!SEALED_PATH.test(path)) return;
    if (res.headers.get('x-diary-offline')) {
      const when = res.headers.get('x-diary-cached') || '';
      if (offlineFrom === null || (when && when < offlineFrom)) offlineFrom = when;
      return;
    }
    if (path.startsWith('k/')) slotOnline = true;
    offlineSeen.set(new URL(path, location.href).href, { bytes, owner: owner || '' });
  }

  /** The saved copy's caches of this diary folder: [cache name, slot]. */
  async function offlineCaches() {
    const prefix = OFFLINE_PREFIX + recordKey();
    return (await caches.keys())
      .filter((n) => n.startsWith(prefix) && HEX32.test(n.slice(prefix.length)))
      .map((n) => [n, n.slice(prefix.length)]);
  }

  /** Stores what was fetched into the family's saved copy (on a remembered device only). */
  async function offlineKeep() {
    if (!hasCaches || !session || !session.remembered) return;
    const s = session;
    const files = offlineSeen;
    offlineSeen = new Map();
    try {
      // One family per diary folder: the one remembered.
      for (const [name, slot] of await offlineCaches()) {
        if (slot !== s.slot) await caches.delete(name);
      }
      const cache = await caches.open(OFFLINE_PREFIX + recordKey() + s.slot);
      const stored = new Date().toISOString();
      for (const [url, f] of files) {
        await cache.put(url, new Response(f.bytes, { headers: {
          'Content-Type': 'application/octet-stream', 'X-Diary-Cached': stored,
          'X-Diary-Child': f.owner } }));
      }
      if (!s.remembered) {
        // Forgotten meanwhile: keep nothing.
        await caches.delete(OFFLINE_PREFIX + recordKey() + s.slot);
        return;
      }
      if (slotOnline) {
        // Files of a child this code no longer opens.
        const pages = new Set(s.children.map((c) => c.page));
        for (const req of await cache.keys()) {
          const res = await cache.match(req);
          const owner = res ? res.headers.get('x-diary-child') : '';
          if (owner && !pages.has(owner)) await cache.delete(req);
        }
      }
    } catch { /* storage full or refused: the diary works on, with a connection only */ }
  }

  /** Deletes the saved copy of one family (`slot`), or of every family (null). */
  async function offlineDrop(slot) {
    if (!hasCaches) return;
    try {
      for (const [name, s] of await offlineCaches()) {
        if (slot === null || s === slot) await caches.delete(name);
      }
    } catch { /* nothing stored */ }
  }

  /** "Data as of <date>, no connection" above the diary when it came from the saved copy:
   *  the date the diary was built for, else when it was stored. */
  function renderOffline(diary) {
    if (offlineFrom === null || !diary) {
      offlineNote.hidden = true;
      offlineNote.textContent = '';
      return;
    }
    const built = diary.article.getAttribute('data-built') || '';
    let day = null;
    if (DAY.test(built)) day = new Date(built + 'T00:00:00Z');
    else if (offlineFrom) day = new Date(offlineFrom);
    let date = '';
    if (day && !Number.isNaN(day.getTime())) {
      try {
        date = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
          { day: 'numeric', month: 'long', year: 'numeric', timeZone: DAY.test(built) ? 'UTC' : undefined })
          .format(day);
      } catch {
        date = day.toISOString().slice(0, 10);
      }
    }
    offlineNote.textContent = fill(msg('offline'), { date });
    offlineNote.hidden = false;
  }

  // ---- Printing one week ---------------------------------------------------------------
  // "Print this week" prints the week on screen: the page gets the class "print-week" until
  // the print is over, and diary.css (@media print) then shows the child's name, class and
  // date and that one week on an A4 page. The browser's own print menu prints the open diary
  // as it is (the week on screen, then every period's marks, opened by the beforeprint
  // handler below).
  function printWeek() {
    if (!session) return;
    document.documentElement.classList.add('print-week');
    window.print();
  }
  function printWeekDone() {
    document.documentElement.classList.remove('print-week');
  }

  // ---- Messages and busy state -----------------------------------------------------
  function say(text) {
    statusBox.textContent = text || '';
  }
  function showError(text) {
    errorBox.textContent = text || '';
  }
  function clearMessages() {
    say('');
    showError('');
    input.removeAttribute('aria-invalid');
  }
  let busy = false;
  function setBusy(on) {
    busy = on;
    submit.disabled = on;
    input.readOnly = on;
    statusBox.classList.toggle('busy', on);
    showProgress(on);
    if (on) app.setAttribute('aria-busy', 'true');
    else app.removeAttribute('aria-busy');
  }
  function failed(err) {
    const kind = err instanceof Stop ? err.kind : 'broken';
    return kind === 'gone' ? 'wrong' : kind;
  }

  // ---- The open diary --------------------------------------------------------------
  /** { slot, kek, children, current, remembered,
   *    diaries: Map<index, { article, parts }> } — a child's diary once opened, with the
   *  earlier parts it lists and what became of each, kept while the session lasts. */
  let session = null;
  /** The child last chosen in a two-children slot (page id); memory only. */
  let lastChosen = null;

  /** Lets wide tables scroll within their own box instead of widening the page. */
  function prepare(root) {
    for (const table of root.querySelectorAll('table')) {
      const wrap = document.createElement('div');
      wrap.className = 'tscroll';
      wrap.tabIndex = 0;
      const details = table.closest('details');
      const summary = details && details.querySelector('summary');
      const label = summary ? summary.textContent.replace(/\s+/g, ' ').trim() : '';
      if (label) {
        wrap.setAttribute('role', 'region');
        wrap.setAttribute('aria-label', label);
      }
      table.before(wrap);
      wrap.append(table);
    }
    const heading = root.querySelector('h2');
    if (heading) heading.tabIndex = -1;
    for (const title of root.querySelectorAll('.dweek-title')) title.tabIndex = -1;
    showTakes(root);
  }

  function weeks() {
    return Array.from(box.querySelectorAll('.dweek'));
  }
  const mondayOf = (w) => (w && w.getAttribute('data-week')) || '';
  /** Today on this device, as YYYY-MM-DD. */
  function deviceDay(offsetDays) {
    const d = new Date();
    d.setDate(d.getDate() + (offsetDays || 0));
    return [d.getFullYear(), String(d.getMonth() + 1).padStart(2, '0'),
      String(d.getDate()).padStart(2, '0')].join('-');
  }
  /**
   * The week the diary opens on: the one marked current, else the last one begun. Diaries
   * go out in batches (docs/access.md), so on a Monday morning the diary may still be the
   * one built on Sunday evening: when it was built at most two days ago and this device's
   * day falls in a later week that the diary holds, that week opens instead. Weeks of
   * earlier parts put before the others change nothing here: it goes by dates.
   */
  function homeWeek(list) {
    const today = deviceDay(0);
    const built = (box.querySelector('.child') || app).getAttribute('data-built') || '';
    let begun = 0;
    list.forEach((w, i) => {
      if (mondayOf(w) <= today) begun = i;
    });
    const marked = list.findIndex((w) => w.hasAttribute('data-current'));
    if (marked < 0) return begun;
    if (built && built >= deviceDay(-2) && begun > marked) return begun;
    return marked;
  }
  function shownWeek(list) {
    const i = list.findIndex((w) => !w.hidden);
    return i >= 0 ? i : homeWeek(list);
  }
  function showWeek(index, announce) {
    const list = weeks();
    if (list.length === 0) return;
    const i = Math.max(0, Math.min(list.length - 1, index));
    list.forEach((w, j) => { w.hidden = j !== i; });
    updateWeekButtons();
    if (announce) {
      const title = list[i].querySelector('.dweek-title');
      say(title ? title.textContent : '');
    }
  }

  // ---- Earlier parts of the year (v2) ----------------------------------------------
  /** A message with its {placeholders} filled in. */
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  /** The open child's diary ({ article, parts, firstNow }), or null. */
  function openedDiary() {
    return session ? session.diaries.get(session.current) || null : null;
  }
  /** The part not yet in the page that lies between the shown week and the next one the
   *  page holds in direction `dir` (-1 earlier, +1 later): the nearest such part. */
  function partBetween(list, i, dir) {
    const d = openedDiary();
    if (!d || list.length === 0) return null;
    const here = mondayOf(list[i]);
    const beyond = list[i + dir] ? mondayOf(list[i + dir]) : (dir < 0 ? '' : '9999-99-99');
    const gaps = d.parts.filter((p) => p.state !== 'loaded' && (dir < 0
      ? p.last < here && p.first > beyond
      : p.first > here && p.last < beyond));
    if (gaps.length === 0) return null;
    return dir < 0 ? gaps[gaps.length - 1] : gaps[0];
  }
  let partBusy = false;
  function setPartBusy(on, part) {
    partBusy = on;
    weekBar.classList.toggle('loading', on);
    if (on) {
      box.setAttribute('aria-busy', 'true');
      partStatus.textContent = fill(msg('part-loading'), { part: part.label });
    } else {
      box.removeAttribute('aria-busy');
      partStatus.textContent = '';
    }
    updateWeekButtons();
  }
  function updateWeekButtons() {
    const list = weeks();
    const i = shownWeek(list);
    prevButton.disabled = partBusy || (i <= 0 && !partBetween(list, i, -1));
    nextButton.disabled = partBusy || (i >= list.length - 1 && !partBetween(list, i, 1));
    nowButton.disabled = partBusy || i === homeWeek(list);
    for (const b of earlierList.querySelectorAll('button')) b.disabled = partBusy;
  }

  /**
   * Puts an earlier part's weeks into the open child's diary: fetches and opens its chunk
   * (once per child and session), checks it is one section.dpart of that name, and inserts
   * its weeks among the others in date order. Resolves true when the weeks are there; on
   * any failure leaves the diary as it was, says so beside the week bar and resolves false.
   */
  async function loadPart(part) {
    if (part.state === 'loaded') return true;
    if (partBusy || !session) return false;
    const s = session;
    const child = s.children[s.current];
    const diary = openedDiary();
    showPartError('');
    part.state = 'loading';
    setPartBusy(true, part);
    let incoming;
    try {
      const section = single(await openChunk(child, part.name), 'section.dpart');
      if (section.getAttribute('data-part') !== part.name) throw new Stop('broken');
      incoming = Array.from(section.querySelectorAll('section.dweek'));
      if (incoming.some((w) => !DAY.test(mondayOf(w)))) throw new Stop('broken');
      prepare(section);
    } catch (err) {
      // A damaged chunk stays damaged; a network failure may be tried again.
      part.state = failed(err) === 'network' ? 'new' : 'failed';
      part.error = failed(err);
      if (session === s) {
        setPartBusy(false);
        showPartError(partFailure(part));
      }
      return false;
    }
    const weeksBox = diary.article.querySelector('.dweeks');
    const have = new Set(Array.from(diary.article.querySelectorAll('.dweek'), mondayOf));
    for (const w of incoming) {
      if (have.has(mondayOf(w))) continue;
      w.hidden = true;
      w.removeAttribute('data-current');
      const after = Array.from(weeksBox.querySelectorAll('.dweek'))
        .find((o) => mondayOf(o) > mondayOf(w));
      if (after) after.before(w);
      else weeksBox.append(w);
      have.add(mondayOf(w));
    }
    part.state = 'loaded';
    offlineKeep();
    if (session === s) setPartBusy(false);
    return session === s && s.current === s.children.indexOf(child);
  }
  function partFailure(part) {
    return fill(msg(part.error === 'network' ? 'part-network' : 'part-broken'), { part: part.label });
  }
  function showPartError(text) {
    partError.textContent = text || '';
  }

  /** Shows the week that starts on `monday` (or the nearest the page holds). */
  function showMonday(monday, announce) {
    const list = weeks();
    let i = list.findIndex((w) => mondayOf(w) === monday);
    if (i < 0) {
      i = list.findIndex((w) => mondayOf(w) > monday);
      if (i < 0) i = list.length - 1;
    }
    showWeek(i, announce);
  }

  async function stepWeek(delta, button) {
    if (partBusy) return;
    showPartError('');
    const list = weeks();
    const i = shownWeek(list);
    const part = partBetween(list, i, delta);
    if (part) {
      if (part.state === 'failed') {
        showPartError(partFailure(part));
        return;
      }
      if (await loadPart(part)) showMonday(delta < 0 ? part.last : part.first, true);
    } else {
      showWeek(i + delta, true);
    }
    keepFocus(button);
  }
  /** A button disabled meanwhile (at an end, or while a part loads) drops focus: keep it
   *  in the week bar. */
  function keepFocus(button) {
    const lost = document.activeElement === button || document.activeElement === document.body ||
      document.activeElement === null;
    if (!lost) return;
    if (!button.disabled) {
      button.focus();
      return;
    }
    const other = [nextButton, prevButton, nowButton].find((b) => !b.disabled);
    if (other) other.focus();
  }

  /** One of the earlier parts listed under the week bar: its first week. */
  async function jumpToPart(part) {
    if (partBusy) return;
    showPartError('');
    if (part.state === 'failed') {
      showPartError(partFailure(part));
      return;
    }
    const button = document.activeElement;
    if (await loadPart(part)) showMonday(part.first, true);
    if (button instanceof HTMLButtonElement && earlierList.contains(button) &&
        (document.activeElement === document.body || document.activeElement === null)) {
      button.focus();
    }
  }

  /** The Monday a week after `monday` (both YYYY-MM-DD), as a date at UTC midnight. */
  function weekAfter(monday) {
    const [y, m, d] = monday.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d + 7));
  }
  /** A day spelled in the page's language ("23 ноября"). */
  function spell(day) {
    try {
      return dayFormat().format(day);
    } catch {
      return day.toISOString().slice(0, 10);
    }
  }

  /** The list of earlier parts under the week bar; the part that runs on into the weeks
   *  the diary opens with (the current term's beginning) says up to when. */
  function renderEarlier(diary) {
    earlierList.replaceChildren();
    showPartError('');
    const parts = diary ? diary.parts : [];
    for (const part of parts) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      const next = weekAfter(part.last);
      b.textContent = diary.firstNow === next.toISOString().slice(0, 10)
        ? fill(msg('part-until'), { part: part.label, date: spell(next) })
        : part.label;
      b.addEventListener('click', () => jumpToPart(part));
      li.append(b);
      earlierList.append(li);
    }
    earlierNav.hidden = parts.length === 0;
  }

  function renderKids() {
    kids.replaceChildren();
    if (!session || session.children.length < 2) {
      kids.hidden = true;
      return;
    }
    session.children.forEach((child, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = child.name;
      b.setAttribute('aria-pressed', String(i === session.current));
      b.addEventListener('click', () => switchChild(i));
      kids.append(b);
    });
    kids.hidden = false;
  }

  /** The device buttons and the note beside them (`note` overrides the usual one). */
  function renderDevice(note) {
    const remembered = Boolean(session && session.remembered);
    rememberNowButton.hidden = !hasIndexedDB || remembered;
    forgetButton.hidden = !remembered;
    deviceNote.textContent = note || (remembered ? msg('remembered') : '');
  }

  /** Puts a child's diary in the page, with the week bar above its weeks. */
  function place(diary) {
    const article = diary.article;
    const weeksBox = article.querySelector('.dweeks');
    if (weeksBox && weeksBox.querySelector('.dweek')) {
      weeksBox.before(weekBar);
      weekBar.hidden = false;
    } else {
      weekBar.hidden = true;
      view.insertBefore(weekBar, box);
    }
    box.replaceChildren(article);
    renderEarlier(weekBar.hidden ? null : diary);
    if (!weekBar.hidden) showWeek(shownWeek(weeks()), false);
  }

  /** Shows a fully opened diary; until here nothing on the page changed. */
  function commit(next, diary) {
    session = next;
    lastChosen = next.children[next.current].page;
    clearMessages();
    input.value = '';
    form.hidden = true;
    view.hidden = false;
    app.classList.add('open');
    renderKids();
    place(diary);
    renderDevice();
    renderOffline(diary);
    // Caching the files for offline use waits until the week is painted.
    afterPaint().then(offlineKeep);
    const heading = diary.article.querySelector('h2');
    if (heading) heading.focus();
  }

  function showForm() {
    if (!session) {
      view.hidden = true;
      app.classList.remove('open');
      form.hidden = false;
    }
  }

  function startIndex(children) {
    const i = children.findIndex((c) => c.page === lastChosen);
    return i >= 0 ? i : 0;
  }

  async function unlockWithCode(typed, remember) {
    if (busy) return;
    clearMessages();
    const code = normalizeCode(typed);
    if (!code) {
      showForm();
      input.setAttribute('aria-invalid', 'true');
      showError(msg('invalid'));
      input.focus();
      return;
    }
    setBusy(true);
    offlineBegin();
    say(msg('checking'));
    mark('open');
    try {
      const params = await loadParams();
      mark('params');
      const { slot, kek } = await derive(code, params);
      mark('derived');
      say(msg('opening'));
      const children = await openSlot(slot, kek);
      mark('slot');
      const current = startIndex(children);
      const diary = await openDiary(children[current]);
      setBusy(false);
      const next = { slot, kek, children, current, remembered: false,
        diaries: new Map([[current, diary]]) };
      commit(next, diary);
      mark('shown');
      // Remembered once the diary shows: writing to IndexedDB takes a while on a slow phone.
      if (remember && hasIndexedDB) {
        try {
          await rememberDevice(slot, kek, children);
          next.remembered = true;
          if (session === next) {
            renderDevice();
            // The files this opening fetched go into the family's offline copy now.
            offlineKeep();
          }
        } catch {
          storageRefused = true;
          if (session === next) renderDevice(msg('no-storage'));
        }
      }
      // What is new shows once the device is remembered (a typed code on a device that
      // keeps nothing lists nothing and stores nothing).
      if (session === next) await addNews(children[current], diary, next.remembered);
    } catch (err) {
      setBusy(false);
      const kind = failed(err);
      showForm();
      if (kind === 'wrong') input.setAttribute('aria-invalid', 'true');
      say('');
      showError(msg(kind));
      input.focus();
    }
  }

  /** How long a remembered device's opening goes before the page says "opening…". */
  const OPENING_NOTE_MS = 300;
  async function unlockRemembered(rec) {
    if (busy) return;
    // Busy at once, but said so on the page only when the opening takes a while: a phone
    // that opens the diary in a moment goes from the form straight to the week, without
    // laying out and painting the page once more in between.
    busy = true;
    const slow = setTimeout(() => {
      setBusy(true);
      form.hidden = true;
      say(msg('opening'));
    }, OPENING_NOTE_MS);
    offlineBegin();
    mark('open');
    if (rec.now) prefetchNow(rec.now);
    try {
      const children = await openSlot(rec.slot, rec.kek);
      mark('slot');
      const current = startIndex(children);
      const diary = await openDiary(children[current]);
      // A hint not taken (none yet, or the child's keys changed) is put right for next time.
      const stale = !rec.now || (prefetched !== null && prefetched.id === rec.now.id);
      prefetched = null;
      clearTimeout(slow);
      setBusy(false);
      const next = { slot: rec.slot, kek: rec.kek, children, current, remembered: true,
        diaries: new Map([[current, diary]]) };
      commit(next, diary);
      mark('shown');
      // What is new goes in once the week is painted: reading what was seen and
      // fingerprinting what is shown takes a while on a slow phone.
      await afterPaint();
      if (session === next) await addNews(children[current], diary, true);
      if (stale && session === next && next.remembered) {
        rememberDevice(rec.slot, rec.kek, children).catch(() => undefined);
      }
    } catch (err) {
      prefetched = null;
      clearTimeout(slow);
      setBusy(false);
      say('');
      showForm();
      if (err instanceof Stop && err.kind === 'gone') {
        // The code was revoked: this device's key opens nothing any more.
        try {
          await forgetDevice();
        } catch { /* nothing stored after all */ }
        showError(msg('expired'));
      } else {
        showError(msg(failed(err)));
      }
    }
  }

  async function switchChild(i) {
    if (busy || partBusy || !session || i === session.current) return;
    const s = session;
    showError('');
    setBusy(true);
    say(msg('opening'));
    try {
      const diary = s.diaries.get(i) || await openDiary(s.children[i]);
      await addNews(s.children[i], diary, s.remembered);
      setBusy(false);
      if (session !== s) return;
      s.diaries.set(i, diary);
      s.current = i;
      lastChosen = s.children[i].page;
      place(diary);
      renderOffline(diary);
      offlineKeep();
      for (const [j, b] of Array.from(kids.children).entries()) {
        b.setAttribute('aria-pressed', String(j === i));
      }
      const heading = diary.article.querySelector('h2');
      say(heading ? heading.textContent : s.children[i].name);
    } catch (err) {
      setBusy(false);
      say('');
      showError(msg(failed(err)));
    }
  }

  function close() {
    session = null;
    partBusy = false;
    weekBar.classList.remove('loading');
    partStatus.textContent = '';
    showPartError('');
    box.removeAttribute('aria-busy');
    app.classList.remove('open');
    box.replaceChildren();
    view.insertBefore(weekBar, box);
    weekBar.hidden = true;
    earlierList.replaceChildren();
    kids.replaceChildren();
    renderOffline(null);
    offlineBegin();
    printWeekDone();
    clearMessages();
    showForm();
    say(msg('closed'));
    input.focus();
  }

  /** A code from a QR link (#c=CODE), taken out of the address at once. */
  function takeCodeFromAddress() {
    const hash = location.hash;
    if (!hash.startsWith('#c=')) return null;
    let code = hash.slice(3).split('&')[0];
    try {
      code = decodeURIComponent(code);
    } catch { /* use it as it is */ }
    history.replaceState(history.state, '', location.pathname + location.search);
    return code;
  }

  // ---- Progress while the code is checked and the diary opened ------------------------
  // PBKDF2 takes a second or more on a slow phone. WebCrypto derives off the main thread,
  // so the bar's CSS animation keeps moving meanwhile; with prefers-reduced-motion the bar
  // stands still and the seconds beside it count up instead (diary.css). The page's own
  // timings go to the browser's performance timeline as marks named "diary:<step>"
  // (no data, only when each step ended), for the tests and for anyone profiling a phone.
  const progress = $('diary-progress');
  const progressElapsed = $('diary-progress-elapsed');
  let progressTimer = null;
  /** Resolves once the frame after this task has been painted (the task after the next
   *  animation frame's rendering), or after a second in a tab that is not painting. */
  function afterPaint() {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 1000);
      const painted = () => {
        clearTimeout(timer);
        resolve();
      };
      if (typeof window.requestAnimationFrame !== 'function') return;
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = painted;
        ch.port2.postMessage(0);
      });
    });
  }
  function mark(step) {
    try {
      performance.mark('diary:' + step);
    } catch { /* no performance timeline: nothing to record */ }
  }
  function showProgress(on) {
    if (!progress) return;
    clearInterval(progressTimer);
    progressTimer = null;
    progress.hidden = !on;
    if (!on) return;
    const started = Date.now();
    const tick = () => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      if (progressElapsed) progressElapsed.textContent = fill(msg('elapsed'), { s: String(seconds) });
    };
    tick();
    progressTimer = setInterval(tick, 1000);
  }
  /** The page's date format ("23 ноября"), made once: the first one takes a slow phone
   *  tens of milliseconds (the browser loads its language data). */
  let dayFormatter = null;
  function dayFormat() {
    if (!dayFormatter) {
      dayFormatter = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
        { day: 'numeric', month: 'long', timeZone: 'UTC' });
    }
    return dayFormatter;
  }
  /** An Intl formatter (`kind`: 'NumberFormat', 'PluralRules', 'ListFormat'), made once per
   *  language and options: making one takes a slow phone milliseconds each time, and the
   *  panel of what it takes spells dozens of numbers. Throws when the browser lacks it. */
  const formatters = new Map();
  function intl(kind, lang, options) {
    const id = kind + ' ' + (lang || '') + ' ' + JSON.stringify(options || {});
    let f = formatters.get(id);
    if (!f) {
      f = new Intl[kind](lang, options);
      formatters.set(id, f);
    }
    return f;
  }
  /** Work the diary's first showing needs, done when the page is idle (waiting for the
   *  device's key, the network or the user), so that showing the diary does not wait for
   *  it and loading the page is not slowed by it. */
  function warmUp() {
    const lang = document.documentElement.lang || undefined;
    // One piece per idle moment, so that none holds up the page for long.
    const pieces = [
      () => dayFormat().format(new Date(0)),
      // The formatters of what it takes (takesText).
      () => intl('PluralRules', lang).select(1),
      () => intl('NumberFormat', lang, { minimumFractionDigits: 2, maximumFractionDigits: 2,
        useGrouping: false }).format(1),
      () => intl('NumberFormat', lang, { minimumFractionDigits: 0, maximumFractionDigits: 2,
        useGrouping: false }).format(1),
      () => intl('ListFormat', lang, { type: 'disjunction' }).format(['1', '2']),
    ];
    const next = () => {
      const piece = pieces.shift();
      if (!piece) return;
      try {
        piece();
      } catch { /* made, or not, when it is needed */ }
      later(next);
    };
    const later = (f) => {
      if (typeof window.requestIdleCallback === 'function') {
        window.requestIdleCallback(f, { timeout: 2000 });
      } else {
        setTimeout(f, 0);
      }
    };
    later(next);
  }
  /** params.json, fetched while the code is still being typed (or as soon as the form
   *  shows), so that tapping "open" starts deriving at once. */
  function prefetchParams() {
    loadParams().catch(() => { /* fetched again, and reported, on submit */ });
  }

  // ---- What it takes (the current period's panel) -------------------------------------
  // For each subject of the current period, under its marks table: the average, the mark
  // it rounds to, the fewest marks that lift it one step, what one more low mark would do,
  // and how many marks are still needed. The `now` chunk carries the rules on the current
  // period (<details data-takes-rules="{…}">) and each subject's marks on its row
  // (<tr data-takes="5 4*2 ~" data-takes-min="3">); takes.js computes (DiaryTakes), this
  // puts it in the page's words. Rows of a period mark the teacher has set carry nothing.
  // Grade 1 gets no rules, so no panel; a words-only subject gets no line.

  /** Plural-aware message: data-msg-<base>-<one|few|many|other> for `n`. */
  function takesPlural(base, n, lang) {
    let cat = 'other';
    try {
      cat = intl('PluralRules', lang).select(n);
    } catch { /* 'other' */ }
    return app.getAttribute('data-msg-' + base + '-' + cat) ||
      app.getAttribute('data-msg-' + base + '-other') || '';
  }

  /** The sentence for one subject, or '' when there is nothing to say. */
  function takesText(t, rules, lang) {
    const decimals = (n, digits) => {
      try {
        return intl('NumberFormat', lang, { minimumFractionDigits: digits,
          maximumFractionDigits: 2, useGrouping: false }).format(n);
      } catch {
        return n.toFixed(digits);
      }
    };
    // Averages as the marks table shows them: two decimals, rounded half up.
    const average = (a) => decimals(DiaryTakes.hundredths(a) / 100, 2);
    const numbers = msg('takes-numbers').split('|');
    const way = (o) => {
      const n = o.count <= numbers.length ? numbers[o.count - 1] : String(o.count);
      const text = fill(takesPlural('takes-way', o.count, lang), { n, mark: o.value });
      return rules.weights.length > 1
        ? fill(msg('takes-weight'), { way: text, weight: decimals(o.weight, 0) }) : text;
    };
    const parts = [];
    if (t.average === null) {
      parts.push(msg('takes-empty') + '.');
    } else {
      const text = fill(msg('takes-average'), { avg: average(t.average), mark: t.rounds_to });
      parts.push((t.next === null ? fill(msg('takes-top'), { text }) : text) + '.');
    }
    if (t.needed > 0) parts.push(fill(takesPlural('takes-need', t.needed, lang), { n: t.needed }));
    if (t.options.length) {
      let ways;
      try {
        ways = intl('ListFormat', lang, { type: 'disjunction' }).format(t.options.map(way));
      } catch {
        ways = t.options.map(way).join(', ');
      }
      parts.push(fill(msg('takes-reach'), { next: t.next, ways }));
    } else if (t.beyond_cap) {
      parts.push(fill(takesPlural('takes-beyond', rules.cap, lang), { next: t.next, n: rules.cap }));
    }
    if (t.one_low) {
      const low = t.one_low;
      parts.push(fill(msg(low.rounds_to === t.rounds_to ? 'takes-low-same' : 'takes-low-down'),
        { low: low.value, avg: average(low.average), mark: low.rounds_to }));
    }
    return parts.join(' ');
  }

  /** Puts the panel under the current period's table of `root` (a `now` chunk). */
  function showTakes(root) {
    if (typeof DiaryTakes !== 'object' || !DiaryTakes) return;
    for (const period of root.querySelectorAll('details[data-takes-rules]')) {
      let rules;
      try {
        rules = JSON.parse(period.getAttribute('data-takes-rules'));
      } catch {
        continue;
      }
      if (!rules || !Array.isArray(rules.weights)) continue;
      const lang = document.documentElement.lang || undefined;
      const lines = [];
      let anyMarks = false;
      for (const row of period.querySelectorAll('tr[data-takes]')) {
        const marks = DiaryTakes.parseMarks(row.getAttribute('data-takes'));
        const min = Number(row.getAttribute('data-takes-min'));
        if (!marks || !Number.isInteger(min)) continue;
        const t = DiaryTakes.whatItTakes(Object.assign({}, rules, { min_marks: min }), marks);
        if (!t) continue; // words only
        if (t.count > 0) anyMarks = true;
        const name = row.querySelector('th');
        lines.push({ subject: name ? name.textContent.trim() : '', text: takesText(t, rules, lang) });
      }
      if (lines.length === 0) continue;
      const panel = document.createElement('section');
      panel.className = 'takes';
      if (!anyMarks) {
        const quiet = document.createElement('p');
        quiet.className = 'muted small takes-quiet';
        quiet.textContent = msg('takes-quiet');
        panel.append(quiet);
      } else {
        const title = document.createElement('h4');
        title.id = 'takes-title';
        title.textContent = msg('takes-title');
        panel.setAttribute('aria-labelledby', title.id);
        const list = document.createElement('ul');
        for (const line of lines) {
          const li = document.createElement('li');
          const subject = document.createElement('strong');
          subject.textContent = line.subject;
          li.append(subject, ': ' + line.text);
          list.append(li);
        }
        const note = document.createElement('p');
        note.className = 'muted small';
        note.textContent = msg('takes-note');
        panel.append(title, list, note);
      }
      const table = period.querySelector('table');
      const after = table ? (table.closest('.tscroll') || table) : period.querySelector('summary');
      if (after) after.after(panel);
      else period.append(panel);
    }
  }

  // ---- Wiring -----------------------------------------------------------------------
  function start() {
    // Inside another site's frame, that site could overlay the form and read the code off
    // or show a diary under its own name: refuse to run at all.
    if (window.top !== window.self) {
      form.hidden = true;
      showError(msg('framed'));
      return;
    }
    const fromAddress = takeCodeFromAddress();
    const missing = missingFeature();
    if (missing) {
      input.disabled = true;
      rememberBox.disabled = true;
      submit.disabled = true;
      showError(msg(missing));
      return;
    }
    if (!hasIndexedDB) rememberRow.hidden = true;

    input.addEventListener('input', prefetchParams, { once: true });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      unlockWithCode(input.value, rememberBox.checked);
    });
    prevButton.addEventListener('click', () => stepWeek(-1, prevButton));
    nextButton.addEventListener('click', () => stepWeek(1, nextButton));
    nowButton.addEventListener('click', () => {
      if (partBusy) return;
      showPartError('');
      showWeek(homeWeek(weeks()), true);
      if (nowButton.disabled) (prevButton.disabled ? nextButton : prevButton).focus();
    });
    rememberNowButton.addEventListener('click', async () => {
      if (!session) return;
      try {
        await rememberDevice(session.slot, session.kek, session.children);
        session.remembered = true;
        for (const [i, d] of session.diaries) await addNews(session.children[i], d, true);
        renderDevice();
        offlineKeep();
        forgetButton.focus();
        say(msg('remembered'));
      } catch {
        storageRefused = true;
        const shown = openedDiary();
        if (shown && shown.news === 'off') newsUnavailable(shown);
        renderDevice(msg('no-storage'));
        say(msg('no-storage'));
      }
    });
    forgetButton.addEventListener('click', async () => {
      try {
        await forgetDevice();
      } catch { /* nothing was stored */ }
      await offlineDrop(null);
      if (session) session.remembered = false;
      renderDevice(msg('forgotten'));
      if (!rememberNowButton.hidden) rememberNowButton.focus();
      say(msg('forgotten'));
    });
    closeButton.addEventListener('click', close);
    window.addEventListener('hashchange', () => {
      const code = takeCodeFromAddress();
      if (code !== null) unlockWithCode(code, false);
    });
    printWeekButton.addEventListener('click', printWeek);
    window.addEventListener('afterprint', printWeekDone);
    // Print every period's table, not only the open ones.
    let opened = [];
    window.addEventListener('beforeprint', () => {
      opened = Array.from(box.querySelectorAll('details:not([open])'));
      for (const d of opened) d.open = true;
    });
    window.addEventListener('afterprint', () => {
      for (const d of opened) d.open = false;
      opened = [];
    });

    if (fromAddress !== null) {
      unlockWithCode(fromAddress, false).then(() => {
        if (!session) input.value = fromAddress;
      });
      warmUp();
      return;
    }
    if (hasIndexedDB) {
      readDevice()
        .then((rec) => {
          if (rec) return unlockRemembered(rec);
          prefetchParams();
          return offlineDrop(null);
        })
        .catch(() => { /* no storage here: the code form stays */ });
    } else {
      prefetchParams();
    }
    warmUp();
  }

  start();
})();
