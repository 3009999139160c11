// Lighthouse on pages of a built site, with its default mobile emulation (a mid-range phone,
// simulated slow 4G and a 4× slower CPU), in Debian's Chromium. Serves the site on 127.0.0.1
// the way docs/operations.md asks a host to (host.mjs). Prints, as JSON on stdout, each page's four category
// scores (0–100) and the audits of those categories that did not fully pass.
//
// Usage: node lighthouse.mjs PUBLIC_DIR PAGE [PAGE ...]   (pages relative to PUBLIC_DIR)
// CHROMIUM: the browser to drive (default /usr/bin/chromium). Exit status 0 when every page
// was audited (the scores are judged by the caller), 1 otherwise.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import lighthouse from 'lighthouse';
import { serveLikeAHost } from './host.mjs';

const [publicDir, ...pages] = process.argv.slice(2);
if (!publicDir || pages.length === 0) {
  console.error('usage: node lighthouse.mjs PUBLIC_DIR PAGE [PAGE ...]');
  process.exit(2);
}
const root = path.resolve(publicDir);
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

const { server, base } = await serveLikeAHost(root);

/** Debian's Chromium with a DevTools port, in a profile of its own. */
async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'diary-lighthouse-'));
  const proc = spawn(process.env.CHROMIUM || '/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-default-apps', '--disable-extensions', '--mute-audio', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise((ok, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error('Chromium did not open its DevTools port')), 60_000);
    proc.stderr.on('data', (d) => {
      text += d;
      const m = text.match(/DevTools listening on ws:\/\/[^:]+:(\d+)\//);
      if (m) { clearTimeout(timer); ok(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`Chromium exited (${code}): ${text}`)); });
  });
  proc.stderr.resume();
  return { proc, port, profile };
}

const chrome = await launch();
const results = [];
let failed = false;
try {
  for (const page of pages) {
    const started = Date.now();
    const run = await lighthouse(`${base}/${page}`, {
      port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: CATEGORIES,
    });
    const lhr = run && run.lhr;
    if (!lhr || lhr.runtimeError) {
      failed = true;
      results.push({ page, error: lhr && lhr.runtimeError ? lhr.runtimeError.message : 'no result' });
      continue;
    }
    const scores = {};
    const findings = [];
    for (const id of CATEGORIES) {
      const cat = lhr.categories[id];
      scores[id] = cat && cat.score !== null ? Math.round(cat.score * 100) : null;
      for (const ref of cat ? cat.auditRefs : []) {
        const a = lhr.audits[ref.id];
        if (ref.weight > 0 && a && a.score !== null && a.score < 1) {
          findings.push({ category: id, id: ref.id, score: a.score, title: a.title,
            value: a.displayValue || '' });
        }
      }
    }
    // Unscored diagnostics and insights that found something (advice, not in the scores).
    const advice = [];
    for (const id of CATEGORIES) {
      for (const ref of lhr.categories[id] ? lhr.categories[id].auditRefs : []) {
        const a = lhr.audits[ref.id];
        if (ref.weight === 0 && a && a.score !== null && a.score < 1 &&
            !['manual', 'notApplicable', 'informative'].includes(a.scoreDisplayMode)) {
          advice.push({ id: ref.id, title: a.title, value: a.displayValue || '' });
        }
      }
    }
    const metrics = {};
    for (const id of ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time',
      'cumulative-layout-shift', 'speed-index']) {
      if (lhr.audits[id]) metrics[id] = lhr.audits[id].displayValue;
    }
    results.push({ page, scores, metrics, findings, advice, seconds: Math.round((Date.now() - started) / 100) / 10,
      lighthouse: lhr.lighthouseVersion, formFactor: lhr.configSettings.formFactor,
      warnings: lhr.runWarnings });
  }
} catch (e) {
  failed = true;
  results.push({ error: String(e && e.stack ? e.stack : e) });
} finally {
  chrome.proc.kill();
  server.close();
  await new Promise((ok) => (chrome.proc.exitCode !== null ? ok() : chrome.proc.once('exit', ok)));
  // Chromium's helper processes may still write into the profile for a moment after the
  // browser exits: retry, and never fail the run over a leftover temporary folder.
  try {
    fs.rmSync(chrome.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (e) {
    console.error(`cannot remove ${chrome.profile}: ${e.code || e}`);
  }
}
console.log(JSON.stringify(results, null, 2));
process.exit(failed ? 1 : 0);
