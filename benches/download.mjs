// What a parent's browser downloads to open a diary, measured in headless Chromium from its
// network log (access protocol v2, docs/access.md; a v1 site is measured too).
//
//   cargo build --release
//   node benches/download.mjs --site SITE [--pupils 12] [--diary target/release/diary]
//        [--today 2026-11-23] [--json OUT.json]
//
// SITE is a built site with codes issued (`diary init SITE --demo --students N`, `diary codes
// issue`, `diary build`). The script serves SITE's public/ on 127.0.0.1, picks --pupils codes
// that open one child each, spread over the school's classes (`diary codes list --format
// csv`), and for each opens the unlock page in a fresh browser context, types the code and
// waits for the diary. It counts the bytes of every response except the unlock page, its CSS,
// JS and icons: params.json, the slot and the child's `now` chunk (v1: the page file). Then it
// presses "previous week" until the first week of the year, and counts each earlier part's
// chunk as it is fetched. Every chunk is also opened in Node (HKDF-SHA256 and AES-256-GCM, as
// in docs/access.md's worked example) to read L, the size of the gzip inside the padding.
//
// Prints a Markdown table (median and max over the pupils) and the targets; nothing personal
// (no code, no name). Uses only Node and the playwright-core in tests/browser/node_modules,
// driving Debian's chromium (/usr/bin/chromium, or $CHROMIUM). If the unlock page cannot open
// a v2 diary, the sizes of the files it would fetch are reported instead, and said so
// (--browser-only: fail instead).

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launchChromium, servePlain } from '../tests/browser/host.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

// ---- Arguments ----------------------------------------------------------------------------
const args = { pupils: 12, diary: path.join(repo, 'target', 'release', 'diary'), today: '2026-11-23',
  json: null, site: null, back: true, browser: 'auto' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => process.argv[++i];
  if (a === '--site') args.site = path.resolve(next());
  else if (a === '--pupils') args.pupils = Number(next());
  else if (a === '--diary') args.diary = path.resolve(next());
  else if (a === '--today') args.today = next();
  else if (a === '--json') args.json = path.resolve(next());
  else if (a === '--no-back') args.back = false;
  else if (a === '--browser-only') args.browser = 'only';
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}
if (!args.site) {
  console.error('usage: node benches/download.mjs --site SITE [--pupils N] [--diary BIN] [--today DATE] [--json OUT]');
  process.exit(2);
}
const pub = path.join(args.site, 'public');
if (!fs.existsSync(path.join(pub, 'diary', 'params.json'))) {
  console.error(`${pub} has no diaries: issue codes and build first`);
  process.exit(2);
}
const CODE_RE = /[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}/g;
const redact = (s) => String(s).replace(CODE_RE, 'XXXX-XXXX-XXXX-XXXX');

// ---- The pupils: one-child codes, spread over the classes ---------------------------------
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (ch !== '\r') field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

const listing = spawnSync(args.diary, ['-C', args.site, 'codes', 'list', '--format', 'csv'],
  { env: { ...process.env, DIARY_TODAY: args.today }, encoding: 'utf8', maxBuffer: 1 << 28 });
if (listing.status !== 0) {
  console.error('diary codes list failed: ' + redact(listing.stderr));
  process.exit(1);
}
const active = parseCsv(listing.stdout).filter((r) => r.status === 'active');
const perCode = new Map();
for (const r of active) perCode.set(r.code, (perCode.get(r.code) || 0) + 1);
// Guardians' codes first (what parents hold), one child each, one pupil per class in turn.
const single = active.filter((r) => perCode.get(r.code) === 1)
  .sort((a, b) => (a.holder_kind === 'guardian' ? 0 : 1) - (b.holder_kind === 'guardian' ? 0 : 1));
const byClass = new Map();
for (const r of single) {
  if (!byClass.has(r.class)) byClass.set(r.class, []);
  if (!byClass.get(r.class).some((x) => x.student_id === r.student_id)) byClass.get(r.class).push(r);
}
const grade = (c) => parseInt(c, 10) || 0;
const classes = [...byClass.keys()].sort((a, b) => grade(a) - grade(b) || a.localeCompare(b));
const chosen = [];
if (classes.length) {
  // Evenly spaced over the classes (first grade to last), then round again if needed.
  for (let round = 0; chosen.length < args.pupils && round < 50; round++) {
    const want = args.pupils - chosen.length;
    const step = Math.max(1, classes.length / want);
    for (let k = 0; k < want && Math.floor(k * step) < classes.length; k++) {
      const list = byClass.get(classes[Math.floor(k * step)]);
      if (list[round]) chosen.push({ ...list[round], grade: grade(classes[Math.floor(k * step)]) });
    }
  }
}
if (!chosen.length) {
  console.error('no code opens exactly one child: issue codes first');
  process.exit(1);
}

// ---- Opening files in Node (docs/access.md) -------------------------------------------------
const subtle = globalThis.crypto.subtle;
const enc = (t) => new TextEncoder().encode(t);
const hex = (b) => Buffer.from(b).toString('hex');
const params = JSON.parse(fs.readFileSync(path.join(pub, 'diary', 'params.json'), 'utf8'));

async function aesOpen(raw, file, aad) {
  const key = await subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
  return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: file.subarray(0, 12),
    additionalData: enc(aad) }, key, file.subarray(12)));
}

async function slotOf(typed) {
  const code = typed.toUpperCase().replace(/[ -]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const pass = await subtle.importKey('raw', enc(code), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256',
    salt: Buffer.from(params.salt, 'base64'), iterations: params.iterations }, pass, 384));
  const slot = hex(bits.subarray(0, 16));
  const file = fs.readFileSync(path.join(pub, 'diary', 'k', `${slot}.bin`));
  const content = JSON.parse(new TextDecoder().decode(await aesOpen(bits.subarray(16), file, `diary/slot/v1/${slot}`)));
  return { slot, content };
}

async function chunkRef(child, name) {
  const info = `diary/chunk/v2/${child.page}/${name}`;
  const dek = await subtle.importKey('raw', Buffer.from(child.key, 'base64'), 'HKDF', false, ['deriveBits']);
  const okm = new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256',
    salt: new Uint8Array(32), info: enc(info) }, dek, 384));
  return { name, id: hex(okm.subarray(0, 16)), key: okm.subarray(16), info };
}

async function gunzipText(bytes) {
  const gz = new Response(bytes).body.pipeThrough(new DecompressionStream('gzip'));
  return new Response(gz).text();
}

/** A padded payload: its L, and the HTML inside. */
async function unpad(p) {
  const len = new DataView(p.buffer, p.byteOffset).getUint32(0);
  return { L: len, html: await gunzipText(p.subarray(4, 4 + len)) };
}

/** Every chunk of the child, opened in Node: name -> {id, file size, L, html size}. */
async function chunksOf(child, v) {
  const out = new Map();
  if (v === 1) {
    const file = fs.readFileSync(path.join(pub, 'diary', 'p', `${child.page}.bin`));
    const { L, html } = await unpad(await aesOpen(Buffer.from(child.key, 'base64'), file, `diary/page/v1/${child.page}`));
    out.set('page', { name: 'page', path: `/diary/p/${child.page}.bin`, size: file.length, L, htmlBytes: enc(html).length });
    return { chunks: out, parts: [] };
  }
  const open = async (name) => {
    const ref = await chunkRef(child, name);
    const file = fs.readFileSync(path.join(pub, 'diary', 'c', `${ref.id}.bin`));
    const { L, html } = await unpad(await aesOpen(ref.key, file, ref.info));
    const entry = { name, path: `/diary/c/${ref.id}.bin`, size: file.length, L, htmlBytes: enc(html).length };
    out.set(name, entry);
    return html;
  };
  const now = await open('now');
  // The build minifies the HTML: attribute quotes may be gone.
  const ol = now.match(/<ol class=["']?dparts["']?[^>]*>([\s\S]*?)<\/ol>/);
  const parts = ol ? [...ol[1].matchAll(/data-part=["']?([^"'\s>]+)/g)].map((m) => m[1]) : [];
  for (const name of parts) await open(name);
  return { chunks: out, parts };
}

// ---- The browser ----------------------------------------------------------------------------
// As a static host serves them: no compression (the .bin files would not shrink anyway).
const { server, base } = await servePlain(pub, { headers: (rel, body) => ({ 'content-length': body.length }) });
const browser = await launchChromium();

/** The unlock page and what it loads to show itself: not counted. */
const shell = (p) => p === '/diary/' || p.endsWith('.html') || p.endsWith('.css') || p.endsWith('.js') ||
  /\.(ico|svg|png|webmanifest|woff2?)$/.test(p);

async function measure(pupil) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const log = [];
  const pending = [];
  const errors = [];
  context.on('response', (r) => {
    const u = new URL(r.url());
    if (u.origin !== base) return;
    pending.push(r.body().then((b) => log.push({ path: u.pathname, status: r.status(), bytes: b.length }),
      () => log.push({ path: u.pathname, status: r.status(), bytes: Number(r.headers()['content-length'] || 0) })));
  });
  await context.route('**/*', (route) => (route.request().url().startsWith(base + '/') ? route.continue() : route.abort()));
  const tab = await context.newPage();
  tab.setDefaultTimeout(60_000);
  tab.on('pageerror', (e) => errors.push(String(e)));
  // Quiet: no request in flight for 200 ms (a fetch after a click starts a moment later),
  // and every response's body read.
  let inflight = 0;
  let lastEvent = Date.now();
  context.on('request', () => { inflight += 1; lastEvent = Date.now(); });
  const done = () => { inflight -= 1; lastEvent = Date.now(); };
  context.on('requestfinished', done);
  context.on('requestfailed', done);
  const settle = async () => {
    const t0 = Date.now();
    while ((inflight > 0 || Date.now() - lastEvent < 200) && Date.now() - t0 < 60_000) {
      await new Promise((ok) => setTimeout(ok, 25));
    }
    await Promise.all(pending);
  };
  try {
    await tab.goto(base + '/diary/index.html', { waitUntil: 'load' });
    await settle();
    const shellBytes = log.reduce((s, r) => s + r.bytes, 0);
    const mark = log.length;
    const t0 = Date.now();
    await tab.fill('#diary-code', pupil.code);
    await tab.click('#diary-submit');
    await tab.waitForFunction(() => {
      const h = document.querySelector('#diary-view:not([hidden]) #diary article.child h2');
      return (h && h.getBoundingClientRect().height > 0) || document.getElementById('diary-error').textContent !== '';
    }, null, { polling: 'raf' });
    const openMs = Date.now() - t0;
    const err = await tab.$eval('#diary-error', (e) => e.textContent);
    if (err) throw new Error('the unlock page said: ' + err);
    await settle();
    const opening = log.slice(mark).filter((r) => !shell(r.path));
    // Back, week by week, to the first week the diary can show.
    const back = [];
    if (args.back) {
      for (let guard = 0; guard < 80; guard++) {
        const disabled = () => tab.$eval('#diary-prev', (b) => b.disabled || b.hidden).catch(() => true);
        if (await disabled()) {
          // Perhaps only while a part is opened: look again a moment later.
          await new Promise((ok) => setTimeout(ok, 300));
          await settle();
          if (await disabled()) break;
        }
        const before = log.length;
        await tab.click('#diary-prev');
        await settle();
        for (const r of log.slice(before)) if (!shell(r.path)) back.push(r);
      }
    }
    const weeks = await tab.$$eval('#diary .dweek', (w) => w.length).catch(() => 0);
    return { shellBytes, opening, back, weeks, openMs, errors };
  } finally {
    await context.close();
  }
}

// ---- Run ------------------------------------------------------------------------------------
const results = [];
const problems = [];
let fromFiles = 0;
for (const [i, pupil] of chosen.entries()) {
  try {
    const { slot, content } = await slotOf(pupil.code);
    const v = content.v;
    const child = content.children[0];
    const { chunks, parts } = await chunksOf(child, v);
    const byPath = new Map([...chunks.values()].map((c) => [c.path, c]));
    let m;
    try {
      m = await measure(pupil);
    } catch (e) {
      if (v !== 2 || args.browser === 'only') throw e;
      // An unlock page that cannot read v2 yet: what it would fetch, from the files
      // (docs/access.md, "The unlock page"), said as such in the report.
      process.stderr.write(`pupil ${i + 1}: the browser did not open the diary (${redact(e.message || e)}); sizes from the files\n`);
      fromFiles += 1;
      const file = (rel) => ({ path: rel, status: 200, bytes: fs.statSync(path.join(pub, rel)).size });
      m = { shellBytes: 0, openMs: NaN, weeks: 0, errors: [],
        opening: [file('/diary/params.json'), file(`/diary/k/${slot}.bin`), file(chunks.get('now').path)],
        back: parts.map((name) => file(chunks.get(name).path)) };
    }
    const name = (r) => (r.path === '/diary/params.json' ? 'params.json'
      : r.path === `/diary/k/${slot}.bin` ? 'slot' : (byPath.get(r.path) || { name: 'other ' + r.path.replace(/[0-9a-f]{32}/, '…') }).name);
    const opening = m.opening.map((r) => ({ ...r, what: name(r), L: (byPath.get(r.path) || {}).L }));
    const back = m.back.map((r) => ({ ...r, what: name(r), L: (byPath.get(r.path) || {}).L }));
    results.push({ grade: pupil.grade, v, parts: parts.length, weeks: m.weeks, openMs: m.openMs,
      shellBytes: m.shellBytes, opening, back, chunks: [...chunks.values()].map(({ path: _, ...c }) => c) });
    if (m.errors.length) problems.push(`pupil ${i + 1}: page errors: ${m.errors.join('; ')}`);
    const unexpected = [...opening, ...back].filter((r) => r.what.startsWith('other') || r.status !== 200);
    if (unexpected.length) problems.push(`pupil ${i + 1}: unexpected responses: ${JSON.stringify(unexpected)}`);
    const missing = parts.filter((p) => !back.some((r) => r.what === p));
    if (args.back && v === 2 && missing.length) problems.push(`pupil ${i + 1} (grade ${pupil.grade}): going back fetched no chunk for ${missing.join(', ')}`);
    process.stderr.write(`pupil ${i + 1}/${chosen.length}: grade ${pupil.grade}, v${v}, opened in ${m.openMs} ms\n`);
  } catch (e) {
    problems.push(`pupil ${i + 1} (grade ${pupil.grade}): ${redact(e && e.message ? e.message : e)}`);
    process.stderr.write(`pupil ${i + 1}: ${redact(e && e.message ? e.message : e)}\n`);
  }
}
await browser.close();
server.close();

// ---- Report ---------------------------------------------------------------------------------
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const mm = (xs) => (xs.length ? `${kb(median(xs))} / ${kb(Math.max(...xs))}` : '—');
const sum = (rs) => rs.reduce((s, r) => s + r.bytes, 0);
const first = results[0] || { v: '?' };

console.log(`\nDownload to open a diary (headless Chromium, ${results.length} pupils of grades ` +
  `${[...new Set(results.map((r) => r.grade))].sort((a, b) => a - b).join(', ')}; protocol v${first.v}; ` +
  `DIARY_TODAY ${args.today}; median / max over the pupils)\n`);
console.log('| what | bytes over the network | gzip inside (L) | target |');
console.log('| --- | --- | --- | --- |');
const ofWhat = (rs, w) => rs.filter((r) => r.what === w);
for (const w of ['params.json', 'slot']) {
  const xs = results.flatMap((r) => ofWhat(r.opening, w).map((x) => x.bytes));
  console.log(`| ${w} | ${mm(xs)} | | |`);
}
const main = first.v === 1 ? 'page' : 'now';
console.log(`| ${main === 'page' ? 'the page file (v1, p/)' : 'the now chunk'} | ${mm(results.flatMap((r) => ofWhat(r.opening, main).map((x) => x.bytes)))} | ` +
  `${mm(results.flatMap((r) => ofWhat(r.opening, main).map((x) => x.L)))} | |`);
console.log(`| **opening today's diary with a code** (all of the above) | **${mm(results.map((r) => sum(r.opening)))}** | | ≤ 8 KB |`);
const termsOf = results.flatMap((r) => r.back.filter((x) => x.what.startsWith('term-')));
const partNames = [...new Set(termsOf.map((x) => x.what))].sort();
for (const p of partNames) {
  const xs = termsOf.filter((x) => x.what === p);
  console.log(`| going back: chunk ${p} (${xs.length} pupils) | ${mm(xs.map((x) => x.bytes))} | ${mm(xs.map((x) => x.L))} | ≤ 40 KB |`);
}
if (partNames.length) {
  console.log(`| **going back to one earlier part** (any earlier part's chunk) | ` +
    `**${mm(termsOf.map((x) => x.bytes))}** | ${mm(termsOf.map((x) => x.L))} | ≤ 40 KB |`);
  console.log(`| going back over the whole year (every earlier part) | ${mm(results.map((r) => sum(r.back)))} | | |`);
}
if (fromFiles < results.length) {
  console.log(`| not counted: the unlock page, CSS, JS, icons (first visit, uncompressed) | ${mm(results.filter((r) => r.shellBytes).map((r) => r.shellBytes))} | | |`);
}
const opened = results.map((r) => r.openMs).filter((x) => !Number.isNaN(x));
if (opened.length) {
  console.log(`\nOpening in the browser after the code was typed (PBKDF2 at ${params.iterations} iterations included): ` +
    `median ${median(opened)} ms, max ${Math.max(...opened)} ms.`);
}
if (first.v === 2) {
  // The file of each kind (one size across the school) and the HTML it carries.
  const kinds = new Map();
  for (const r of results) for (const c of r.chunks) {
    if (!kinds.has(c.name)) kinds.set(c.name, { size: new Set(), L: [], html: [] });
    const k = kinds.get(c.name);
    k.size.add(c.size); k.L.push(c.L); k.html.push(c.htmlBytes);
  }
  console.log('\n| chunk kind | file size (padded, one per kind) | gzip inside (L), median / max | HTML inside, median / max |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, k] of [...kinds].sort((a, b) => (a[0] === 'now' ? -1 : b[0] === 'now' ? 1 : a[0].localeCompare(b[0])))) {
    console.log(`| ${name} | ${[...k.size].join(' / ')} B | ${mm(k.L)} | ${mm(k.html)} |`);
  }
}
if (fromFiles) {
  console.log(`\nNOTE: for ${fromFiles} of ${results.length} pupils the unlock page did not open the v2 diary, ` +
    'so their figures are the sizes of the files it would fetch (params.json, the slot, the now chunk; ' +
    'going back: each earlier part), read from public/, not from the network log.');
}
for (const p of problems) console.log(`\nproblem: ${p}`);
if (args.json) fs.writeFileSync(args.json, JSON.stringify({ today: args.today, results, problems }, null, 1));
process.exit(problems.length ? 1 : 0);
