// What the browser scripts share: Debian's Chromium, launched one way; a plain static server
// for a built site's public/ folder (servePlain); and one that answers the way
// docs/operations.md asks a host to: the headers of public/_headers (the file `diary build`
// writes for Netlify-style hosts), Cache-Control by the table of "Cache headers" (static/*
// for a day, everything else revalidated), an ETag with 304 answers to revalidations, gzip
// for text. What a family's browser meets on a well-configured host, so that repeat visits
// and audits measure what they would there.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const types = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml',
  '.xml': 'text/xml; charset=utf-8', '.ics': 'text/calendar; charset=utf-8',
  '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};
const compressible = /^(text\/|application\/(json|manifest\+json)|image\/svg)/;

/** public/_headers (the Netlify format): [{pattern, headers: [[name, value]]}]. */
function readHeaders(root) {
  const rules = [];
  let file;
  try {
    file = fs.readFileSync(path.join(root, '_headers'), 'utf8');
  } catch {
    return rules;
  }
  for (const line of file.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      rules.push({ pattern: line.trim(), headers: [] });
    } else if (rules.length) {
      const at = line.indexOf(':');
      if (at > 0) rules[rules.length - 1].headers.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
  }
  return rules;
}
const matches = (pattern, p) => (pattern.endsWith('/*') ? p.startsWith(pattern.slice(0, -1)) : p === pattern);

/** Serves `dir` on 127.0.0.1 (a free port); resolves to { server, base }. */
export async function serveLikeAHost(dir) {
  const root = path.resolve(dir);
  const rules = readHeaders(root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    let stat;
    try {
      stat = fs.statSync(file);
      if (stat.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = fs.statSync(file);
      }
    } catch {
      res.writeHead(404, { 'cache-control': 'no-cache' }).end('not found');
      return;
    }
    const type = types[path.extname(file)] || 'application/octet-stream';
    const headers = { 'content-type': type };
    for (const r of rules) {
      if (matches(r.pattern, url.pathname)) for (const [k, v] of r.headers) headers[k.toLowerCase()] = v;
    }
    if (!headers['cache-control']) {
      headers['cache-control'] = url.pathname.startsWith('/static/') ? 'public, max-age=86400' : 'no-cache';
    }
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    headers.etag = etag;
    headers['last-modified'] = stat.mtime.toUTCString();
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return;
    }
    let body = fs.readFileSync(file);
    if (compressible.test(type) && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
      body = zlib.gzipSync(body);
      headers['content-encoding'] = 'gzip';
      headers.vary = 'Accept-Encoding';
    }
    headers['content-length'] = body.length;
    res.writeHead(200, headers);
    res.end(body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

/** Debian's Chromium (the CHROMIUM variable, else /usr/bin/chromium), headless, without
 *  the browser's own background traffic, so every request a page makes is the page's. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

/**
 * Serves `dir` on `host` (a free port) file by file, a folder by its index.html, 404 for
 * anything missing, nothing more; resolves to { server, base }. `answer(req, res)` may
 * answer a request first (returning true); `headers(rel, body)` adds headers to a file's
 * answer; `served(rel)` hears of each file served (`rel` relative to `dir`).
 */
export async function servePlain(dir, { host = '127.0.0.1', answer, headers, served } = {}) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    if (answer && answer(req, res)) return;
    const url = new URL(req.url, 'http://x');
    let file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    try {
      if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
      const body = fs.readFileSync(file);
      const rel = path.relative(root, file);
      if (served) served(rel);
      res.writeHead(200, {
        'content-type': types[path.extname(file)] || 'application/octet-stream',
        ...(headers ? headers(rel, body) : {}),
      });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, host, ok));
  return { server, base: `http://${host}:${server.address().port}` };
}
