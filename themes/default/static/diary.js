// The diary unlock page: opens a child's sealed diary in the browser, following access
// protocol v1 (docs/access.md; the Rust side is src/seal.rs). Plain JavaScript, no
// framework, no requests beyond this site's diary/ folder. Every text shown comes from the
// page's data-msg-* attributes, so this file holds no language of its own.
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
  const weekNav = $('diary-weeknav');
  const prevButton = $('diary-prev');
  const nowButton = $('diary-now');
  const nextButton = $('diary-next');
  const box = $('diary');
  const deviceNote = $('diary-device-state');
  const rememberNowButton = $('diary-remember-now');
  const forgetButton = $('diary-forget');
  const closeButton = $('diary-close');

  const msg = (name) => app.getAttribute('data-msg-' + name) || name;

  // ---- Protocol constants (docs/access.md, exact) --------------------------------------
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const CODE_LEN = 16;
  const NONCE_LEN = 12;
  const TAG_LEN = 16;
  const SLOT_AAD = 'diary/slot/v1/';
  const PAGE_AAD = 'diary/page/v1/';
  const HEX32 = /^[0-9a-f]{32}$/;

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

  /** The bytes of a file of the diary folder; null when the host says it is not there. */
  async function fetchBytes(path) {
    let res;
    try {
      res = await fetch(path, { cache: 'no-cache', credentials: 'same-origin' });
    } catch {
      throw new Stop('network');
    }
    // 403: what some object stores answer for a file that does not exist.
    if (res.status === 404 || res.status === 410 || res.status === 403) return null;
    if (!res.ok) throw new Stop('network');
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch {
      throw new Stop('network');
    }
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
    if (!file) throw new Stop('gone');
    const plain = await openSealed(kek, file, SLOT_AAD + slot);
    let data;
    try {
      data = JSON.parse(utf8(plain));
    } catch {
      throw new Stop('broken');
    }
    plain.fill(0);
    if (!data || data.v !== 1 || !Array.isArray(data.children) || data.children.length === 0) {
      throw new Stop('broken');
    }
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
      const key = await importAesKey(raw);
      raw.fill(0);
      return { page: c.page, name: c.name, key };
    }));
  }

  /** p/<page>.bin → P = u32be(L) ‖ gzip(html)[L] ‖ zeros → the child's <article>,
   *  parsed but not yet in the document. */
  async function openPage(child) {
    const file = await fetchBytes('p/' + child.page + '.bin');
    if (!file) throw new Stop('broken');
    const p = await openSealed(child.key, file, PAGE_AAD + child.page);
    if (p.length < 4) throw new Stop('broken');
    const len = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, false);
    if (len > p.length - 4) throw new Stop('broken');
    let html;
    try {
      const gz = new Response(p.subarray(4, 4 + len)).body
        .pipeThrough(new DecompressionStream('gzip'));
      html = utf8(new Uint8Array(await new Response(gz).arrayBuffer()));
    } catch {
      throw new Stop('broken');
    }
    const template = document.createElement('template');
    template.innerHTML = html;
    const article = template.content.firstElementChild;
    if (!article || template.content.children.length !== 1 || !article.matches('article.child')) {
      throw new Stop('broken');
    }
    const node = document.adoptNode(article);
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
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(DB_STORE);
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
  const rememberDevice = (slot, kek) =>
    inStore('readwrite', (s) => s.put({ v: 1, slot, kek }, recordKey()));
  const forgetDevice = () => inStore('readwrite', (s) => s.delete(recordKey()));
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
    return rec;
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
    if (on) app.setAttribute('aria-busy', 'true');
    else app.removeAttribute('aria-busy');
  }
  function failed(err) {
    const kind = err instanceof Stop ? err.kind : 'broken';
    return kind === 'gone' ? 'wrong' : kind;
  }

  // ---- The open diary --------------------------------------------------------------
  /** { slot, kek, children, current, remembered, articles: Map<index, article> } */
  let session = null;
  /** The child last chosen in a two-children slot (page id); memory only. */
  let lastChosen = null;

  /** Lets wide tables scroll within their own box instead of widening the page. */
  function prepare(article) {
    for (const table of article.querySelectorAll('table')) {
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
    const heading = article.querySelector('h2');
    if (heading) heading.tabIndex = -1;
    for (const title of article.querySelectorAll('.dweek-title')) title.tabIndex = -1;
  }

  function weeks() {
    return Array.from(box.querySelectorAll('.dweek'));
  }
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
   * day falls in a later week that the diary holds, that week opens instead.
   */
  function homeWeek(list) {
    const today = deviceDay(0);
    const built = (box.querySelector('.child') || app).getAttribute('data-built') || '';
    let begun = 0;
    list.forEach((w, i) => {
      if ((w.getAttribute('data-week') || '') <= today) begun = i;
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
  function updateWeekButtons() {
    const list = weeks();
    const i = shownWeek(list);
    prevButton.disabled = i <= 0;
    nextButton.disabled = i >= list.length - 1;
    nowButton.disabled = i === homeWeek(list);
  }
  function stepWeek(delta, button) {
    const list = weeks();
    showWeek(shownWeek(list) + delta, true);
    // A button that just became disabled drops focus: keep it in the week bar.
    if (button.disabled) {
      const other = [nextButton, prevButton, nowButton].find((b) => !b.disabled);
      if (other) other.focus();
    }
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

  /** Puts a child's article in the page, with the week bar above its weeks. */
  function place(article) {
    const weeksBox = article.querySelector('.dweeks');
    if (weeksBox && weeksBox.querySelector('.dweek')) {
      weeksBox.before(weekNav);
      weekNav.hidden = false;
    } else {
      weekNav.hidden = true;
      view.insertBefore(weekNav, box);
    }
    box.replaceChildren(article);
    if (!weekNav.hidden) showWeek(shownWeek(weeks()), false);
  }

  /** Shows a fully opened diary; until here nothing on the page changed. */
  function commit(next, article) {
    session = next;
    lastChosen = next.children[next.current].page;
    clearMessages();
    input.value = '';
    form.hidden = true;
    view.hidden = false;
    app.classList.add('open');
    renderKids();
    place(article);
    renderDevice();
    const heading = article.querySelector('h2');
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
    say(msg('checking'));
    try {
      const params = await loadParams();
      const { slot, kek } = await derive(code, params);
      say(msg('opening'));
      const children = await openSlot(slot, kek);
      const current = startIndex(children);
      const article = await openPage(children[current]);
      let remembered = false;
      let storageFailed = false;
      if (remember && hasIndexedDB) {
        try {
          await rememberDevice(slot, kek);
          remembered = true;
        } catch {
          storageFailed = true;
        }
      }
      setBusy(false);
      commit({ slot, kek, children, current, remembered,
        articles: new Map([[current, article]]) }, article);
      if (storageFailed) renderDevice(msg('no-storage'));
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

  async function unlockRemembered(rec) {
    if (busy) return;
    setBusy(true);
    form.hidden = true;
    say(msg('opening'));
    try {
      const children = await openSlot(rec.slot, rec.kek);
      const current = startIndex(children);
      const article = await openPage(children[current]);
      setBusy(false);
      commit({ slot: rec.slot, kek: rec.kek, children, current, remembered: true,
        articles: new Map([[current, article]]) }, article);
    } catch (err) {
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
    if (busy || !session || i === session.current) return;
    const s = session;
    showError('');
    setBusy(true);
    say(msg('opening'));
    try {
      const article = s.articles.get(i) || await openPage(s.children[i]);
      setBusy(false);
      if (session !== s) return;
      s.articles.set(i, article);
      s.current = i;
      lastChosen = s.children[i].page;
      place(article);
      for (const [j, b] of Array.from(kids.children).entries()) {
        b.setAttribute('aria-pressed', String(j === i));
      }
      const heading = article.querySelector('h2');
      say(heading ? heading.textContent : s.children[i].name);
    } catch (err) {
      setBusy(false);
      say('');
      showError(msg(failed(err)));
    }
  }

  function close() {
    session = null;
    app.classList.remove('open');
    box.replaceChildren();
    view.insertBefore(weekNav, box);
    weekNav.hidden = true;
    kids.replaceChildren();
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

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      unlockWithCode(input.value, rememberBox.checked);
    });
    prevButton.addEventListener('click', () => stepWeek(-1, prevButton));
    nextButton.addEventListener('click', () => stepWeek(1, nextButton));
    nowButton.addEventListener('click', () => {
      showWeek(homeWeek(weeks()), true);
      if (nowButton.disabled) (prevButton.disabled ? nextButton : prevButton).focus();
    });
    rememberNowButton.addEventListener('click', async () => {
      if (!session) return;
      try {
        await rememberDevice(session.slot, session.kek);
        session.remembered = true;
        renderDevice();
        forgetButton.focus();
        say(msg('remembered'));
      } catch {
        renderDevice(msg('no-storage'));
        say(msg('no-storage'));
      }
    });
    forgetButton.addEventListener('click', async () => {
      try {
        await forgetDevice();
      } catch { /* nothing was stored */ }
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
      return;
    }
    if (hasIndexedDB) {
      readDevice()
        .then((rec) => (rec ? unlockRemembered(rec) : undefined))
        .catch(() => { /* no storage here: the code form stays */ });
    }
  }

  start();
})();
