// Academy's service worker (served at /sw.js so its scope is the whole site).
// The app shell is cached on install under a name carrying the release, so a deploy replaces
// it; pages are fetched from the network first and a copy is kept only when the server allows
// it (private pages are no-store and are never kept); offline, a page not kept gets the offline
// page.
"use strict";
const RELEASE = {{ release|tojson }};
const SHELL = {{ shell|tojson }};
const OFFLINE = {{ offline|tojson }};
const SIGN_OUT = {{ sign_out|tojson }};
const PREFIX = "academy-";
const SHELL_CACHE = PREFIX + "shell-" + RELEASE;
const PAGES_CACHE = PREFIX + "pages-" + RELEASE;

self.addEventListener("install", (event) => {
  // Without cookies: the shell is the same for everyone, whoever is signed in.
  const requests = SHELL.map((url) => new Request(url, { credentials: "omit", cache: "reload" }));
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll(requests)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(
        names
          .filter((name) => name.startsWith(PREFIX) && name !== SHELL_CACHE && name !== PAGES_CACHE)
          .map((name) => caches.delete(name))
      )
    ).then(() => self.clients.claim())
  );
});

function keepable(response) {
  const control = response.headers.get("Cache-Control") || "";
  return response.ok && response.type === "basic" && !/no-store|private/.test(control);
}

async function page(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    if (keepable(response)) {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES_CACHE).then((cache) => cache.put(request, copy)));
    }
    return response;
  } catch (offline) {
    return (await caches.match(request)) || (await caches.match(OFFLINE)) || Response.error();
  }
}

async function asset(event) {
  const request = event.request;
  const kept = await caches.match(request);
  if (kept) {
    return kept;
  }
  const response = await fetch(request);
  if (keepable(response)) {
    // Fingerprinted static files never change: keep any the shell did not list.
    const copy = response.clone();
    event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy)));
  }
  return response;
}

async function dropPrivate() {
  // Signing out: nothing of this learner stays (the server's Clear-Site-Data does the same
  // where the browser supports it); the shell holds nothing personal and stays.
  const names = await caches.keys();
  await Promise.all(
    names.filter((name) => name.startsWith(PREFIX) && name !== SHELL_CACHE).map((n) => caches.delete(n))
  );
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && url.pathname === SIGN_OUT) {
    event.waitUntil(dropPrivate());
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith("/static/v/")) {
    event.respondWith(asset(event));
  }
});
