// The site's service worker: keeps the site readable without a network. Written by hand,
// no library; docs/access.md ("On this device") and docs/operations.md ("Offline and
// installable") describe it. Served from the site's root, so it sees every page of the site.
//
// The rules, all of them:
// - Pages and data go to the network first. A cache answers only when the network fails (no
//   connection, or the host answers 5xx). So a new build's pages and data replace the cached
//   ones on the next visit with a connection, and when the host says a file is gone (404,
//   410, 403) the page hears exactly that.
// - STATIC (named by VERSION): the unlock page, params.json, the manifest, the front page and
//   the theme's files, fetched (past the browser's HTTP cache) when the worker installs.
//   VERSION is a digest of the theme's static files, the manifest and this worker, never of
//   the journal: it does not change when a diary does. The theme's files and the manifest
//   are answered from STATIC first (a new theme is a new VERSION, so a new worker, fetched
//   by the browser on the next visit, with its own STATIC); the pages in it go to the
//   network first and are refreshed by each answer. Caches of other versions are deleted
//   when this worker takes over.
// - PAGES: the board pages (HTML) read with a connection, refreshed each time they are
//   read, at most MAX_PAGES of them (the oldest go first).
// - Diary files (diary/k/, diary/c/, diary/p/): never stored by this worker. The unlock
//   page stores exactly the sealed bytes it opened, per family, in caches of its own
//   (names starting with "diary-data:"), and deletes them when the host says the family's
//   code is gone or the device is forgotten. This worker only reads them when the network
//   fails.
// - An answer from a cache carries "X-Diary-Offline: 1" and "X-Diary-Cached: <when it was
//   stored>", so the page can say it shows a saved copy. A page asks over postMessage
//   ("offline?") whether it was itself loaded from a cache, and when.
'use strict';

const VERSION = '{{ version }}';
const PRECACHE = {{ precache | safe }};
const MAX_PAGES = 200;
// The site's root, as the worker's scope ("/" or "/school/"); cache names carry it so two
// sites on one origin keep apart.
const SCOPE = new URL(self.registration.scope).pathname;
const STATIC = 'diary-static:' + SCOPE + ':' + VERSION;
const STATIC_PREFIX = 'diary-static:' + SCOPE + ':';
const PAGES = 'diary-pages:' + SCOPE;
const DATA = /^diary\/(k|c|p)\/[0-9a-f]{32}\.bin$/;
const TEXT = {
  title: {{ t.offline_missing_title | json_encode() | safe }},
  missing: {{ t.offline_missing | json_encode() | safe }},
  home: {{ t.offline_home | json_encode() | safe }},
  diary: {{ t.diary | json_encode() | safe }},
  lang: {{ lang | json_encode() | safe }},
};

/** Pages this worker answered from a cache: client id → when the copy was stored. */
const servedFromCache = new Map();

self.addEventListener('install', (event) => {
  // Each file on its own: one that cannot be fetched now is fetched on a later visit.
  event.waitUntil(caches.open(STATIC).then((cache) => Promise.all(PRECACHE.map((path) =>
    fetch(new Request(SCOPE + path, { cache: 'no-cache' }))
      .then((res) => (res.ok ? stamped(res).then((copy) => cache.put(SCOPE + path, copy)) : undefined))
      .catch(() => undefined))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  // Navigation preload: a page's request goes out while this worker starts, instead of
  // after (the browser stops an idle worker; starting it again is slow on a slow phone).
  const preload = self.registration.navigationPreload
    ? self.registration.navigationPreload.enable().catch(() => undefined) : undefined;
  event.waitUntil(Promise.all([preload, caches.keys()
    .then((names) => Promise.all(names
      .filter((n) => n.startsWith(STATIC_PREFIX) && n !== STATIC)
      .map((n) => caches.delete(n))))])
    .then(() => self.clients.claim()));
});

self.addEventListener('message', (event) => {
  const port = event.ports && event.ports[0];
  if (!port || !event.data || event.data.ask !== 'offline?' || !event.source) return;
  port.postMessage({ cached: servedFromCache.get(event.source.id) || null });
  servedFromCache.delete(event.source.id);
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || req.headers.has('range')) return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  const path = url.pathname.slice(SCOPE.length);
  if (DATA.test(path)) {
    event.respondWith(networkFirst(req, null, event));
  } else if (req.mode === 'navigate' || isPage(path)) {
    event.respondWith(networkFirst(req, PAGES, event));
  } else if (path.startsWith('static/') || path === 'manifest.webmanifest') {
    if (PRECACHE.includes(path)) event.respondWith(cacheFirst(req, event));
  } else if (PRECACHE.includes(path)) {
    event.respondWith(networkFirst(req, STATIC, event));
  }
  // Anything else (feeds, calendars, the sitemap) goes to the network as usual.
});

const isPage = (path) => path === '' || path.endsWith('/') || path.endsWith('.html');

/**
 * The network's answer, stored into `store` (when given) if it is a good one; on a network
 * failure or a 5xx, the cached copy from any of this origin's caches, marked as such.
 */
async function networkFirst(req, store, event) {
  let res = null;
  try {
    // A navigation's answer may already be on its way (navigation preload).
    const preloaded = req.mode === 'navigate' && event.preloadResponse
      ? await event.preloadResponse : undefined;
    res = preloaded || await fetch(req);
  } catch {
    res = null;
  }
  if (res && res.status < 500) {
    // Only a page's own answer: not an error, a redirect or (for pages) anything but HTML.
    const html = (res.headers.get('content-type') || '').startsWith('text/html');
    if (store && res.ok && res.type === 'basic' && !res.redirected && (store !== PAGES || html)) {
      const copy = stamped(res.clone());
      event.waitUntil(keep(store, req.url, copy));
    }
    return res;
  }
  const cached = await caches.match(req.url, { ignoreSearch: true, ignoreVary: true });
  if (cached) {
    if (req.mode === 'navigate' && event.resultingClientId) {
      servedFromCache.set(event.resultingClientId, cached.headers.get('x-diary-cached') || '');
    }
    return marked(cached);
  }
  if (res) return res;
  if (req.mode === 'navigate') return missingPage();
  return Response.error();
}

/** The theme's file as this version keeps it; fetched (and kept) when missing. */
async function cacheFirst(req, event) {
  const hit = await caches.open(STATIC).then((cache) => cache.match(req.url, { ignoreSearch: true }));
  return hit || networkFirst(req, STATIC, event);
}

/** Stores a copy; the page cache keeps its newest MAX_PAGES. */
async function keep(store, url, res) {
  const cache = await caches.open(store);
  await cache.put(url, await res);
  if (store === PAGES) {
    const keys = await cache.keys();
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_PAGES))) {
      await cache.delete(old);
    }
  }
}

/** A copy of `res` that says when it was stored. */
async function stamped(res) {
  const headers = new Headers(res.headers);
  headers.set('X-Diary-Cached', new Date().toISOString());
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers });
}

/** A cached answer, marked as coming from the cache. */
function marked(cached) {
  const headers = new Headers(cached.headers);
  headers.set('X-Diary-Offline', '1');
  return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
}

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');

/** What a page not saved on this device shows when there is no network. */
function missingPage() {
  const html = '<!doctype html><html lang="' + escapeHtml(TEXT.lang) + '"><head>' +
    '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>' + escapeHtml(TEXT.title) + '</title>' +
    '<link rel="stylesheet" href="' + SCOPE + 'static/style.css"></head><body><main id="main">' +
    '<h1>' + escapeHtml(TEXT.title) + '</h1><p>' + escapeHtml(TEXT.missing) + '</p>' +
    '<p><a href="' + SCOPE + 'index.html">' + escapeHtml(TEXT.home) + '</a> · ' +
    '<a href="' + SCOPE + 'diary/index.html">' + escapeHtml(TEXT.diary) + '</a></p>' +
    '</main></body></html>';
  return new Response(html, { status: 503,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'X-Diary-Offline': '1' } });
}
