// "What is new since the last visit" on the diary unlock page, in headless Chromium at
// phone width. Serves a built site on 127.0.0.1; each family's browser profile (context)
// lives through a change of the journal: the caller changes it and rebuilds while this
// waits. Prints a JSON report on stdout and exits 1 when any check failed.
//
// Usage: node news.mjs CONFIG.json, where the config holds
//   public   the built site's public/ folder (the same folder is rebuilt in between)
//   one      {code, name, expect}  a one-child code; `expect` what the change brings it:
//            marks [{subject, value}], absence {subject}, remark (text), homework (text),
//            announcement (title), period {subject, period, mark}
//   two      {code, children: [{name, remark}]}  a two-children code; each child gets its
//            own remark in the change
//   grade1   {code, name, remark, homework}  a grade 1 pupil (no marks in any period)
//
// Protocol: when every family has had its first visit, prints "READY-FOR-CHANGE" on stderr
// and waits for a line on stdin (the caller changes the journal and rebuilds meanwhile).

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { launchChromium, servePlain } from './host.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node news.mjs CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
const WAIT = 60_000;
const PAGE = '/diary/index.html';
const FOLDER = '/diary/';

const { server, base } = await servePlain(config.public);
const browser = await launchChromium();

const report = { ok: true, failures: [], scenarios: [] };

/** A family's browser profile: its own IndexedDB, kept across scenarios until closed. */
async function family(init = null) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  if (init) await context.addInitScript(init);
  const log = { consoleErrors: [], external: [] };
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(base + '/') || u.startsWith('data:')) return route.continue();
    log.external.push(u);
    return route.abort();
  });
  const tab = await context.newPage();
  tab.setDefaultTimeout(WAIT);
  tab.on('console', (m) => { if (m.type() === 'error') log.consoleErrors.push(m.text()); });
  tab.on('pageerror', (e) => log.consoleErrors.push(String(e)));
  return { context, tab, log };
}

/** Runs one scenario on a family's tab; its console errors and outside requests count. */
async function scenario(name, fam, run) {
  const rec = { name, checks: 0, failures: [], consoleErrors: [], external: [] };
  const check = (ok, what) => {
    rec.checks += 1;
    if (!ok) rec.failures.push(what);
  };
  const errorsBefore = fam.log.consoleErrors.length;
  const externalBefore = fam.log.external.length;
  try {
    await run({ tab: fam.tab, check, rec });
  } catch (e) {
    rec.failures.push('threw: ' + (e && e.stack ? e.stack : String(e)));
  }
  rec.consoleErrors = fam.log.consoleErrors.slice(errorsBefore);
  rec.external = fam.log.external.slice(externalBefore);
  check(rec.consoleErrors.length === 0, 'no console errors');
  check(rec.external.length === 0, 'no external requests');
  if (rec.failures.length) {
    report.ok = false;
    for (const f of rec.failures) report.failures.push(`${name}: ${f}`);
  }
  report.scenarios.push(rec);
}

// ---- Helpers on a tab ---------------------------------------------------------------
const message = (tab, key) => tab.getAttribute('#diary-app', `data-msg-${key}`);

/** Waits until the page shows a diary whose "what is new" is settled (or an error). */
async function settled(tab) {
  await tab.waitForFunction(() => {
    const a = document.querySelector('#diary-view:not([hidden]) #diary article.child');
    return (a && a.hasAttribute('data-news')) ||
      document.getElementById('diary-error').textContent !== '';
  }, null, { timeout: WAIT, polling: 'raf' });
  return tab.evaluate(() => {
    const a = document.querySelector('#diary article.child');
    const list = a && a.querySelector('section.whatsnew');
    const note = a && a.querySelector('.whatsnew-note');
    return {
      heading: a ? a.querySelector('h2').textContent : null,
      error: document.getElementById('diary-error').textContent,
      news: a ? a.getAttribute('data-news') : null,
      title: list ? list.querySelector('h3').textContent : null,
      lines: list ? Array.from(list.querySelectorAll('li'), (li) => ({
        kind: li.className.replace('whatsnew-', ''), text: li.textContent, hidden: li.hidden })) : [],
      note: note ? note.textContent : null,
      device: document.getElementById('diary-device-state').textContent,
    };
  });
}

/** The badges in the page: where each stands and what it says. */
const badges = (tab) => tab.$$eval('#diary .new-badge', (bs) => bs.map((b) => {
  const host = b.closest('li.lesson, li.remark, .news li, td, section');
  const lesson = b.closest('li.lesson');
  const hw = b.closest('div.hw');
  const prev = b.previousElementSibling;
  let what = 'other';
  if (hw) what = 'homework';
  else if (prev && prev.matches('.att')) what = 'absence';
  else if (prev && prev.matches('.mark-info, .mark')) what = 'mark';
  else if (b.closest('li.remark')) what = 'remark';
  else if (b.closest('td')) what = 'period';
  else if (b.closest('section[aria-labelledby="child-news"]')) what = 'announcement';
  const mark = what === 'mark' ? (prev.matches('.mark') ? prev : prev.previousElementSibling) : null;
  return {
    what, text: b.textContent, inWeek: Boolean(b.closest('.dweek')),
    subject: lesson ? lesson.querySelector('.subject').textContent : null,
    value: mark ? mark.textContent : null,
    att: what === 'absence' ? prev.className : null,
    host: host ? host.textContent.replace(/\s+/g, ' ').trim().slice(0, 200) : null,
  };
}));

async function runAxe(tab) {
  await tab.evaluate(axeSource + ';0');
  return tab.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

/** The `seen` store's records, as they are. */
const seenRecords = (tab) => tab.evaluate(async () => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('diary');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const stores = Array.from(db.objectStoreNames);
  if (!stores.includes('seen')) {
    db.close();
    return { version: db.version, stores, records: [] };
  }
  const all = await new Promise((ok, fail) => {
    const tx = db.transaction('seen', 'readonly');
    const values = tx.objectStore('seen').getAll();
    const keys = tx.objectStore('seen').getAllKeys();
    tx.oncomplete = () => ok(values.result.map((value, i) => ({ key: keys.result[i], value })));
    tx.onerror = () => fail(tx.error);
  });
  const version = db.version;
  db.close();
  return { version, stores, records: all };
});

/** Replaces the `seen` record of the diary folder (a device left with another state). */
const putSeen = (tab, value) => tab.evaluate(async ({ value, key }) => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('diary', 2);
    r.onupgradeneeded = () => {
      for (const name of ['device', 'seen']) {
        if (!r.result.objectStoreNames.contains(name)) r.result.createObjectStore(name);
      }
    };
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  await new Promise((ok, fail) => {
    const tx = db.transaction('seen', 'readwrite');
    tx.objectStore('seen').put(value, key);
    tx.oncomplete = ok;
    tx.onerror = () => fail(tx.error);
  });
  db.close();
}, { value, key: FOLDER });

/** The one well-formed entry a child's page has in the record, or why not. */
function entryCheck(record, page) {
  if (!record) return 'no record';
  const v = record.value;
  if (!v || v.v !== 1 || typeof v.children !== 'object') return 'not a v1 record: ' + JSON.stringify(v).slice(0, 200);
  const e = v.children[page];
  if (!e) return 'no entry for the child';
  if (!Number.isFinite(e.at) || Math.abs(Date.now() - e.at) > 10 * 60_000) return 'entry time ' + e.at;
  if (!Array.isArray(e.fp) || e.fp.length < 3 || !e.fp.every((f) => /^[A-Za-z0-9+/]{12}$/.test(f))) {
    return 'fingerprints ' + JSON.stringify(e.fp).slice(0, 200);
  }
  if (Object.keys(e).sort().join() !== 'at,fp') return 'entry fields ' + Object.keys(e);
  return null;
}

/** Every string a record holds. */
function strings(v, out = []) {
  if (typeof v === 'string') out.push(v);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push(k); strings(x, out); }
  return out;
}

async function openWithCode(tab, code, remember = true) {
  await tab.goto(base + PAGE, { waitUntil: 'load' });
  await tab.fill('#diary-code', code);
  if (remember) await tab.check('#diary-remember');
  await tab.click('#diary-submit');
  return settled(tab);
}
async function reopen(tab) {
  await tab.reload({ waitUntil: 'load' });
  return settled(tab);
}
/** Switches to the child named `name` in the switcher. */
async function switchTo(tab, name) {
  await tab.click(`#diary-kids button:has-text("${name}")`);
  await tab.waitForFunction((n) => {
    const h = document.querySelector('#diary article.child');
    return h && h.getAttribute('data-name') === n && h.hasAttribute('data-news') &&
      !document.getElementById('diary-app').hasAttribute('aria-busy');
  }, name);
  return settled(tab);
}
/** The page id of the child shown (from the slot, as the unlock page keeps it). */
async function pages(tab) {
  const { records } = await seenRecords(tab);
  return records.length ? Object.keys(records[0].value.children || {}) : [];
}

const lineWith = (got, kind, ...parts) => got.lines.some((l) => l.kind === kind && parts.every((p) => l.text.includes(p)));

try {
  const one = await family();
  const two = await family();
  const first = await family();
  let onePage = null;

  // ---- First visits -----------------------------------------------------------------
  await scenario('first visit', one, async ({ tab, check, rec }) => {
    const got = await openWithCode(tab, config.one.code);
    rec.first = got;
    check(got.heading && got.heading.includes(config.one.name), 'opened: ' + got.error);
    check(got.news === 'first', 'a first visit: ' + got.news);
    check(got.title === null && got.lines.length === 0, 'no list on a first visit');
    check(got.note === null, 'no note: ' + got.note);
    check((await badges(tab)).length === 0, 'no badge');
    const db = await seenRecords(tab);
    rec.db = { version: db.version, stores: db.stores };
    check(db.version === 2 && db.stores.includes('device') && db.stores.includes('seen'), 'database v2 with both stores');
    check(db.records.length === 1 && db.records[0].key === FOLDER, 'one record for the diary folder');
    const record = db.records[0];
    const kids = record ? Object.keys(record.value.children) : [];
    check(kids.length === 1 && /^[0-9a-f]{32}$/.test(kids[0]), 'one entry, by page id');
    onePage = kids[0];
    const bad = entryCheck(record, onePage);
    check(!bad, 'state saved: ' + bad);
    rec.fingerprints = record ? record.value.children[onePage].fp.length : 0;
    // Nothing of the diary in clear: no name, subject, mark text or code.
    const text = strings(record && record.value).join('\n');
    const code = config.one.code;
    const expect = config.one.expect;
    for (const s of [config.one.name, code, code.replaceAll('-', ''), expect.remark, expect.homework,
      expect.announcement, ...expect.marks.map((m) => m.subject)]) {
      check(!text.includes(s), 'not kept in clear: ' + s);
    }

    // Opened again with nothing changed: nothing new.
    const again = await reopen(tab);
    check(again.news === 'seen' && again.lines.length === 0, 'nothing new on a second open: ' + JSON.stringify(again.lines));
    check((await badges(tab)).length === 0, 'no badge on a second open');
  });

  await scenario('two children: first visit of the first', two, async ({ tab, check, rec }) => {
    const got = await openWithCode(tab, config.two.code);
    rec.first = got;
    check(got.heading !== null, 'opened: ' + got.error);
    check(got.news === 'first' && got.lines.length === 0, 'a first visit');
    const kids = await pages(tab);
    check(kids.length === 1, 'only the child shown has a state: ' + kids.length);
  });

  await scenario('a period with no marks (grade 1): first visit', first, async ({ tab, check }) => {
    const got = await openWithCode(tab, config.grade1.code);
    check(got.heading && got.heading.includes(config.grade1.name), 'opened: ' + got.error);
    check(got.news === 'first' && got.lines.length === 0 && got.note === null, 'a first visit, no error');
    check(await tab.$$eval('#diary td.mlist .mark', (m) => m.length) === 0, 'no marks in any period');
  });

  // A code typed on a device that is not remembered: nothing kept, a hint instead.
  await scenario('a device not remembered', await family(), async ({ tab, check }) => {
    const got = await openWithCode(tab, config.one.code, false);
    check(got.heading && got.heading.includes(config.one.name), 'opened: ' + got.error);
    check(got.news === 'off', 'off: ' + got.news);
    check(got.note === await message(tab, 'news-hint'), 'hint to remember the device: ' + got.note);
    check((await seenRecords(tab)).records.length === 0, 'nothing kept');
    check((await runAxe(tab)).length === 0, 'axe clean with the hint');
    // Remembering it now keeps what it shows as seen.
    await tab.click('#diary-remember-now');
    await tab.waitForSelector('#diary article.child[data-news="first"]');
    check(await tab.$('#diary .whatsnew-note') === null, 'the hint gone');
    const db = await seenRecords(tab);
    check(db.records.length === 1 && Object.keys(db.records[0].value.children).length === 1,
      'state kept once the device is remembered');
    // "Forget this device" clears it.
    await tab.click('#diary-forget');
    await tab.waitForFunction(() => !document.getElementById('diary-forget').offsetParent);
    check((await seenRecords(tab)).records.length === 0, 'forgetting the device clears the state');
  });

  // ---- Devices whose storage misbehaves ---------------------------------------------
  await scenario('a state of another format is ignored and replaced', await family(), async ({ tab, check, rec }) => {
    await tab.goto(base + PAGE, { waitUntil: 'load' });
    const foreignPage = 'f'.repeat(32);
    for (const [label, junk] of [
      ['unknown version', { v: 9, children: { [foreignPage]: { at: 1, fp: ['x'] } } }],
      ['not an object', 'seen-state'],
      ['broken entries', { v: 1, children: [1, 2, 3] }],
    ]) {
      await putSeen(tab, junk);
      const got = await openWithCode(tab, config.one.code);
      check(got.heading && got.heading.includes(config.one.name), `${label}: opened: ${got.error}`);
      check(got.news === 'first' && got.lines.length === 0 && got.note === null, `${label}: taken as a first visit: ${got.news}`);
      const db = await seenRecords(tab);
      const kids = Object.keys(db.records[0].value.children);
      check(db.records.length === 1 && kids.length === 1 && !entryCheck(db.records[0], kids[0]),
        `${label}: replaced by a well-formed record: ` + JSON.stringify(db.records[0].value).slice(0, 120));
      await tab.click('#diary-forget');
      await tab.waitForFunction(() => !document.getElementById('diary-forget').offsetParent);
    }
    // Another site's children in a well-formed record: this child has no state yet.
    await putSeen(tab, { v: 1, children: { [foreignPage]: { at: Date.now() - 86400000, fp: ['AAAAAAAAAAAA', 'BBBBBBBBBBBB', 'CCCCCCCCCCCC'] } } });
    const got = await openWithCode(tab, config.one.code);
    check(got.news === 'first' && got.lines.length === 0, 'another site\'s state: a first visit here');
    const db = await seenRecords(tab);
    rec.children = Object.keys(db.records[0].value.children).length;
    const mine = Object.keys(db.records[0].value.children).find((p) => p !== foreignPage);
    check(mine && !entryCheck(db.records[0], mine), 'this child\'s state saved beside it');
  });

  const refuse = () => {
    IDBFactory.prototype.open = function open() {
      throw new DOMException('The user denied permission to access the database.', 'SecurityError');
    };
  };
  await scenario('IndexedDB refused', await family(refuse), async ({ tab, check }) => {
    const got = await openWithCode(tab, config.one.code);
    check(got.heading && got.heading.includes(config.one.name), 'the diary still opens: ' + got.error);
    check(got.news === 'unavailable', 'unavailable: ' + got.news);
    check(got.note === await message(tab, 'news-unavailable'), 'says so: ' + got.note);
    check(got.device === await message(tab, 'no-storage'), 'and that the device is not remembered');
    check(got.lines.length === 0, 'no list');
    check((await runAxe(tab)).length === 0, 'axe clean with the note');
  });

  const full = () => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
      if (this.name === 'seen') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  };
  await scenario('storage full', await family(full), async ({ tab, check }) => {
    let got = await openWithCode(tab, config.one.code);
    check(got.heading && got.heading.includes(config.one.name), 'opened: ' + got.error);
    await tab.waitForSelector('#diary .whatsnew-note');
    got = await settled(tab);
    check(got.news === 'unavailable' && got.note === await message(tab, 'news-unavailable'),
      'says "what is new" is unavailable: ' + got.news);
    check(got.device === await message(tab, 'remembered'), 'the device itself is remembered');
    got = await reopen(tab);
    check(got.heading && got.heading.includes(config.one.name), 'reopens as a remembered device: ' + got.error);
    await tab.waitForSelector('#diary .whatsnew-note');
    check((await settled(tab)).news === 'unavailable', 'still unavailable, no error');
  });

  // ---- The journal changes; the site is rebuilt -----------------------------------
  console.error('READY-FOR-CHANGE');
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((ok) => rl.once('line', ok));
  rl.close();

  await scenario('new since the last visit', one, async ({ tab, check, rec }) => {
    const got = await reopen(tab);
    rec.got = got;
    const expect = config.one.expect;
    check(got.heading && got.heading.includes(config.one.name), 'reopened: ' + got.error);
    check(got.news === 'seen', 'state read: ' + got.news);
    const prefix = (await message(tab, 'news-title')).split('{date}')[0];
    check(got.title && got.title.startsWith(prefix) && got.title.length > prefix.length + 4, 'titled "new since <date>": ' + got.title);
    for (const m of expect.marks) {
      check(lineWith(got, 'mark', m.subject, m.value), `mark ${m.value} in ${m.subject} listed`);
    }
    check(got.lines.filter((l) => l.kind === 'mark').length === expect.marks.length, 'only the new marks');
    check(lineWith(got, 'absence', expect.absence.subject), 'the absence listed');
    check(lineWith(got, 'remark', expect.remark), 'the remark listed');
    check(lineWith(got, 'homework', expect.homework), 'the homework listed');
    check(lineWith(got, 'announcement', expect.announcement), 'the announcement listed');
    const changed = (await message(tab, 'news-period-changed')).split('{mark}')[0]
      .replace('{subject}', expect.period.subject).replace('{period}', expect.period.period);
    check(got.lines.some((l) => l.kind === 'period' && l.text === changed + expect.period.mark),
      'the changed period mark listed: ' + JSON.stringify(got.lines.filter((l) => l.kind === 'period')));
    check(got.lines.length === expect.marks.length + 5, 'nothing else listed: ' + JSON.stringify(got.lines));
    check(got.lines.slice(0, 8).every((l) => !l.hidden), 'the first lines shown');

    const b = await badges(tab);
    rec.badges = b;
    const word = await message(tab, 'news-badge');
    check(b.length > 0 && b.every((x) => x.text === word), 'each badge says so in words');
    const week = b.filter((x) => x.inWeek);
    for (const m of expect.marks) {
      check(week.some((x) => x.what === 'mark' && x.subject === m.subject && x.value === m.value), `badge on ${m.subject} ${m.value}`);
    }
    check(week.filter((x) => x.what === 'mark').length === expect.marks.length, 'no badge on old marks');
    check(week.some((x) => x.what === 'absence' && x.subject === expect.absence.subject && x.att.includes('att-')), 'badge on the absence');
    check(week.some((x) => x.what === 'homework' && x.host.includes(expect.homework)), 'badge on the homework');
    check(week.some((x) => x.what === 'remark' && x.host.includes(expect.remark)), 'badge on the remark of the day');
    check(week.length === expect.marks.length + 3, 'five badges in the week: ' + JSON.stringify(week));
    check(b.some((x) => !x.inWeek && x.what === 'remark'), 'badge in the term\'s remarks');
    check(b.some((x) => x.what === 'announcement' && x.host.includes(expect.announcement)), 'badge on the announcement');
    check(b.some((x) => x.what === 'period' && x.host === `${expect.period.mark} ${word}`), 'badge on the period mark');
    // The badges are in the week shown.
    check(await tab.$$eval('#diary .dweek:not([hidden]) .new-badge', (x) => x.length) === expect.marks.length + 3,
      'the week shown has them');
    rec.axe = await runAxe(tab);
    check(rec.axe.length === 0, 'axe clean with the list: ' + JSON.stringify(rec.axe));
    check(await tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 0, 'no sideways scroll');

    // Shown once: at the next open it is no longer new.
    const record = (await seenRecords(tab)).records[0];
    check(!entryCheck(record, onePage), 'what was shown kept as seen');
  });

  await scenario('mark all as seen', one, async ({ tab, check }) => {
    // The list of the scenario before is still on the page.
    let got = await settled(tab);
    check(got.lines.length > 0, 'the list is there');
    await tab.click('#diary .whatsnew-seen');
    await tab.waitForFunction(() => !document.querySelector('#diary section.whatsnew'));
    check(await tab.$$eval('#diary .new-badge', (x) => x.length) === 0, 'badges gone');
    check(await tab.evaluate(() => document.activeElement && document.activeElement.matches('#diary h2')), 'focus on the diary');
    check(await tab.$eval('#diary-status', (s) => s.textContent) === await message(tab, 'news-cleared'), 'said');
    got = await reopen(tab);
    check(got.news === 'seen' && got.lines.length === 0 && got.title === null, 'no list after reopening');
    check(await tab.$$eval('#diary .new-badge', (x) => x.length) === 0, 'no badge after reopening');
  });

  // A long time away: most of what the diary shows is new; the list shows the first lines
  // and the rest on demand.
  await scenario('a long list', one, async ({ tab, check, rec }) => {
    const weekAgo = Date.now() - 7 * 86400000;
    await tab.evaluate(async ({ key, weekAgo }) => {
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open('diary');
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      await new Promise((ok, fail) => {
        const tx = db.transaction('seen', 'readwrite');
        const store = tx.objectStore('seen');
        const get = store.get(key);
        get.onsuccess = () => {
          const v = get.result;
          for (const e of Object.values(v.children)) {
            e.fp = e.fp.filter((_, i) => i % 3 === 0);
            e.at = weekAgo;
          }
          store.put(v, key);
        };
        tx.oncomplete = ok;
        tx.onerror = () => fail(tx.error);
      });
      db.close();
    }, { key: FOLDER, weekAgo });
    const got = await reopen(tab);
    rec.count = got.lines.length;
    const spelled = await tab.evaluate((at) => new Intl.DateTimeFormat(document.documentElement.lang,
      { day: 'numeric', month: 'long' }).format(new Date(at)), weekAgo);
    check(got.title && got.title.includes(spelled), `titled with the last visit's day (${spelled}): ${got.title}`);
    check(got.lines.length > 12, 'many lines: ' + got.lines.length);
    check(got.lines.filter((l) => !l.hidden).length === 8, 'eight shown at first');
    const more = await tab.$eval('#diary .whatsnew-more', (b) => b.textContent);
    check(more.includes(String(got.lines.length - 8)), 'the button says how many more: ' + more);
    await tab.click('#diary .whatsnew-more');
    check(await tab.$$eval('#diary section.whatsnew li', (ls) => ls.every((l) => !l.hidden)), 'all shown');
    check(await tab.$('#diary .whatsnew-more') === null, 'the button gone');
    check(await tab.evaluate(() => document.activeElement.matches('#diary section.whatsnew li')),
      'focus on the first line shown');
    const kinds = new Set(got.lines.map((l) => l.kind));
    check(kinds.has('mark') && kinds.has('homework'), 'marks and homework among them: ' + [...kinds]);
    const order = ['mark', 'absence', 'remark', 'homework', 'announcement', 'period'];
    const ranks = got.lines.map((l) => order.indexOf(l.kind));
    check(ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1])), 'grouped: marks first, period marks last');
    check(await tab.$$eval('#diary .dweek .new-badge', (x) => x.length) > 0, 'badges in the week');
    check((await runAxe(tab)).length === 0, 'axe clean with the whole list');
    await tab.click('#diary .whatsnew-seen');
    await tab.waitForFunction(() => !document.querySelector('#diary section.whatsnew'));
  });

  await scenario('two children keep their own state', two, async ({ tab, check, rec }) => {
    const [a, b] = await tab.$$eval('#diary-kids button', (bs) => bs.map((x) => x.textContent));
    const remarkOf = (name) => config.two.children.find((c) => c.name === name).remark;
    let got = await reopen(tab);
    rec.first = got;
    check(got.news === 'seen', 'the first child\'s state read');
    check(lineWith(got, 'remark', remarkOf(a)), 'its own remark listed');
    check(!got.lines.some((l) => l.text.includes(remarkOf(b))), 'not the other child\'s');
    got = await switchTo(tab, b);
    rec.second = got;
    check(got.news === 'first' && got.lines.length === 0, 'the second child: a first visit, no list');
    check((await pages(tab)).length === 2, 'each child has a state now');
    got = await switchTo(tab, a);
    check(lineWith(got, 'remark', remarkOf(a)), 'switching back shows the first child\'s list again');
    got = await reopen(tab);
    check(got.lines.length === 0, 'first child: seen');
    got = await switchTo(tab, b);
    check(got.news === 'seen' && got.lines.length === 0, 'second child: seen');
  });

  await scenario('a period with no marks (grade 1): new since', first, async ({ tab, check, rec }) => {
    const got = await reopen(tab);
    rec.got = got;
    check(got.news === 'seen', 'state read');
    check(lineWith(got, 'remark', config.grade1.remark), 'the remark listed');
    check(lineWith(got, 'homework', config.grade1.homework), 'the homework listed');
    check(lineWith(got, 'announcement', config.one.expect.announcement), 'the school\'s announcement listed');
    check(!got.lines.some((l) => l.kind === 'mark' || l.kind === 'period'), 'no mark lines');
    check(got.lines.length === 3, 'nothing else: ' + JSON.stringify(got.lines));
    check((await runAxe(tab)).length === 0, 'axe clean');
  });
} catch (e) {
  report.ok = false;
  report.failures.push('threw: ' + (e && e.stack ? e.stack : String(e)));
}

await browser.close();
server.close();
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
process.exit(report.ok ? 0 : 1);
