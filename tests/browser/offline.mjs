// The site offline and installable, and printing a week, in headless Chromium at phone
// width: the manifest and the service worker (sw.js), boards and a remembered diary read
// with no network, a new build replacing what is cached, a revocation clearing the
// family's saved files, "forget this device", and "Print this week" as an A4 PDF. Serves
// a built site on 127.0.0.1; prints a JSON report on stdout and exits 1 when a check failed.
//
// Usage: node offline.mjs CONFIG.json, where the config holds
//   public    the built site's public/ folder (rebuilt in place by the caller between steps)
//   remember  {code, name}  a one-child code remembered on the device, then revoked
//   other     {code, name}  another one-child code (forgetting the device; printing)
//   boards    [paths]       board pages below public/ to read online, then offline
//   unvisited a board page never opened (offline: the "not saved" page)
//   newTitle  the title of an announcement the second build adds to the front page
//   pdf       where to save the PDF of a printed week
// Between steps it prints "STEP <name>" on stderr and waits for a line on stdin while the
// caller changes the site: "new-build" (the theme's CSS and an announcement change, rebuilt)
// and "revoke" (`remember`'s code revoked, rebuilt).

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { launchChromium, servePlain } from './host.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const WAIT = 60_000;
const PAGE = '/diary/index.html';

// ---- The host: public/ as docs/operations.md says to serve it; can be cut off ---------------
const host = { offline: false, refused: 0, served: [], expect404: false };
const { server, base } = await servePlain(config.public, {
  answer: (req) => {
    if (!host.offline) return false;
    host.refused += 1;
    req.socket.destroy();
    return true;
  },
  headers: (rel) => ({ 'cache-control': rel.startsWith('static/') ? 'public, max-age=86400' : 'no-cache' }),
  served: (rel) => host.served.push('/' + rel),
});
const browser = await launchChromium();

const report = { ok: true, failures: [], scenarios: [] };
const sha = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const publicFile = (p) => fs.readFileSync(path.join(config.public, p));

/** Waits for the caller to change the site. */
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function step(name) {
  process.stderr.write(`STEP ${name}\n`);
  const line = await lines.next();
  if (line.done) throw new Error(`no answer to step ${name}`);
}

/** A browser context (its own service worker, caches and IndexedDB) with its checks. */
async function newContext(name) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const rec = { name, checks: 0, failures: [], consoleErrors: [], external: [] };
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(base + '/') || u.startsWith('data:')) return route.continue();
    rec.external.push(u);
    return route.abort();
  });
  const check = (ok, what) => {
    rec.checks += 1;
    if (!ok) rec.failures.push(what);
  };
  const tab = await context.newPage();
  tab.setDefaultTimeout(WAIT);
  // While the network is cut, the browser logs what it could not reach; that is expected.
  const offlineNoise = /net::ERR_(INTERNET_DISCONNECTED|FAILED|EMPTY_RESPONSE|CONNECTION)|status of 503/;
  const notFound = /Failed to load resource: the server responded with a status of 404/;
  tab.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (host.offline && offlineNoise.test(m.text())) return;
    if (host.expect404 && notFound.test(m.text())) return; // the revoked slot

    rec.consoleErrors.push(m.text());
  });
  tab.on('pageerror', (e) => rec.consoleErrors.push(String(e)));
  const finish = async () => {
    check(rec.consoleErrors.length === 0, 'no console errors: ' + rec.consoleErrors.join(' | '));
    check(rec.external.length === 0, 'no external requests');
    if (rec.failures.length) {
      report.ok = false;
      for (const f of rec.failures) report.failures.push(`${name}: ${f}`);
    }
    report.scenarios.push(rec);
    await context.close();
  };
  return { context, tab, check, rec, finish };
}

async function run(ctx, body) {
  try {
    await body(ctx);
  } catch (e) {
    ctx.rec.failures.push('threw: ' + (e && e.stack ? e.stack : String(e)));
  } finally {
    await goOnline(ctx.context);
  }
}

async function goOffline(context) {
  host.offline = true;
  host.refused = 0;
  await context.setOffline(true);
}
async function goOnline(context) {
  await context.setOffline(false);
  host.offline = false;
}

/** Waits until the page is controlled by the service worker. */
const controlled = (tab) => tab.waitForFunction(() => navigator.serviceWorker.controller !== null,
  null, { timeout: WAIT });

/** What Cache Storage holds: cache name → [{ path, sha256, cached }]. */
const cacheContents = (tab) => tab.evaluate(async () => {
  const hexOf = async (buf) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', buf)),
    (b) => b.toString(16).padStart(2, '0')).join('');
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = [];
    for (const req of await cache.keys()) {
      const res = await cache.match(req);
      out[name].push({ path: new URL(req.url).pathname, sha256: await hexOf(await res.arrayBuffer()),
        cached: res.headers.get('x-diary-cached') });
    }
  }
  return out;
});

async function outcome(tab) {
  await tab.waitForFunction(() => {
    const h = document.querySelector('#diary-view:not([hidden]) #diary article.child h2');
    return (h && h.getBoundingClientRect().height > 0) ||
      document.getElementById('diary-error').textContent !== '';
  }, null, { timeout: WAIT, polling: 'raf' });
  return {
    heading: await tab.$eval('#diary article.child h2', (e) => e.textContent).catch(() => null),
    error: await tab.$eval('#diary-error', (e) => e.textContent),
  };
}

async function unlock(tab, code, remember) {
  await tab.goto(base + PAGE, { waitUntil: 'load' });
  await tab.fill('#diary-code', code);
  if (remember) await tab.check('#diary-remember');
  await tab.click('#diary-submit');
  return outcome(tab);
}

/** The text the diary shows when it opened from the saved copy, for the shown diary. */
const expectedOfflineNote = (tab) => tab.evaluate(() => {
  const built = document.querySelector('#diary article.child').getAttribute('data-built');
  const date = new Intl.DateTimeFormat(document.documentElement.lang,
    { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(built + 'T00:00:00Z'));
  return { built, text: document.getElementById('diary-app').getAttribute('data-msg-offline').replace('{date}', date) };
});

async function runAxe(tab) {
  await tab.evaluate(axeSource + ';0');
  return tab.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

const dataCaches = (caches) => Object.keys(caches).filter((n) => n.startsWith('diary-data:'));

try {
  // ---- 1. Installable: manifest, icons, service worker -----------------------------------
  const main = await newContext('installable');
  await run(main, async ({ context, tab, check, rec }) => {
    await tab.goto(base + '/index.html', { waitUntil: 'load' });
    const links = await tab.evaluate(() => ({
      manifest: document.querySelector('link[rel=manifest]')?.href || null,
      script: document.querySelector('script[src$="static/site.js"]')?.src || null,
    }));
    check(links.manifest === base + '/manifest.webmanifest', 'the page links the manifest: ' + links.manifest);
    await controlled(tab);
    const reg = await tab.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return { scope: r.scope, script: r.active && r.active.scriptURL };
    });
    rec.registration = reg;
    check(reg.scope === base + '/' && reg.script === base + '/sw.js', 'sw.js at the root: ' + JSON.stringify(reg));
    const manifest = JSON.parse(publicFile('manifest.webmanifest').toString('utf8'));
    rec.manifest = manifest;
    check(manifest.name && manifest.short_name && manifest.start_url === 'diary/index.html' &&
      manifest.display === 'standalone', 'manifest fields: ' + JSON.stringify(manifest));
    for (const icon of manifest.icons) {
      const res = await tab.evaluate(async (src) => {
        const r = await fetch(new URL(src, location.origin + '/').href);
        const b = await r.blob();
        return { status: r.status, type: r.headers.get('content-type'), size: b.size };
      }, icon.src);
      check(res.status === 200 && res.size > 0 && res.type === icon.type, 'icon ' + icon.src + ': ' + JSON.stringify(res));
    }
    const cdp = await context.newCDPSession(tab);
    const parsed = await cdp.send('Page.getAppManifest');
    rec.manifestErrors = parsed.errors;
    check(parsed.url === base + '/manifest.webmanifest' && parsed.errors.length === 0,
      'Chromium reads the manifest without errors: ' + JSON.stringify(parsed.errors));
    const inst = await cdp.send('Page.getInstallabilityErrors');
    rec.installabilityErrors = inst.installabilityErrors;
    // A test browser context is incognito-like; anything else would keep it from installing.
    const blocking = inst.installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
    check(blocking.length === 0, 'installable: ' + JSON.stringify(inst.installabilityErrors));
    const cached = await cacheContents(tab);
    const statics = Object.keys(cached).filter((n) => n.startsWith('diary-static:'));
    rec.staticCaches = statics;
    check(statics.length === 1, 'one static cache: ' + Object.keys(cached).join(' '));
    const kept = new Set((cached[statics[0]] || []).map((e) => e.path));
    for (const p of ['/diary/index.html', '/diary/params.json', '/static/diary.js', '/static/diary.css',
      '/static/style.css', '/static/icon.svg', '/static/icon-192.png', '/manifest.webmanifest']) {
      check(kept.has(p), 'precached ' + p);
    }
    for (const e of cached[statics[0]] || []) {
      check(e.sha256 === sha(publicFile(e.path.slice(1))), 'the cached copy is the published file: ' + e.path);
    }
  });

  // ---- 2. Boards read offline --------------------------------------------------------------
  await run(main, async ({ context, tab, check, rec }) => {
    const online = {};
    for (const p of config.boards) {
      await tab.goto(base + '/' + p, { waitUntil: 'load' });
      online[p] = await tab.$eval('main', (m) => m.innerText);
    }
    await goOffline(context);
    rec.boards = [];
    for (const p of ['index.html', ...config.boards]) {
      await tab.goto(base + '/' + p, { waitUntil: 'load' });
      const note = await tab.waitForSelector('#offline-note', { timeout: 10_000 }).then((n) => n.textContent()).catch(() => null);
      const text = await tab.$eval('main', (m) => m.innerText);
      rec.boards.push({ page: p, note });
      check(note !== null && /\d{4}/.test(note), `${p}: a note says it is a saved copy, with its date: ${note}`);
      if (online[p]) check(text.includes(online[p].slice(0, 200)), `${p}: the board as read online`);
      if (p === config.boards[0]) {
        const axe = await runAxe(tab);
        rec.boardAxe = axe;
        check(axe.length === 0, 'axe on a board shown offline: ' + JSON.stringify(axe));
      }
    }
    await tab.goto(base + '/' + config.unvisited, { waitUntil: 'load' }).catch(() => null);
    const missing = await tab.evaluate(() => document.querySelector('h1')?.textContent || '');
    rec.unvisited = missing;
    check(missing !== '' && !(await tab.$('#offline-note')), 'a page never read: the "not saved" page: ' + missing);
    await goOnline(context);
    await tab.goto(base + '/index.html', { waitUntil: 'load' });
    await tab.waitForTimeout(300);
    check(!(await tab.$('#offline-note')), 'online again: no note');
  });

  // ---- 3. A remembered diary, offline ------------------------------------------------------
  let slotPath = null;
  await run(main, async ({ context, tab, check, rec }) => {
    const got = await unlock(tab, config.remember.code, true);
    check(got.heading && got.heading.includes(config.remember.name), 'opens online: ' + got.error);
    check(await tab.isHidden('#diary-offline'), 'online: no offline note');
    // An earlier part, so that it is saved too.
    const weeks0 = await tab.$$eval('#diary .dweek', (ws) => ws.length);
    await tab.click('#diary-prev');
    await tab.waitForFunction((n) => document.querySelectorAll('#diary .dweek').length > n, weeks0);
    await tab.waitForTimeout(500);
    let cached = await cacheContents(tab);
    const data = dataCaches(cached);
    rec.dataCaches = data;
    check(data.length === 1 && /^diary-data:\/diary\/[0-9a-f]{32}$/.test(data[0]), 'one saved copy for the family: ' + data.join(' '));
    const files = cached[data[0]] || [];
    rec.saved = files.map((f) => f.path);
    slotPath = files.map((f) => f.path).find((p) => p.startsWith('/diary/k/'));
    check(slotPath === `/diary/k/${data[0].slice(-32)}.bin`, 'the slot is saved: ' + rec.saved.join(' '));
    check(files.filter((f) => f.path.startsWith('/diary/c/')).length === 2, 'the now chunk and the part opened: ' + rec.saved.join(' '));
    for (const f of files) {
      check(f.sha256 === sha(publicFile(f.path.slice(1))), 'saved exactly as published: ' + f.path);
    }
    const weeksOnline = await tab.$$eval('#diary .dweek', (ws) => ws.length);

    await goOffline(context);
    const t0 = Date.now();
    await tab.reload({ waitUntil: 'load' });
    const off = await outcome(tab);
    rec.offlineOpenMs = Date.now() - t0;
    check(off.heading && off.heading.includes(config.remember.name), 'opens with no network: ' + off.error);
    const note = await tab.$eval('#diary-offline', (n) => ({ text: n.textContent, hidden: n.hidden }));
    const expected = await expectedOfflineNote(tab);
    rec.offlineNote = note.text;
    check(!note.hidden && note.text === expected.text, `says "data as of ${expected.built}, no connection": ` + note.text);
    check(await tab.isVisible('#diary-offline'), 'the note is visible');
    const axe = await runAxe(tab);
    rec.diaryAxe = axe;
    check(axe.length === 0, 'axe on the diary opened offline: ' + JSON.stringify(axe));
    const weeks1 = await tab.$$eval('#diary .dweek', (ws) => ws.length);
    await tab.click('#diary-prev');
    await tab.waitForFunction((n) => document.querySelectorAll('#diary .dweek').length > n ||
      document.getElementById('diary-part-error').textContent !== '', weeks1);
    const partError = await tab.$eval('#diary-part-error', (e) => e.textContent);
    check(partError === '', 'the saved earlier part opens offline: ' + partError);
    check(await tab.$$eval('#diary .dweek', (ws) => ws.length) === weeksOnline, 'the same weeks as online');
    rec.refusedWhileOffline = host.refused;
    await goOnline(context);
    await tab.reload({ waitUntil: 'load' });
    const back = await outcome(tab);
    check(back.heading !== null, 'online again: opens');
    check(await tab.isHidden('#diary-offline'), 'online again: no offline note');
  });

  // ---- 4. A new build replaces what is cached ------------------------------------------------
  await run(main, async ({ tab, check, rec }) => {
    const before = await cacheContents(tab);
    const oldStatic = Object.keys(before).filter((n) => n.startsWith('diary-static:'));
    await step('new-build');
    await tab.goto(base + '/index.html', { waitUntil: 'load' });
    check((await tab.$eval('main', (m) => m.innerText)).includes(config.newTitle), 'the new front page');
    // The browser fetched the new sw.js on this visit; wait for the new version to take over.
    const until = Date.now() + WAIT;
    for (;;) {
      const statics = (await tab.evaluate(() => caches.keys())).filter((n) => n.startsWith('diary-static:'));
      if ((statics.length === 1 && !oldStatic.includes(statics[0])) || Date.now() > until) break;
      await tab.waitForTimeout(200);
    }
    const after = await cacheContents(tab);
    const statics = Object.keys(after).filter((n) => n.startsWith('diary-static:'));
    rec.versions = { before: oldStatic, after: statics };
    check(statics.length === 1 && !oldStatic.includes(statics[0]), 'a new static cache, the old one deleted');
    const css = (after[statics[0]] || []).find((e) => e.path === '/static/style.css');
    check(css && css.sha256 === sha(publicFile('static/style.css')), 'the new build\'s style.css cached');
    const pages = Object.keys(after).find((n) => n.startsWith('diary-pages:'));
    const front = pages && after[pages].find((e) => e.path === '/index.html');
    check(front && front.sha256 === sha(publicFile('index.html')), 'the new front page cached');
    // The diary's saved files: the new build's bytes after the next opening.
    await tab.goto(base + PAGE, { waitUntil: 'load' });
    const got = await outcome(tab);
    check(got.heading !== null, 'the remembered diary opens');
    await tab.waitForTimeout(500);
    const data = await cacheContents(tab);
    for (const name of dataCaches(data)) {
      for (const f of data[name]) {
        check(fs.existsSync(path.join(config.public, f.path)) && f.sha256 === sha(publicFile(f.path.slice(1))),
          'saved copy is the new build\'s: ' + f.path);
      }
    }
  });

  // ---- 5. Revocation clears the family's saved files ----------------------------------------
  await run(main, async ({ context, tab, check, rec }) => {
    await step('revoke');
    host.expect404 = true;
    await tab.reload({ waitUntil: 'load' });
    const got = await outcome(tab);
    host.expect404 = false;
    const expired = await tab.getAttribute('#diary-app', 'data-msg-expired');
    check(got.heading === null && got.error === expired, 'online: "no longer valid": ' + got.error);
    await tab.waitForTimeout(300);
    const cached = await cacheContents(tab);
    rec.afterRevoke = Object.keys(cached);
    check(dataCaches(cached).length === 0, 'no saved copy left: ' + Object.keys(cached).join(' '));
    const anywhere = Object.values(cached).flat().filter((e) => e.path.startsWith('/diary/k/') || e.path.startsWith('/diary/c/'));
    check(anywhere.length === 0, 'no sealed file in any cache: ' + anywhere.map((e) => e.path).join(' '));
    await goOffline(context);
    await tab.reload({ waitUntil: 'load' });
    await tab.waitForSelector('#diary-code', { state: 'visible' });
    await tab.waitForTimeout(300);
    check(await tab.isHidden('#diary-view'), 'offline after the revocation: nothing opens');
    await goOnline(context);
  });
  await main.finish();

  // ---- 6. "Forget this device" drops the saved files --------------------------------------
  const forget = await newContext('forget this device');
  await run(forget, async ({ tab, check }) => {
    await tab.goto(base + '/index.html', { waitUntil: 'load' });
    await controlled(tab);
    const got = await unlock(tab, config.other.code, true);
    check(got.heading && got.heading.includes(config.other.name), 'opens: ' + got.error);
    await tab.waitForTimeout(500);
    check(dataCaches(await cacheContents(tab)).length === 1, 'saved while remembered');
    await tab.click('#diary-forget');
    // Forgetting deletes the device record, what it has seen, then the saved copy. Only the
    // names are polled meanwhile: opening a cache (as cacheContents does) while the page
    // deletes it would make it again.
    const names = () => tab.evaluate(async () => (await caches.keys()).filter((n) => n.startsWith('diary-data:')));
    const deadline = Date.now() + 10_000;
    while ((await names()).length > 0 && Date.now() < deadline) await tab.waitForTimeout(100);
    check(dataCaches(await cacheContents(tab)).length === 0, 'forgotten: nothing saved');
    // Not remembered: nothing is saved at all.
    await tab.click('#diary-close');
    const again = await unlock(tab, config.other.code, false);
    check(again.heading !== null, 'opens again');
    await tab.waitForTimeout(500);
    check(dataCaches(await cacheContents(tab)).length === 0, 'a device not remembered keeps nothing');
  });
  await forget.finish();

  // ---- 7. Print this week --------------------------------------------------------------------
  const print = await newContext('print this week');
  await run(print, async ({ tab, check, rec }) => {
    const got = await unlock(tab, config.other.code, false);
    check(got.heading !== null, 'opens: ' + got.error);
    check(await tab.isVisible('#diary-print-week'), 'the button is in the week bar');
    check(await tab.evaluate(() => document.getElementById('diary-weekbar').contains(document.getElementById('diary-print-week'))),
      'inside the week bar');
    // window.print() opens no dialog here: count its calls instead.
    await tab.evaluate(() => {
      window.printed = 0;
      window.print = () => { window.printed += 1; };
    });
    await tab.click('#diary-print-week');
    check(await tab.evaluate(() => window.printed) === 1, 'the button prints');
    await tab.emulateMedia({ media: 'print' });
    const shown = await tab.evaluate(() => {
      const visible = (el) => {
        if (!el) return false;
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
      };
      return {
        weeks: Array.from(document.querySelectorAll('#diary .dweek')).filter(visible).map((w) => w.getAttribute('data-week')),
        buttons: Array.from(document.querySelectorAll('button')).filter(visible).map((b) => b.textContent.trim()),
        head: visible(document.querySelector('#diary .child-head h2')) && visible(document.querySelector('#diary .child-head p')),
        headText: document.querySelector('#diary .child-head').innerText,
        weekTitle: document.querySelector('#diary .dweek:not([hidden]) .dweek-title').textContent,
        periods: visible(document.querySelector('#diary .periods')),
        siteHeader: visible(document.querySelector('header.top')),
        links: Array.from(document.querySelectorAll('nav')).filter(visible).length,
      };
    });
    rec.printed = shown;
    check(shown.weeks.length === 1, 'exactly one week printed: ' + shown.weeks.join(' '));
    check(shown.buttons.length === 0, 'no buttons printed: ' + shown.buttons.join(' | '));
    check(shown.head, 'the child\'s name, class and date at the top');
    check(!shown.periods && !shown.siteHeader && shown.links === 0, 'no other panels, no navigation');
    const pdf = await tab.pdf({ format: 'A4', printBackground: false });
    fs.writeFileSync(config.pdf, pdf);
    rec.pdfPages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    rec.weekTitle = shown.weekTitle;
    rec.headText = shown.headText;
    check(rec.pdfPages === 1, 'one A4 page: ' + rec.pdfPages);
    // After the print, the page is as it was; the browser's own print menu prints the
    // open diary with every period's marks.
    await tab.evaluate(() => window.dispatchEvent(new Event('afterprint')));
    check(!(await tab.evaluate(() => document.documentElement.classList.contains('print-week'))), 'print mode ends');
    const menu = await tab.evaluate(() => getComputedStyle(document.querySelector('#diary .periods')).display);
    check(menu !== 'none', 'the browser\'s print menu prints the periods too');
    await tab.emulateMedia({ media: 'screen' });
  });
  await print.finish();
} catch (e) {
  report.ok = false;
  report.failures.push('threw: ' + (e && e.stack ? e.stack : String(e)));
} finally {
  await browser.close();
  server.close();
}

console.log(JSON.stringify(report, null, 2));
process.exit(report.ok ? 0 : 1);
