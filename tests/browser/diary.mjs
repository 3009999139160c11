// The diary unlock page (access protocol v2, and v1 diaries still) in headless Chromium at
// phone width. Serves a built site on 127.0.0.1 and runs the scenarios below; prints a JSON
// report on stdout and exits 1 when any check failed.
//
// Usage: node diary.mjs CONFIG.json, where the config holds
//   public      the built site's public/ folder
//   tampered    an empty folder: made here a copy of `public` in which the `now` chunk of
//               `tamperedCode`'s child and the last earlier part of `one`'s child each have
//               a flipped byte (file names found from the codes, as docs/access.md shows)
//   v1          an empty folder: made here a copy of `public` in which `one`'s slot says
//               "v":1 and its child has a v1 page file p/<page>.bin ("Moving from v1")
//   one         {code, name}  a code that opens one child (name: the child's first name)
//   two         {code, names} a code that opens two children
//   remember    {code, name}  a one-child code remembered on the device, then revoked
//   tamperedCode {code, name} the code whose child's `now` chunk is damaged in `tampered`
//   grade1      {code, name}  a code that opens one grade 1 pupil
//   wrong       a well-formed code that was never issued
//   screenshot  where to save a PNG of an unlocked diary
//   pause       true: after the other scenarios, print "READY-FOR-REVOKE" on stderr and wait
//               for a line on stdin (the caller revokes `remember` and rebuilds meanwhile),
//               then check that the remembered device is told its code is no longer valid.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { launchChromium, servePlain } from './host.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node diary.mjs CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
const WAIT = 60_000;

/** A static server for `dir` on `host`; answers 404 for anything missing. */
const serve = (dir, host) => servePlain(dir, { host });

// ---- The protocol in Node (docs/access.md, "Worked example") ----------------------------
const enc = (t) => new TextEncoder().encode(t);
const normalize = (typed) => typed.toUpperCase().replace(/[ -]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
const aes = (raw, usage) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, [usage]);

/** A code's slot name, kek bytes and slot content, read from a copy of public/. */
async function readSlot(pub, typed) {
  const params = JSON.parse(fs.readFileSync(`${pub}/diary/params.json`, 'utf8'));
  const pass = await crypto.subtle.importKey('raw', enc(normalize(typed)), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: Buffer.from(params.salt, 'base64'), iterations: params.iterations },
    pass, 384));
  const slot = Buffer.from(bits.subarray(0, 16)).toString('hex');
  const kek = bits.slice(16);
  const file = fs.readFileSync(`${pub}/diary/k/${slot}.bin`);
  const plain = new Uint8Array(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: file.subarray(0, 12), additionalData: enc(`diary/slot/v1/${slot}`) },
    await aes(kek, 'decrypt'), file.subarray(12)));
  return { slot, kek, size: plain.length, content: JSON.parse(new TextDecoder().decode(plain)) };
}

/** A chunk's file (path below public/), key bytes and AAD. */
async function chunkOf(child, name) {
  const dek = await crypto.subtle.importKey('raw', Buffer.from(child.key, 'base64'), 'HKDF', false, ['deriveBits']);
  const info = `diary/chunk/v2/${child.page}/${name}`;
  const okm = new Uint8Array(await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: enc(info) }, dek, 384));
  return { file: `diary/c/${Buffer.from(okm.subarray(0, 16)).toString('hex')}.bin`, key: okm.slice(16), info };
}

/** A chunk's HTML. */
async function readChunk(pub, child, name) {
  const { file, key, info } = await chunkOf(child, name);
  const bytes = fs.readFileSync(path.join(pub, file));
  const p = Buffer.from(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.subarray(0, 12), additionalData: enc(info) }, await aes(key, 'decrypt'),
    bytes.subarray(12)));
  return zlib.gunzipSync(p.subarray(4, 4 + p.readUInt32BE(0))).toString('utf8');
}

/** The `<ol class="dparts">` of a `now` chunk (the build may write attributes unquoted). */
const DPARTS = /<ol\b[^>]*\bdparts\b[^>]*>[\s\S]*?<\/ol>/;
/** The earlier parts a `now` chunk lists, oldest first. */
function partsOf(html) {
  const list = html.match(DPARTS);
  if (!list) return [];
  const attr = (attrs, name) => {
    const m = attrs.match(new RegExp(`\\b${name}=(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`));
    return m ? m[1] ?? m[2] ?? m[3] : null;
  };
  return Array.from(list[0].matchAll(/<li\b([^>]*)>([^<]*)<\/li>/g), (m) => ({
    name: attr(m[1], 'data-part'), first: attr(m[1], 'data-first'), last: attr(m[1], 'data-last'),
    label: m[2].trim(),
  }));
}

function flipByte(file, at) {
  const bytes = fs.readFileSync(file);
  bytes[at] ^= 0x01;
  fs.writeFileSync(file, bytes);
}

async function sealWith(key, aad, plain) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: enc(aad) }, await aes(key, 'encrypt'), plain));
  return Buffer.concat([iv, sealed]);
}

/** The copy with damaged files: `tamperedCode`'s `now` chunk, `one`'s last earlier part. */
async function makeTampered(dir) {
  fs.cpSync(config.public, dir, { recursive: true });
  const child = (await readSlot(dir, config.tamperedCode.code)).content.children[0];
  flipByte(path.join(dir, (await chunkOf(child, 'now')).file), 40);
  const one = (await readSlot(dir, config.one.code)).content.children[0];
  const parts = partsOf(await readChunk(dir, one, 'now'));
  if (parts.length === 0) throw new Error('the diary of `one` lists no earlier part');
  const last = parts[parts.length - 1];
  flipByte(path.join(dir, (await chunkOf(one, last.name)).file), 40);
  return { part: last, parts };
}

/** The copy as version 1 left it for `one`: its slot says "v":1 (same name, kek, size) and
 *  its child has p/<page>.bin = nonce ‖ AES-256-GCM(dek, P, "diary/page/v1/" + page), P
 *  padded to a multiple of 4096, holding the `now` article without the earlier parts. */
async function makeV1(dir) {
  fs.cpSync(config.public, dir, { recursive: true });
  const { slot, kek, size, content } = await readSlot(dir, config.one.code);
  const child = content.children[0];
  const html = (await readChunk(dir, child, 'now')).replace(DPARTS, '');
  const gz = zlib.gzipSync(Buffer.from(html, 'utf8'));
  const p = Buffer.alloc(Math.ceil((4 + gz.length) / 4096) * 4096);
  p.writeUInt32BE(gz.length, 0);
  gz.copy(p, 4);
  fs.mkdirSync(path.join(dir, 'diary/p'), { recursive: true });
  fs.writeFileSync(path.join(dir, `diary/p/${child.page}.bin`),
    await sealWith(Buffer.from(child.key, 'base64'), `diary/page/v1/${child.page}`, p));
  const json = JSON.stringify({ v: 1, children: content.children });
  const plain = Buffer.alloc(size, 0x20);
  plain.write(json, 0, 'utf8');
  fs.writeFileSync(path.join(dir, `diary/k/${slot}.bin`), await sealWith(kek, `diary/slot/v1/${slot}`, plain));
}

const { part: tamperedPart, parts: oneParts } = await makeTampered(config.tampered);
await makeV1(config.v1);

const main = await serve(config.public, '127.0.0.1');
const damaged = await serve(config.tampered, '127.0.0.1');
const older = await serve(config.v1, '127.0.0.1');
// Another loopback address: a host that is not "localhost" to the page, so a missing
// crypto.subtle there reads as "needs https" (plain http on a real host).
const elsewhere = await serve(config.public, '127.0.0.2');
const local = [main.base, damaged.base, older.base, elsewhere.base];
const PAGE = '/diary/index.html';

const browser = await launchChromium();

const report = { ok: true, failures: [], unlockMs: null, qrUnlockMs: null, rememberedOpenMs: null,
  screenshot: null, scenarios: [] };

const NOT_FOUND = /Failed to load resource: the server responded with a status of 404/;

/** Runs one scenario in a fresh browser context (its own IndexedDB). */
async function scenario(name, run, { allow404 = false, keep = false, init = null } = {}) {
  // The site's service worker is blocked here: these scenarios follow the protocol's own
  // requests (routes slow or break them, which a worker's fetches would bypass); the
  // worker and the offline copy have their own scenarios (offline.mjs).
  const context = await browser.newContext({ viewport: { width: 360, height: 740 },
    serviceWorkers: 'block' });
  if (init) await context.addInitScript(init);
  const rec = { name, checks: 0, failures: [], consoleErrors: [], external: [], requests: [] };
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (local.some((b) => u.startsWith(b + '/')) || u.startsWith('data:')) {
      rec.requests.push(new URL(u).pathname);
      return route.continue();
    }
    rec.external.push(u);
    return route.abort();
  });
  const tab = await context.newPage();
  tab.setDefaultTimeout(WAIT);
  tab.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (allow404 && NOT_FOUND.test(m.text())) return; // the expected slot 404
    rec.consoleErrors.push(m.text());
  });
  tab.on('pageerror', (e) => rec.consoleErrors.push(String(e)));
  const check = (ok, what) => {
    rec.checks += 1;
    if (!ok) rec.failures.push(what);
  };
  try {
    await run({ tab, context, check, rec });
  } catch (e) {
    rec.failures.push('threw: ' + (e && e.stack ? e.stack : String(e)));
  }
  const finish = async () => {
    check(rec.consoleErrors.length === 0, 'no console errors');
    check(rec.external.length === 0, 'no external requests');
    if (rec.failures.length) {
      report.ok = false;
      for (const f of rec.failures) report.failures.push(`${name}: ${f}`);
    }
    report.scenarios.push(rec);
    await context.close();
  };
  if (keep) return { tab, context, check, rec, finish };
  await finish();
  return null;
}

// ---- Helpers on a tab ---------------------------------------------------------------
const message = (tab, key) => tab.getAttribute('#diary-app', `data-msg-${key}`);
const errorText = (tab) => tab.$eval('#diary-error', (e) => e.textContent);
const heading = (tab) => tab.$eval('#diary article.child h2', (e) => e.textContent).catch(() => null);

/** Waits until the page either shows a diary or an error; tells which. */
async function outcome(tab) {
  await tab.waitForFunction(() => {
    const h = document.querySelector('#diary-view:not([hidden]) #diary article.child h2');
    return (h && h.getBoundingClientRect().height > 0) ||
      document.getElementById('diary-error').textContent !== '';
  }, null, { timeout: WAIT, polling: 'raf' });
  return { heading: await heading(tab), error: await errorText(tab) };
}

async function open(tab, base = main.base, hash = '') {
  await tab.goto(base + PAGE + hash, { waitUntil: 'load' });
}

async function typeAndSubmit(tab, text) {
  await tab.fill('#diary-code', '');
  await tab.type('#diary-code', text);
  const t0 = Date.now();
  await tab.click('#diary-submit');
  return t0;
}

async function runAxe(tab) {
  await tab.evaluate(axeSource + ';0');
  return tab.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

const overflow = (tab) => tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** What IndexedDB holds, described without trusting it: every record's fields and types. */
const deviceRecords = (tab) => tab.evaluate(async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes('diary')) return { databases: names, records: [] };
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('diary');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const records = [];
  for (const storeName of Array.from(db.objectStoreNames)) {
    const all = await new Promise((ok, fail) => {
      const tx = db.transaction(storeName, 'readonly');
      const store = tx.objectStore(storeName);
      const values = store.getAll();
      const keys = store.getAllKeys();
      tx.oncomplete = () => ok(values.result.map((v, i) => ({ key: keys.result[i], value: v })));
      tx.onerror = () => fail(tx.error);
    });
    for (const { key, value } of all) {
      const fields = {};
      const strings = [];
      const walk = (v) => {
        if (typeof v === 'string') strings.push(v);
        else if (v && typeof v === 'object' && !(v instanceof CryptoKey)) Object.values(v).forEach(walk);
      };
      walk(value);
      let exportable = false;
      for (const [k, v] of Object.entries(value)) {
        if (v instanceof CryptoKey) {
          fields[k] = { cryptoKey: true, extractable: v.extractable, type: v.type,
            algorithm: v.algorithm.name, usages: v.usages };
          try {
            await crypto.subtle.exportKey('raw', v);
            exportable = true;
          } catch { /* as it should be */ }
        } else {
          fields[k] = { type: typeof v, length: typeof v === 'string' ? v.length : null };
        }
      }
      records.push({ store: storeName, key, fields, strings, exportable });
    }
  }
  db.close();
  return { databases: names, records, localStorage: localStorage.length, sessionStorage: sessionStorage.length };
});

/** Indexes of the visible week sections and the current one, once no part is loading. */
const weekState = async (tab) => {
  await tab.waitForFunction(() => !document.querySelector('#diary-weekbar.loading'));
  return tab.evaluate(() => {
  const weeks = Array.from(document.querySelectorAll('#diary .dweek'));
  return {
    count: weeks.length,
    visible: weeks.flatMap((w, i) => (w.hidden ? [] : [i])),
    shown: weeks.filter((w) => !w.hidden).map((w) => w.getAttribute('data-week')),
    current: weeks.findIndex((w) => w.hasAttribute('data-current')),
    prevDisabled: document.getElementById('diary-prev').disabled,
    nextDisabled: document.getElementById('diary-next').disabled,
    navInArticle: Boolean(document.querySelector('#diary article.child #diary-weeknav')),
  };
  });
};

/** The chunk files fetched so far, in order. */
const chunkRequests = (rec) => rec.requests.filter((p) => p.startsWith('/diary/c/'));
/** The buttons of the earlier parts under the week bar. */
const earlierButtons = (tab) => tab.$$eval('#diary-earlier:not([hidden]) #diary-earlier-list button',
  (bs) => bs.map((b) => b.textContent));

/** The code as a parent might type it: lowercase, spaces for dashes, o for 0, l for 1. */
const sloppy = (code) => code.toLowerCase().replaceAll('-', ' ').replaceAll('0', 'o').replaceAll('1', 'l');

// ---- Scenarios --------------------------------------------------------------------------
try {
  await scenario('locked page', async ({ tab, check }) => {
    await open(tab);
    const attrs = await tab.$eval('#diary-code', (i) => ({
      label: i.labels.length ? i.labels[0].textContent : '',
      autocomplete: i.getAttribute('autocomplete'), autocapitalize: i.getAttribute('autocapitalize'),
      inputmode: i.getAttribute('inputmode'), spellcheck: i.getAttribute('spellcheck'),
    }));
    check(attrs.label.length > 0 && attrs.autocomplete === 'off' && attrs.autocapitalize === 'characters' &&
      attrs.inputmode === 'text' && attrs.spellcheck === 'false', 'code input labelled and set up');
    check(await tab.$eval('#diary-remember', (i) => i.labels.length === 1), 'remember checkbox labelled');
    check(await tab.getAttribute('#diary-status', 'aria-live') === 'polite', 'status region is polite');
    check(await tab.getAttribute('#diary-error', 'role') === 'alert', 'error region is an alert');
    const axe = await runAxe(tab);
    check(axe.length === 0, 'axe on the code form: ' + JSON.stringify(axe));
    check(await overflow(tab) <= 0, 'no sideways scrolling at 360 px');
  });

  await scenario('typed code', async ({ tab, check, rec }) => {
    await open(tab);
    const t0 = await typeAndSubmit(tab, sloppy(config.one.code));
    const got = await outcome(tab);
    report.unlockMs = Date.now() - t0;
    rec.unlockMs = report.unlockMs;
    rec.heading = got.heading;
    check(got.error === '', 'no error: ' + got.error);
    check(got.heading && got.heading.includes(config.one.name), `heading names ${config.one.name}`);
    check(await tab.evaluate(() => document.activeElement && document.activeElement.matches('#diary article.child h2')),
      'focus on the diary heading');
    check(await tab.$eval('#diary-form', (f) => f.hidden), 'code form hidden');
    check(await tab.$eval('#diary-code', (i) => i.value === ''), 'code cleared from the input');
    check(await tab.$eval('#diary-kids', (n) => n.hidden), 'no child switcher for one child');

    // Weeks: exactly one shown; previous/next move; disabled at the ends; "this week" returns.
    let w = await weekState(tab);
    rec.weeks = w.count;
    check(w.navInArticle, 'week bar above the weeks');
    check(w.count > 1 && w.visible.length === 1 && w.visible[0] === w.current, 'current week shown');
    if (w.current > 0) {
      await tab.click('#diary-prev');
      w = await weekState(tab);
      check(w.visible.length === 1 && w.visible[0] === w.current - 1, 'previous week shown');
      await tab.click('#diary-now');
      w = await weekState(tab);
      check(w.visible.length === 1 && w.visible[0] === w.current, 'back to this week');
    }
    let guard = 0;
    while (!(await weekState(tab)).nextDisabled && guard++ < 60) await tab.click('#diary-next');
    w = await weekState(tab);
    check(w.visible.length === 1 && w.visible[0] === w.count - 1 && w.nextDisabled, 'next disabled on the last week');
    check(await tab.evaluate(() => document.activeElement && document.activeElement.tagName === 'BUTTON'),
      'focus stays in the week bar');
    while (!(await weekState(tab)).prevDisabled && guard++ < 120) await tab.click('#diary-prev');
    w = await weekState(tab);
    check(w.visible.length === 1 && w.visible[0] === 0 && w.prevDisabled, 'previous disabled on the first week');
    await tab.click('#diary-now');
    w = await weekState(tab);
    check(w.visible.length === 1 && w.visible[0] === w.current, '"this week" shows the current week');

    // Keyboard: Tab from the heading reaches the week bar.
    await tab.focus('#diary article.child h2');
    await tab.keyboard.press('Tab');
    check(await tab.evaluate(() => Boolean(document.activeElement.closest('#diary-weeknav'))), 'Tab reaches the week bar');

    const axe = await runAxe(tab);
    rec.axe = axe;
    check(axe.length === 0, 'axe on the unlocked diary: ' + JSON.stringify(axe));
    check(await overflow(tab) <= 0, 'no sideways scrolling at 360 px');
    check(await tab.evaluate(() => Array.from(document.querySelectorAll('#diary table'))
      .every((t) => t.parentElement.classList.contains('tscroll'))), 'tables scroll in their own box');
    await tab.evaluate(() => document.activeElement && document.activeElement.blur());
    await tab.screenshot({ path: config.screenshot });
    report.screenshot = config.screenshot;
    check(rec.requests.every((p) => !p.includes('#')), 'no code in any request');
  });

  await scenario('wrong and malformed codes', async ({ tab, check, rec }) => {
    await open(tab);
    await typeAndSubmit(tab, config.wrong);
    let got = await outcome(tab);
    check(got.heading === null, 'no diary for a wrong code');
    check(got.error === await message(tab, 'wrong'), 'wrong-code message: ' + got.error);
    check(rec.requests.some((p) => p.startsWith('/diary/k/')), 'the slot was looked up');
    check(await tab.getAttribute('#diary-code', 'aria-invalid') === 'true', 'input marked invalid');
    check(await tab.$eval('#diary', (d) => d.childElementCount === 0), 'nothing shown');
    check(await tab.$eval('#diary-view', (v) => v.hidden), 'diary view stays hidden');
    const axe = await runAxe(tab);
    check(axe.length === 0, 'axe on the error state: ' + JSON.stringify(axe));

    for (const bad of ['ABCD-EFGH-JKMN-PQRU', 'ABCD-EFGH-JKMN-PQR', 'ABCD-EFGH-JKMN-PQRST',
      'ABCD_EFGH_JKMN_PQRS', 'АБВГ-EFGH-JKMN-PQRS', 'ß' + config.wrong.slice(1)]) {
      const before = rec.requests.filter((p) => p.startsWith('/diary/k/')).length;
      await tab.evaluate(() => { document.getElementById('diary-error').textContent = ''; });
      await typeAndSubmit(tab, bad);
      got = await outcome(tab);
      check(got.error === await message(tab, 'invalid'), `invalid-code message for ${bad}: ${got.error}`);
      const after = rec.requests.filter((p) => p.startsWith('/diary/k/')).length;
      check(after === before, `no slot request for ${bad}`);
    }
  }, { allow404: true });

  await scenario('QR link', async ({ tab, check, rec }) => {
    const t0 = Date.now();
    await open(tab, main.base, '#c=' + config.one.code);
    const got = await outcome(tab);
    report.qrUnlockMs = Date.now() - t0;
    rec.unlockMs = report.qrUnlockMs;
    check(got.heading && got.heading.includes(config.one.name), 'QR link opens the diary: ' + got.error);
    const href = await tab.evaluate(() => location.href);
    check(!href.includes('#') && !href.includes(config.one.code), 'fragment gone from the address: ' + href);
    check(await tab.$eval('#diary-code', (i) => i.value === ''), 'code not left in the input');
  });

  // Kept open: the Rust side revokes this code later, then the device reloads.
  const remembered = await scenario('remember this device', async ({ tab, check, rec }) => {
    await open(tab);
    await tab.fill('#diary-code', config.remember.code);
    await tab.check('#diary-remember');
    await tab.click('#diary-submit');
    let got = await outcome(tab);
    check(got.heading && got.heading.includes(config.remember.name), 'unlocked: ' + got.error);
    // The device is remembered once the diary shows.
    await tab.waitForSelector('#diary-forget', { state: 'visible', timeout: 10_000 }).catch(() => {});
    check(await tab.isVisible('#diary-forget'), '"forget this device" offered');
    await tab.waitForSelector('#diary article.child[data-news]');
    const db = await deviceRecords(tab);
    rec.stored = db;
    const code = config.remember.code;
    const norm = code.replaceAll('-', '');
    const device = db.records.filter((r) => r.store === 'device');
    check(device.length === 1, 'one device record');
    // Beside it, what the diary showed ("what is new"): fingerprints and a time only.
    const seen = db.records.filter((r) => r.store === 'seen');
    check(seen.length === 1 && Object.keys(seen[0].fields).sort().join() === 'children,v',
      'one "seen" record: ' + JSON.stringify(seen.map((r) => r.fields)));
    check(db.records.length === device.length + seen.length, 'nothing else stored');
    for (const r of seen) {
      check(r.strings.every((s) => !s.includes(config.remember.name) && !s.includes(norm)),
        'nothing of the diary in clear in "seen"');
      check(r.strings.every((s) => /^[0-9a-f]{32}$/.test(s) || /^[A-Za-z0-9+/]{12}$/.test(s)),
        '"seen" holds page ids and fingerprints only');
    }
    for (const r of device) {
      check(r.strings.every((s) => !s.includes(code) && !s.includes(norm)), 'no code in IndexedDB');
      const keys = Object.values(r.fields).filter((f) => f.cryptoKey);
      check(keys.length === 1 && keys[0].extractable === false && keys[0].algorithm === 'AES-GCM' &&
        keys[0].usages.join() === 'decrypt', 'kek is a non-extractable AES-GCM decrypt key');
      check(!r.exportable, 'kek cannot be exported');
      check(r.fields.slot && r.fields.slot.length === 32, 'slot kept');
      check(Object.keys(r.fields).sort().join() === 'kek,now,slot,v', 'nothing else kept: ' + Object.keys(r.fields));
      // The `now` hint: the first child's page id and its `now` chunk's file name, both
      // names of public files, so the next opening fetches the chunk with the slot.
      const hex = r.strings.filter((x) => /^[0-9a-f]{32}$/.test(x));
      check(r.fields.now && r.fields.now.type === 'object' && hex.length === 3,
        'the now hint holds two ids: ' + JSON.stringify(r.fields.now));
      rec.nowHint = hex[2];
    }
    check(db.localStorage === 0 && db.sessionStorage === 0, 'nothing in web storage');

    const before = rec.requests.length;
    const t0 = Date.now();
    await tab.reload({ waitUntil: 'load' });
    got = await outcome(tab);
    report.rememberedOpenMs = Date.now() - t0;
    check(got.heading && got.heading.includes(config.remember.name), 'reopens without a code: ' + got.error);
    check(await tab.$eval('#diary-form', (f) => f.hidden), 'no code form');
    const after = rec.requests.slice(before);
    check(!after.some((p) => p.endsWith('/params.json')), 'no key derivation on a remembered device');
    // The hinted `now` chunk was asked for before the slot had arrived, not after.
    const timing = await tab.evaluate((hint) => {
      const all = performance.getEntriesByType('resource');
      const slot = all.find((e) => /\/diary\/k\/[0-9a-f]{32}\.bin$/.test(e.name));
      const chunk = all.find((e) => e.name.endsWith('/diary/c/' + hint + '.bin'));
      return slot && chunk ? { chunkStart: chunk.startTime, slotEnd: slot.responseEnd } : null;
    }, rec.nowHint || '');
    rec.hintTiming = timing;
    check(timing !== null && timing.chunkStart < timing.slotEnd,
      'the now chunk is fetched together with the slot: ' + JSON.stringify(timing));
  }, { keep: true, allow404: true });

  await scenario('two children', async ({ tab, check, rec }) => {
    await open(tab);
    // Keyboard only: Tab to the code, type it, Enter.
    let guard = 0;
    while (guard++ < 12 && !(await tab.evaluate(() => document.activeElement.id === 'diary-code'))) {
      await tab.keyboard.press('Tab');
    }
    check(guard < 12, 'the code input is reachable with Tab');
    await tab.keyboard.type(config.two.code);
    await tab.keyboard.press('Enter');
    let got = await outcome(tab);
    check(got.error === '', 'no error: ' + got.error);
    const buttons = await tab.$$eval('#diary-kids button', (bs) => bs.map((b) => ({
      name: b.textContent, pressed: b.getAttribute('aria-pressed') })));
    rec.switcher = buttons;
    check(await tab.isVisible('#diary-kids') && buttons.length === 2, 'a switcher with two children');
    check(buttons.map((b) => b.name).sort().join() === [...config.two.names].sort().join(), 'switcher shows first names');
    const first = buttons.find((b) => b.pressed === 'true');
    check(first && got.heading.includes(first.name), 'the pressed child is shown');
    const other = buttons.find((b) => b.pressed !== 'true');
    if (other) {
      await tab.click(`#diary-kids button[aria-pressed=false]`);
      await tab.waitForFunction((n) => {
        const h = document.querySelector('#diary article.child h2');
        return h && h.textContent.includes(n);
      }, other.name);
      got = { heading: await heading(tab) };
      check(got.heading.includes(other.name), `switching shows ${other.name}`);
      check(await tab.$eval(`#diary-kids button[aria-pressed=true]`, (b) => b.textContent) === other.name,
        'switcher marks the chosen child');
      check((await weekState(tab)).navInArticle, 'week bar moves with the child');
      await tab.click(`#diary-kids button[aria-pressed=false]`);
      await tab.waitForFunction((n) => document.querySelector('#diary article.child h2').textContent.includes(n), first.name);
      check(true, 'switches back');
    }
    // Remember from the open diary, then forget.
    await tab.click('#diary-remember-now');
    await tab.waitForSelector('#diary-forget', { state: 'visible' });
    const kept = await deviceRecords(tab);
    check(kept.records.filter((r) => r.store === 'device').length === 1, 'remembered from the open diary');
    // Both children shown so far now count as seen ("what is new"), each by its page id.
    const seenPages = await tab.evaluate(async () => {
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open('diary');
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const rec = await new Promise((ok, fail) => {
        const tx = db.transaction('seen', 'readonly');
        const get = tx.objectStore('seen').get(new URL('.', location.href).pathname);
        tx.oncomplete = () => ok(get.result);
        tx.onerror = () => fail(tx.error);
      });
      db.close();
      return rec ? Object.keys(rec.children) : [];
    });
    check(seenPages.length === 2, 'both children kept as seen: ' + seenPages.length);
    await tab.click('#diary-forget');
    await tab.waitForSelector('#diary-remember-now', { state: 'visible' });
    check((await deviceRecords(tab)).records.length === 0, '"forget this device" deletes the record');
    await tab.reload({ waitUntil: 'load' });
    await tab.waitForSelector('#diary-code', { state: 'visible' });
    check(await heading(tab) === null, 'a forgotten device asks for the code');
    await tab.click('#diary-submit'); // empty code: invalid, stays on the form
    check(await errorText(tab) === await message(tab, 'invalid'), 'empty code is invalid');
  });

  await scenario('inside another site\'s frame', async ({ tab, check, rec }) => {
    // A page of another origin (about:blank here) framing the unlock page with a code.
    await tab.setContent(`<iframe id="f" width="360" height="600" src="${main.base}${PAGE}#c=${config.one.code}"></iframe>`);
    const frame = await (await tab.waitForSelector('#f')).contentFrame();
    await frame.waitForFunction(() => document.getElementById('diary-error').textContent !== '');
    check(await frame.$eval('#diary-error', (e) => e.textContent) === await frame.getAttribute('#diary-app', 'data-msg-framed'),
      'refuses to run in a frame');
    check(await frame.$eval('#diary-form', (f) => f.hidden), 'no code form in a frame');
    check(!rec.requests.some((p) => p.includes('/diary/k/') || p.endsWith('/params.json')),
      'no key derived, no slot fetched');
  });

  await scenario('a diary held since yesterday opens on today\'s week', async ({ tab, context, check, rec }) => {
    // The diary built for a Monday, opened on that week's Sunday: the current week. Opened
    // the next Monday morning, as if built on the Sunday evening before: the new week.
    const monday = config.buildDay;
    const day = (offset) => {
      const d = new Date(monday + 'T08:00:00');
      d.setDate(d.getDate() + offset);
      return d;
    };
    await context.clock.setFixedTime(day(6));
    await open(tab);
    await typeAndSubmit(tab, config.one.code);
    const got = await outcome(tab);
    check(got.error === '', 'opens: ' + got.error);
    let w = await weekState(tab);
    check(w.visible.length === 1 && w.visible[0] === w.current, 'on the marked week the same week: ' + JSON.stringify(w));
    const next = await tab.evaluate((m) => {
      const weeks = Array.from(document.querySelectorAll('#diary .dweek'));
      const later = weeks.find((s) => s.getAttribute('data-week') > m);
      return later ? later.getAttribute('data-week') : null;
    }, monday);
    rec.nextWeek = next;
    check(next !== null, 'the diary holds the next week');
    await context.clock.setFixedTime(day(7));
    await tab.evaluate((built) => {
      document.querySelector('#diary article.child').setAttribute('data-built', built);
    }, day(6).toISOString().slice(0, 10));
    // Going back loads an earlier part: its weeks go before, "this week" goes by dates.
    await tab.click('#diary-prev');
    await weekState(tab);
    await tab.click('#diary-now');
    w = await weekState(tab);
    check(w.visible.length === 1 && w.shown[0] === next, 'a held diary opens on the device\'s week: ' + JSON.stringify(w));
  });

  await scenario('a device remembered by the v1 page', async ({ tab, check, rec }) => {
    // Exactly what the v1 page stored: {v: 1, slot, kek} with kek a non-extractable
    // AES-GCM key, in database "diary" (version 1), store "device", key = the folder's path.
    await open(tab);
    const { slot } = await readSlot(config.public, config.one.code);
    const stored = await tab.evaluate(async ({ code, slot }) => {
      const params = await (await fetch('params.json')).json();
      const salt = Uint8Array.from(atob(params.salt), (c) => c.charCodeAt(0));
      const pass = await crypto.subtle.importKey('raw', new TextEncoder().encode(code), 'PBKDF2', false, ['deriveBits']);
      const bits = new Uint8Array(await crypto.subtle.deriveBits(
        { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: params.iterations }, pass, 384));
      const kek = await crypto.subtle.importKey('raw', bits.subarray(16), { name: 'AES-GCM' }, false, ['decrypt']);
      bits.fill(0);
      // The database as the v1 page left it: version 1, the `device` store only (this
      // page has already made its own, of version 2, on load).
      await new Promise((ok, fail) => {
        const r = indexedDB.deleteDatabase('diary');
        r.onsuccess = ok;
        r.onerror = () => fail(r.error);
      });
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open('diary', 1);
        r.onupgradeneeded = () => r.result.createObjectStore('device');
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      await new Promise((ok, fail) => {
        const tx = db.transaction('device', 'readwrite');
        tx.objectStore('device').put({ v: 1, slot, kek }, new URL('.', location.href).pathname);
        tx.oncomplete = ok;
        tx.onerror = () => fail(tx.error);
      });
      db.close();
      return new URL('.', location.href).pathname;
    }, { code: normalize(config.one.code), slot });
    check(stored === '/diary/', 'record kept under the folder path: ' + stored);
    const before = rec.requests.length;
    await tab.reload({ waitUntil: 'load' });
    const got = await outcome(tab);
    check(got.heading && got.heading.includes(config.one.name), 'opens with no code typed: ' + got.error);
    check(await tab.$eval('#diary-form', (f) => f.hidden), 'no code form');
    const after = rec.requests.slice(before);
    check(!after.some((p) => p.endsWith('/params.json')), 'no key derivation');
    check(after.includes(`/diary/k/${slot}.bin`) && chunkRequests({ requests: after }).length === 1,
      'the slot, then the now chunk: ' + after.filter((p) => p.startsWith('/diary/')).join(' '));
    check(await tab.isVisible('#diary-forget'), 'shown as remembered');
    // The database moved to version 2: the device record kept, the `seen` store added.
    await tab.waitForSelector('#diary article.child[data-news]');
    const db = await deviceRecords(tab);
    check(db.records.filter((r) => r.store === 'device').length === 1 &&
      db.records.filter((r) => r.store === 'seen').length === 1,
      'upgraded with the device kept: ' + db.records.map((r) => r.store).join());
  });

  await scenario('earlier weeks', async ({ tab, check, rec }) => {
    await open(tab);
    await typeAndSubmit(tab, config.one.code);
    let got = await outcome(tab);
    check(got.error === '', 'opens: ' + got.error);
    const parts = await earlierButtons(tab);
    rec.earlier = parts;
    check(parts.length >= 1, 'earlier parts listed under the week bar: ' + parts.join(' · '));
    check(chunkRequests(rec).length === 1, 'only the now chunk fetched at first');
    // Slow the chunks down a little, to see the busy state.
    await tab.route('**/diary/c/**', async (route) => {
      await new Promise((ok) => setTimeout(ok, 300));
      await route.fallback();
    });
    let w = await weekState(tab);
    const seen = [w.shown[0]];
    let sawBusy = false;
    let guard = 0;
    while (!w.prevDisabled && guard++ < 80) {
      const count = w.count;
      await tab.click('#diary-prev');
      const now = await tab.evaluate(() => ({
        loading: Boolean(document.querySelector('#diary-weekbar.loading')),
        busy: document.getElementById('diary').getAttribute('aria-busy') === 'true',
        prev: document.getElementById('diary-prev').disabled,
        said: document.getElementById('diary-part-status').textContent,
      }));
      w = await weekState(tab);
      if (w.count > count) {
        sawBusy = sawBusy || (now.loading && now.busy && now.prev && now.said !== '');
      }
      check(w.visible.length === 1, 'one week shown');
      seen.push(w.shown[0]);
    }
    rec.walk = seen;
    check(seen[seen.length - 1] === oneParts[0].first, 'ends at the first week of the year: ' + seen.join(' '));
    check(sawBusy, 'a busy state while a part loads');
    check(await tab.evaluate(() => document.activeElement && document.activeElement.closest('#diary-weeknav') !== null),
      'focus stays in the week bar');
    const chunks = chunkRequests(rec);
    rec.chunks = chunks;
    // Every week of the year so far is in: the child's own lines are in their lessons,
    // their list and the empty places gone (tests/diary_browser.rs counts them in Rust).
    rec.lines = await tab.evaluate(() => ({
      marks: document.querySelectorAll('#diary .dweek .lesson .mark').length,
      attendance: document.querySelectorAll('#diary .dweek .lesson .att').length,
      lists: document.querySelectorAll('#diary .own-lines').length,
      places: document.querySelectorAll('#diary i[data-o]').length,
    }));
    check(new Set(chunks).size === chunks.length, 'no chunk fetched twice: ' + chunks.join(' '));
    check(chunks.length === 1 + parts.length, 'each earlier part fetched once: ' + chunks.length);
    check(await errorText(tab) === '' && await tab.$eval('#diary-part-error', (e) => e.textContent) === '',
      'no error');
    const axe = await runAxe(tab);
    rec.axe = axe;
    check(axe.length === 0, 'axe with earlier parts loaded: ' + JSON.stringify(axe));
    check(await overflow(tab) <= 0, 'no sideways scrolling at 360 px');
    // The parts' buttons now only move; "this week" comes back.
    await tab.click('#diary-earlier-list li:last-child button');
    w = await weekState(tab);
    check(chunkRequests(rec).length === chunks.length, 'a loaded part is not fetched again');
    await tab.click('#diary-now');
    w = await weekState(tab);
    check(w.visible.length === 1 && w.visible[0] === w.current, '"this week" after weeks were put before it');
    check(await tab.evaluate(() => document.querySelectorAll('#diary .dweek[data-current]').length === 1),
      'one current week');

    // Another opening: the list opens the first part at its first week, with one request.
    await tab.click('#diary-close');
    await typeAndSubmit(tab, config.one.code);
    got = await outcome(tab);
    const before = chunkRequests(rec).length;
    await tab.click('#diary-earlier-list li:first-child button');
    w = await weekState(tab);
    rec.jump = w.shown[0];
    check(chunkRequests(rec).length === before + 1, 'the first part fetched');
    check(w.shown[0] === oneParts[0].first, 'the first part opens at its first week: ' + w.shown[0]);
    check(w.prevDisabled, 'nothing before the first part');
    // Next from its last week: the part after it (not yet loaded) goes in between.
    let g = 0;
    const firstCount = w.count;
    while (g++ < 40 && w.count === firstCount && !w.nextDisabled) {
      await tab.click('#diary-next');
      w = await weekState(tab);
    }
    rec.nextAfterJump = w.shown[0];
    if (oneParts.length > 1) {
      check(w.shown[0] === oneParts[1].first, 'next goes on into the second part: ' + w.shown[0]);
    }
    const order = await tab.$$eval('#diary .dweek', (ws) => ws.map((x) => x.getAttribute('data-week')));
    check(order.every((d, i) => i === 0 || order[i - 1] < d), 'weeks kept in date order: ' + order.join(' '));
  });

  await scenario('grade 1', async ({ tab, check, rec }) => {
    await open(tab);
    await typeAndSubmit(tab, config.grade1.code);
    const got = await outcome(tab);
    check(got.heading && got.heading.includes(config.grade1.name), 'opens: ' + got.error);
    const first = await weekState(tab);
    const count = () => tab.evaluate(() => ({
      marks: document.querySelectorAll('#diary .mark').length,
      lessons: document.querySelectorAll('#diary .dweek .lesson').length,
      weeks: document.querySelectorAll('#diary .dweek').length,
    }));
    const now = await count();
    check(now.lessons > 0 && now.marks === 0, 'lessons and no marks this week and next: ' + JSON.stringify(now));
    await tab.click('#diary-prev');
    const w = await weekState(tab);
    const after = await count();
    rec.counts = { now, after };
    check(w.count > first.count && after.lessons > now.lessons, 'an earlier part loaded: ' + JSON.stringify(after));
    check(after.marks === 0, 'no marks in the earlier part either');
    rec.takes = await tab.evaluate(() =>
      document.querySelectorAll('#diary .takes, #diary [data-takes-rules], #diary [data-takes]').length);
    check(rec.takes === 0, 'no "what it takes" panel in grade 1');
  });

  // The panel under the current period's marks: what the browser wrote for each subject,
  // with the marks and rules it read, for tests/diary_browser.rs to hold against Rust.
  await scenario('what it takes', async ({ tab, check, rec }) => {
    await open(tab);
    await typeAndSubmit(tab, config.one.code);
    const got = await outcome(tab);
    check(got.heading && got.heading.includes(config.one.name), 'opens: ' + got.error);
    const seen = await tab.evaluate(() => {
      const period = document.querySelector('#diary details.period[data-takes-rules]');
      if (!period) return null;
      const panel = period.querySelector('.takes');
      const lines = new Map(Array.from(panel ? panel.querySelectorAll('li') : [], (li) => {
        const subject = li.querySelector('strong').textContent;
        return [subject, li.textContent.slice(subject.length + 2)];
      }));
      const rows = Array.from(period.querySelectorAll('tr[data-takes]'), (tr) => {
        const subject = tr.querySelector('th').textContent.trim();
        return { subject, marks: tr.getAttribute('data-takes'), min: Number(tr.getAttribute('data-takes-min')),
          text: lines.has(subject) ? lines.get(subject) : null };
      });
      const box = panel && panel.getBoundingClientRect();
      return { rules: period.getAttribute('data-takes-rules'), open: period.open, rows,
        lines: lines.size, heading: panel && panel.querySelector('h4') ? panel.querySelector('h4').textContent : null,
        labelled: Boolean(panel && panel.getAttribute('aria-labelledby')),
        underTable: Boolean(panel && panel.previousElementSibling && panel.previousElementSibling.matches('.tscroll')),
        width: box ? box.width : 0 };
    });
    check(seen !== null, 'the current period carries the rules');
    if (!seen) return;
    rec.rules = seen.rules;
    rec.rows = seen.rows;
    check(seen.open, 'the current period is open');
    check(seen.lines > 3 && seen.heading === await message(tab, 'takes-title'), 'the panel has its title and lines');
    check(seen.labelled && seen.underTable, 'the panel is a labelled section under the marks table');
    check(seen.width > 0 && seen.width <= 360, 'the panel fits the phone: ' + seen.width);
    const words = seen.rows.find((r) => r.subject === config.wordsOnly);
    check(words && words.text === null, `no line for the words-only subject ${config.wordsOnly}`);
    check(seen.rows.every((r) => r.text === null || /\d,\d\d|отметок пока нет/.test(r.text)),
      'averages with a decimal comma');
    check(await overflow(tab) <= 0, 'no sideways scrolling at 360 px');
    rec.axe = await runAxe(tab);
    check(rec.axe.length === 0, 'axe with the panel: ' + JSON.stringify(rec.axe));

    // A pupil without marks in this term: one quiet line, no list, no error.
    await tab.click('#diary-close');
    await tab.waitForSelector('#diary-code', { state: 'visible' });
    await typeAndSubmit(tab, config.noMarks.code);
    const quiet = await outcome(tab);
    check(quiet.heading && quiet.heading.includes(config.noMarks.name), 'the second diary opens: ' + quiet.error);
    const q = await tab.evaluate(() => {
      const panel = document.querySelector('#diary details.period[data-takes-rules] .takes');
      return { text: panel ? panel.textContent : null, items: panel ? panel.querySelectorAll('li').length : -1 };
    });
    rec.quiet = q.text;
    check(q.text === await message(tab, 'takes-quiet') && q.items === 0, 'one quiet line: ' + JSON.stringify(q));
    const axeQuiet = await runAxe(tab);
    check(axeQuiet.length === 0, 'axe with the quiet line: ' + JSON.stringify(axeQuiet));
  });

  await scenario('a v1 diary', async ({ tab, check, rec }) => {
    await open(tab, older.base);
    await typeAndSubmit(tab, config.one.code);
    const got = await outcome(tab);
    check(got.heading && got.heading.includes(config.one.name), 'a v1 slot opens its page: ' + got.error);
    check(rec.requests.some((p) => p.startsWith('/diary/p/')), 'the page file fetched');
    check(chunkRequests(rec).length === 0, 'no chunk fetched');
    check(await tab.$eval('#diary-earlier', (n) => n.hidden), 'no earlier parts listed');
    const w = await weekState(tab);
    check(w.visible.length === 1 && w.visible[0] === w.current, 'current week shown');
  });

  await scenario('tampered earlier part', async ({ tab, check, rec }) => {
    await open(tab, damaged.base);
    await typeAndSubmit(tab, config.one.code);
    const got = await outcome(tab);
    check(got.error === '', 'the diary opens: ' + got.error);
    const before = await weekState(tab);
    const html = await tab.$eval('#diary .dweeks', (d) => d.innerHTML);
    await tab.click('#diary-prev');
    await tab.waitForFunction(() => document.getElementById('diary-part-error').textContent !== '');
    const w = await weekState(tab);
    const said = await tab.$eval('#diary-part-error', (e) => e.textContent);
    const wanted = (await message(tab, 'part-broken')).replace('{part}', tamperedPart.label);
    check(said === wanted, 'the part\'s error beside the week bar: ' + said);
    check(await errorText(tab) === '', 'not the code form\'s error');
    check(w.count === before.count && w.shown[0] === before.shown[0], 'still on the current week');
    check(await tab.$eval('#diary .dweeks', (d) => d.innerHTML) === html, 'the weeks as they were');
    check(await tab.isVisible('#diary article.child h2'), 'the diary stays open');
    const parts = chunkRequests(rec).length;
    await tab.click('#diary-prev');
    await weekState(tab);
    check(chunkRequests(rec).length === parts, 'a damaged part is not fetched again');
    check(await tab.evaluate(() => document.getElementById('diary-weeknav').closest('.weekbar')
      .contains(document.getElementById('diary-part-error'))), 'the message sits with the week bar');
    const axe = await runAxe(tab);
    check(axe.length === 0, 'axe with the part\'s error: ' + JSON.stringify(axe));
  });

  await scenario('tampered now chunk', async ({ tab, check }) => {
    await open(tab, damaged.base);
    await typeAndSubmit(tab, config.tamperedCode.code);
    const got = await outcome(tab);
    check(got.heading === null, 'no diary from a tampered file');
    check(got.error === await message(tab, 'broken'), 'could-not-open message: ' + got.error);
    check(await tab.$eval('#diary', (d) => d.childElementCount === 0 && d.textContent === ''), 'no garbage shown');
    check(await tab.$eval('#diary-view', (v) => v.hidden), 'diary view stays hidden');
    check(!(await tab.evaluate(() => document.body.innerText.includes('\uFFFD'))), 'no undecodable text');
  });

  const noSubtle = () => {
    Object.defineProperty(window.crypto, 'subtle', { value: undefined, configurable: true });
  };
  await scenario('plain http elsewhere (no crypto.subtle)', async ({ tab, check }) => {
    await open(tab, elsewhere.base);
    await tab.waitForFunction(() => document.getElementById('diary-error').textContent !== '');
    check(await errorText(tab) === await message(tab, 'https'), 'needs-https message: ' + await errorText(tab));
    check(await tab.$eval('#diary-code', (i) => i.disabled), 'code input disabled');
  }, { init: noSubtle });
  await scenario('old browser (no crypto.subtle on localhost)', async ({ tab, check }) => {
    await open(tab, main.base, '#c=' + config.one.code);
    await tab.waitForFunction(() => document.getElementById('diary-error').textContent !== '');
    check(await errorText(tab) === await message(tab, 'unsupported'), 'unsupported message: ' + await errorText(tab));
    check(!(await tab.evaluate(() => location.href.includes('#'))), 'code removed from the address even so');
  }, { init: noSubtle });
  await scenario('old browser (no DecompressionStream)', async ({ tab, check }) => {
    await open(tab);
    await tab.waitForFunction(() => document.getElementById('diary-error').textContent !== '');
    check(await errorText(tab) === await message(tab, 'unsupported'), 'unsupported message');
  }, { init: () => { delete window.DecompressionStream; } });

  if (remembered) {
    if (config.pause) {
      process.stderr.write('READY-FOR-REVOKE\n');
      const rl = readline.createInterface({ input: process.stdin });
      let line = null;
      for await (const l of rl) { line = l; break; }
      rl.close();
      const { tab, check, finish } = remembered;
      try {
        check(line !== null, 'the caller revoked the code');
        await tab.reload({ waitUntil: 'load' });
        const got = await outcome(tab);
        check(got.heading === null, 'a revoked code opens nothing');
        check(got.error === await message(tab, 'expired'), 'no-longer-valid message: ' + got.error);
        check(await tab.isVisible('#diary-code'), 'the code form is back');
        check((await deviceRecords(tab)).records.length === 0, 'the device record is forgotten');
        await tab.reload({ waitUntil: 'load' });
        await tab.waitForSelector('#diary-code', { state: 'visible' });
        check(await errorText(tab) === '', 'after that, a plain code form');
      } catch (e) {
        remembered.rec.failures.push('revoked: threw ' + (e && e.stack ? e.stack : String(e)));
      }
      await finish();
    } else {
      await remembered.finish();
    }
  }
} finally {
  await browser.close();
  for (const s of [main, damaged, older, elsewhere]) s.server.close();
}

console.log(JSON.stringify(report, null, 2));
process.exit(report.ok ? 0 : 1);
