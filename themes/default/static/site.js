// Every page of the site: registers the service worker (sw.js at the site's root,
// docs/operations.md "Offline and installable") and, on a page the worker answered from its
// cache because there was no network, says so at the top of the page. This file holds no
// language of its own: the note's text is this script element's data-msg-offline.
'use strict';
(() => {
  const script = document.currentScript;
  if (!script || !('serviceWorker' in navigator)) return;
  const sw = navigator.serviceWorker;
  const controller = sw.controller;
  if (!controller) {
    // The first visit (or a reload that bypassed the worker): install it. After that the
    // browser checks sw.js for a new build itself, on every visit.
    sw.register(script.getAttribute('data-sw'), { updateViaCache: 'none' }).catch(() => {});
    return;
  }
  // The diary's unlock page says itself when it shows saved data.
  if (document.getElementById('diary-app')) return;
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => {
    const cached = event.data ? event.data.cached : null;
    if (cached !== null && cached !== undefined) showNote(cached);
  };
  controller.postMessage({ ask: 'offline?' }, [channel.port2]);

  /** "No connection: the copy saved on <date>", first thing in the page's main part. */
  function showNote(when) {
    const main = document.getElementById('main');
    if (!main || document.getElementById('offline-note')) return;
    let date = '';
    const d = new Date(when);
    if (when && !Number.isNaN(d.getTime())) {
      try {
        date = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
          { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' })
          .format(d);
      } catch {
        date = d.toISOString().slice(0, 16).replace('T', ' ');
      }
    }
    const text = (script.getAttribute('data-msg-offline') || '').replace('{date}', date)
      .replace(/\s+\./, '.');
    const p = document.createElement('p');
    p.id = 'offline-note';
    p.className = 'offline-note';
    p.setAttribute('role', 'status');
    p.textContent = text;
    main.prepend(p);
  }
})();
