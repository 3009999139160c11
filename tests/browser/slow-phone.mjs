// The diary unlock page on a slow phone: headless Chromium at phone width with DevTools CPU
// throttling (Emulation.setCPUThrottlingRate), against a built site whose codes use the
// site's real PBKDF2 iterations. Measures, in the page itself:
//   typed     tapping "open" (the form's submit) → the week painted on screen
//   remembered  a remembered device's reload (navigation start) → the week painted
// each a few times, with the page's own step marks ("diary:<step>", see diary.js) to tell
// where the time goes; and checks that the progress indicator moves while the key is
// derived: the sliding bar with normal motion, the seconds counter with reduced motion.
// Prints a JSON report on stdout; exits 1 when a check failed. Times are reported, never
// judged here. DevTools throttling slows the page's threads, not the browser's WebCrypto
// worker: the key derivation runs at this machine's speed (the unthrottled run's steps
// show it, to scale by hand for a slower phone).
//
// Usage: node slow-phone.mjs CONFIG.json, where the config holds
//   public   the built site's public/ folder
//   code     a code that opens one child;  name  that child's first name
//   rate     the CPU slowdown (4: a mid-range phone, as DevTools calls it)
//   runs     how many times to measure each way

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { launchChromium, serveLikeAHost } from './host.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const RATE = config.rate || 4;
const RUNS = config.runs || 3;
const WAIT = 120_000;
const PAGE = '/diary/index.html';

// Served as a well-configured host would (host.mjs): static files cached for a day, the rest
// revalidated, so a remembered device's visit costs what it would there.
const { server, base } = await serveLikeAHost(config.public);

const browser = await launchChromium();

/**
 * Runs in the page before its own scripts: notes when the form is submitted, watches every
 * frame for the current week on screen and, once there, notes the time after that frame
 * was painted; samples the progress indicator every 50 ms while it shows.
 */
function watch() {
  const w = { submitted: null, frame: null, painted: null, samples: [] };
  window.__slow = w;
  document.addEventListener('submit', () => { w.submitted = performance.now(); }, true);
  const shown = () => {
    const week = document.querySelector('#diary-view:not([hidden]) #diary .dweek:not([hidden])');
    return week && week.getBoundingClientRect().height > 0;
  };
  const frame = () => {
    if (w.frame === null && document.readyState !== 'loading' && shown()) {
      w.frame = performance.now();
      // The task after this frame's rendering: the week is on screen.
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { w.painted = performance.now(); };
      ch.port2.postMessage(0);
      return;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  setInterval(() => {
    const p = document.getElementById('diary-progress');
    if (!p || p.hidden) return;
    const bar = p.querySelector('.diary-progress-bar > span');
    const elapsed = document.getElementById('diary-progress-elapsed');
    const box = p.getBoundingClientRect();
    w.samples.push({
      t: performance.now(),
      visible: box.height > 0 && box.width > 0 && getComputedStyle(p).visibility === 'visible',
      transform: bar ? getComputedStyle(bar).transform : null,
      animations: bar ? bar.getAnimations().length : 0,
      elapsed: elapsed && elapsed.getBoundingClientRect().width > 0 ? elapsed.textContent : null,
    });
  }, 50);
}

/** The page's step marks, in ms from navigation start. */
const marks = (tab) => tab.evaluate(() => performance.getEntriesByType('mark')
  .filter((m) => m.name.startsWith('diary:'))
  .map((m) => ({ name: m.name.slice(6), t: Math.round(m.startTime) })));

/** A fresh context (its own IndexedDB), throttled; `init` runs in the page first. */
async function context({ reducedMotion = 'no-preference', init = null } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2,
    isMobile: true, hasTouch: true, reducedMotion });
  const rec = { consoleErrors: [], external: [] };
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(base + '/') || u.startsWith('data:')) return route.continue();
    rec.external.push(u);
    return route.abort();
  });
  await ctx.addInitScript(watch);
  if (init) await ctx.addInitScript(init);
  const tab = await ctx.newPage();
  tab.setDefaultTimeout(WAIT);
  tab.on('console', (m) => { if (m.type() === 'error') rec.consoleErrors.push(m.text()); });
  tab.on('pageerror', (e) => rec.consoleErrors.push(String(e)));
  const cdp = await ctx.newCDPSession(tab);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: RATE });
  return { ctx, tab, rec, cdp };
}

/** The page's notes once the week is on screen. Polled with plain evaluations from here:
 *  Playwright's own waiting helpers would run their scripts in the page while it is being
 *  measured. */
async function painted(tab) {
  const until = Date.now() + WAIT;
  while (Date.now() < until) {
    const w = await tab.evaluate(() => (window.__slow && window.__slow.painted !== null ? window.__slow : null))
      .catch(() => null); // a reload in progress
    if (w) return w;
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error('the week did not show in time');
}
const heading = (tab) => tab.$eval('#diary article.child h2', (e) => e.textContent).catch(() => '');

/** How long a fixed piece of work takes in the page: tells that the throttling holds. */
const spin = (tab) => tab.evaluate(() => {
  const t = performance.now();
  let x = 0;
  for (let i = 0; i < 2e6; i++) x = (x * 31 + i) % 1000003;
  return { ms: performance.now() - t, x };
}).then((r) => Math.round(r.ms * 10) / 10);

const report = { ok: true, rate: RATE, runs: RUNS, failures: [], typed: [], remembered: [],
  steps: {}, progress: {}, spinMs: {} };
const check = (ok, what) => { if (!ok) { report.ok = false; report.failures.push(what); } };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** Each step's time, from the previous mark (the first from `from`). */
function stepsOf(list, from) {
  const out = {};
  let last = from;
  for (const m of list) {
    out[m.name] = Math.round(m.t - last);
    last = m.t;
  }
  return out;
}

try {
  // Without throttling, once: what this machine does at full speed, for comparison.
  {
    const { ctx, tab, cdp, rec } = await context();
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    report.spinMs.unthrottled = await spin(tab);
    await tab.goto(base + PAGE, { waitUntil: 'load' });
    await tab.fill('#diary-code', config.code);
    await tab.click('#diary-submit');
    const w = await painted(tab);
    report.unthrottledTypedMs = Math.round(w.painted - w.submitted);
    const m = await marks(tab);
    const open = m.find((x) => x.name === 'open');
    report.steps.unthrottled = stepsOf(m.filter((x) => open && x.t > open.t), open ? open.t : 0);
    check(rec.consoleErrors.length === 0, 'no console errors: ' + rec.consoleErrors.join(' | '));
    await ctx.close();
  }

  // Typed code, throttled: each run in a fresh context, like a first visit. The first run
  // also checks the moving bar and remembers the device for the reloads below.
  let kept = null;
  for (let run = 0; run < RUNS; run++) {
    const c = await context();
    const { tab, rec } = c;
    if (run === 0) report.spinMs.throttled = await spin(tab);
    await tab.goto(base + PAGE, { waitUntil: 'load' });
    await tab.fill('#diary-code', config.code);
    if (run === 0) await tab.check('#diary-remember');
    await tab.waitForLoadState('networkidle');
    await tab.click('#diary-submit');
    const w = await painted(tab);
    const ms = w.painted - w.submitted;
    report.typed.push(Math.round(ms));
    const name = await heading(tab);
    check(name.includes(config.name), `run ${run}: the diary of ${config.name} opened (${name})`);
    const m = await marks(tab);
    const open = m.find((x) => x.name === 'open');
    const after = m.filter((x) => open && x.t >= open.t && x.name !== 'open');
    const steps = stepsOf(after, open ? open.t : w.submitted);
    steps.submitToOpen = open ? Math.round(open.t - w.submitted) : null;
    steps.paint = Math.round(w.painted - (m.find((x) => x.name === 'shown') || { t: w.painted }).t);
    report.steps[`typed${run}`] = steps;
    check(['params', 'derived', 'slot', 'chunk-fetched', 'chunk-decrypted', 'chunk-gunzipped', 'parsed', 'shown']
      .every((k) => k in steps), `run ${run}: every step marked: ${Object.keys(steps)}`);
    if (run === 0) {
      // The bar while PBKDF2 runs: between the marks "params" and "derived".
      const from = (m.find((x) => x.name === 'params') || {}).t;
      const to = (m.find((x) => x.name === 'derived') || {}).t;
      const during = w.samples.filter((s) => s.t >= from && s.t <= to);
      const transforms = new Set(during.map((s) => s.transform));
      report.progress.motion = { derivationMs: Math.round(to - from), samples: during.length,
        distinctPositions: transforms.size, first: during[0], last: during[during.length - 1] };
      check(during.length >= 2, `the bar sampled at least twice during the derivation (${during.length})`);
      check(during.every((s) => s.visible), 'the bar is visible during the derivation');
      check(during.every((s) => s.animations === 1), 'the bar is animated');
      check(transforms.size >= 2, `the bar moves during the derivation (${transforms.size} positions)`);
      check(await tab.isHidden('#diary-progress'), 'the bar is gone once the diary shows');
      kept = c;
    } else {
      await c.ctx.close();
    }
    check(rec.consoleErrors.length === 0, `run ${run}: no console errors: ` + rec.consoleErrors.join(' | '));
    check(rec.external.length === 0, `run ${run}: no request leaves the site`);
  }

  // A remembered device: reload → the week painted (throttled; the throttling holds across
  // the reload, which `spin` confirms).
  {
    const { tab, rec, ctx } = kept;
    for (let run = 0; run < RUNS; run++) {
      await tab.reload({ waitUntil: 'commit' });
      const w = await painted(tab);
      report.remembered.push(Math.round(w.painted));
      check((await heading(tab)).includes(config.name), `remembered ${run}: the diary opened`);
      const m = await marks(tab);
      const nav = await tab.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0];
        const files = performance.getEntriesByType('resource')
          .filter((r) => /\/static\/[^/]+\.(css|js)$/.test(r.name));
        return { response: Math.round(n.responseEnd), interactive: Math.round(n.domInteractive),
          dcl: Math.round(n.domContentLoadedEventEnd),
          files: Math.round(Math.max(0, ...files.map((r) => r.responseEnd))) };
      });
      const open = m.find((x) => x.name === 'open');
      // domContentLoaded: from the page's HTML received to its script run (which starts
      // reading the device's key); `static` is when the last CSS or JS file had arrived.
      const steps = { response: nav.response, static: nav.files - nav.response,
        htmlParsed: nav.interactive - nav.response, domContentLoaded: nav.dcl - nav.response,
        readDevice: open ? Math.round(open.t - nav.dcl) : null,
        ...stepsOf(m.filter((x) => x.name !== 'open'), open ? open.t : 0) };
      steps.paint = Math.round(w.painted - (m.find((x) => x.name === 'shown') || { t: w.painted }).t);
      report.steps[`remembered${run}`] = steps;
      check(!m.some((x) => x.name === 'derived'), 'no key derivation on a remembered device');
    }
    // The same loop after the reloads, then at full speed, back to back in the same tab.
    const best = async () => Math.min(await spin(tab), await spin(tab), await spin(tab));
    report.spinMs.throttledAfterReload = await best();
    await kept.cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    report.spinMs.fullSpeedAfterReload = await best();
    check(report.spinMs.throttledAfterReload > 2 * report.spinMs.fullSpeedAfterReload,
      `the throttling holds after a reload (${report.spinMs.throttledAfterReload} ms, ` +
      `${report.spinMs.fullSpeedAfterReload} ms at full speed)`);
    check(rec.consoleErrors.length === 0, 'remembered: no console errors: ' + rec.consoleErrors.join(' | '));
    await ctx.close();
  }

  // Reduced motion: the bar stands still, the seconds count up. The derivation is held for
  // 3 s more here so that the counter has time to change; the CPU is not slowed, this is
  // about what the indicator does.
  const hold = () => {
    const derive = SubtleCrypto.prototype.deriveBits;
    SubtleCrypto.prototype.deriveBits = async function (alg, ...rest) {
      const out = await derive.call(this, alg, ...rest);
      if (alg && alg.name === 'PBKDF2') await new Promise((ok) => setTimeout(ok, 3000));
      return out;
    };
  };
  {
    const { ctx, tab, rec, cdp } = await context({ reducedMotion: 'reduce', init: hold });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await tab.goto(base + PAGE, { waitUntil: 'load' });
    await tab.fill('#diary-code', config.code);
    await tab.click('#diary-submit');
    const w = await painted(tab);
    const m = await marks(tab);
    const from = (m.find((x) => x.name === 'params') || {}).t;
    const to = (m.find((x) => x.name === 'derived') || {}).t;
    const during = w.samples.filter((s) => s.t >= from && s.t <= to);
    const counts = [...new Set(during.map((s) => s.elapsed))];
    report.progress.reducedMotion = { samples: during.length, counter: counts,
      transforms: [...new Set(during.map((s) => s.transform))] };
    check(during.length >= 2 && during.every((s) => s.visible), 'the bar shows with reduced motion');
    check(during.every((s) => s.animations === 0), 'no animation with reduced motion');
    check(counts.length >= 2 && counts.every((c) => c && /\d/.test(c)),
      `the seconds counter changes during the derivation: ${counts.join(' → ')}`);
    check((await heading(tab)).includes(config.name), 'the diary opens with reduced motion');
    check(rec.consoleErrors.length === 0, 'reduced motion: no console errors: ' + rec.consoleErrors.join(' | '));
    await ctx.close();
  }
  // axe-core while the code is checked (bar and counter showing).
  {
    const { ctx, tab, rec, cdp } = await context({ reducedMotion: 'reduce', init: hold });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await tab.goto(base + PAGE, { waitUntil: 'load' });
    await tab.fill('#diary-code', config.code);
    await tab.click('#diary-submit');
    await tab.waitForSelector('#diary-progress', { state: 'visible' });
    await tab.evaluate(axeSource + ';0');
    const axe = await tab.evaluate(async () => {
      const busy = !document.getElementById('diary-progress').hidden;
      const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
      return { busy, violations: r.violations.map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })) };
    });
    report.progress.axe = axe;
    check(axe.busy, 'axe ran while the progress showed');
    check(axe.violations.length === 0, 'axe while the code is checked: ' + JSON.stringify(axe.violations));
    await painted(tab);
    check(rec.consoleErrors.length === 0, 'axe run: no console errors: ' + rec.consoleErrors.join(' | '));
    await ctx.close();
  }
} catch (e) {
  check(false, 'threw: ' + (e && e.stack ? e.stack : String(e)));
} finally {
  await browser.close();
  server.close();
}
report.typedMedianMs = report.typed.length ? median(report.typed) : null;
report.rememberedMedianMs = report.remembered.length ? median(report.remembered) : null;
console.log(JSON.stringify(report, null, 2));
process.exit(report.ok ? 0 : 1);
