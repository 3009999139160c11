// Loads pages of a built site in headless Chromium at phone width and reports, as JSON on
// stdout: console errors, requests that leave the site, axe-core violations, page weight.
// Usage: node check-pages.mjs PUBLIC_DIR PAGE [PAGE ...]   (pages relative to PUBLIC_DIR)
// Exit status 0 when every page is clean, 1 otherwise.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { launchChromium } from './host.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [publicDir, ...pages] = process.argv.slice(2);
if (!publicDir || pages.length === 0) {
  console.error('usage: node check-pages.mjs PUBLIC_DIR PAGE [PAGE ...]');
  process.exit(2);
}

const types = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.xml': 'application/xml', '.ics': 'text/calendar; charset=utf-8',
  '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
};

// Bytes a phone downloads for each page: gzip sizes of everything it fetched.
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = path.join(publicDir, decodeURIComponent(url.pathname));
  if (!file.startsWith(path.resolve(publicDir))) { res.writeHead(403).end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  if (!fs.existsSync(file)) { res.writeHead(404).end('not found'); return; }
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
  res.end(fs.readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await launchChromium();
const results = [];
let failed = false;
try {
  for (const page of pages) {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
    const tab = await context.newPage();
    const consoleErrors = [];
    const external = [];
    let bytes = 0;
    tab.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    tab.on('pageerror', (e) => consoleErrors.push(String(e)));
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(base + '/')) return route.continue();
      if (u.startsWith('data:')) return route.continue();
      external.push(u);
      return route.abort();
    });
    tab.on('response', async (r) => {
      try { bytes += zlib.gzipSync(await r.body()).length; } catch { /* redirects */ }
    });
    const response = await tab.goto(`${base}/${page}`, { waitUntil: 'load' });
    await tab.waitForLoadState('networkidle');
    await tab.evaluate(axeSource + ';0');
    const axe = await tab.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const result = { page, status: response.status(), consoleErrors, external, axe, overflow, gzipBytes: bytes };
    if (response.status() !== 200 || consoleErrors.length || external.length || axe.length || overflow > 0) {
      failed = true;
    }
    results.push(result);
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(results, null, 2));
process.exit(failed ? 1 : 0);
