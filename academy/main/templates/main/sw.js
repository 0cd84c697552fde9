// Academy's service worker (served at /sw.js so its scope is the whole site).
// The app shell is cached on install under a name carrying the release, so a deploy replaces
// it; pages are fetched from the network first and a copy is kept only when the server allows
// it (private pages are no-store and are never kept); offline, a page not kept gets the offline
// page. A course the learner chose to keep (static/js/keep.js) has caches of its own,
// "academy-course-<slug>@<version>": its pages come back offline, its files come from it
// first, and a kept page seen online is refreshed in it.
"use strict";
const RELEASE = {{ release|tojson }};
const SHELL = {{ shell|tojson }};
const OFFLINE = {{ offline|tojson }};
const SIGN_OUT = {{ sign_out|tojson }};
const PREFIX = "academy-";
const SHELL_CACHE = PREFIX + "shell-" + RELEASE;
const PAGES_CACHE = PREFIX + "pages-" + RELEASE;
// Kept courses outlive a new release: keep.js replaces them when the course's version changes.
const COURSE_PREFIX = PREFIX + "course-";
const COURSE_FILE = /^\/courses\/[^/]+\/assets\//;
const MATCH = { ignoreVary: true };

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
          .filter(
            (name) =>
              name.startsWith(PREFIX) &&
              !name.startsWith(COURSE_PREFIX) &&
              name !== SHELL_CACHE &&
              name !== PAGES_CACHE
          )
          .map((name) => caches.delete(name))
      )
    ).then(() => self.clients.claim())
  );
});

function keepable(response) {
  const control = response.headers.get("Cache-Control") || "";
  return response.ok && response.type === "basic" && !/no-store|private/.test(control);
}

async function keptIn(request) {
  // The names of the kept courses' caches holding this URL.
  const names = (await caches.keys()).filter((name) => name.startsWith(COURSE_PREFIX));
  const found = [];
  for (const name of names) {
    if (await (await caches.open(name)).match(request.url, MATCH)) {
      found.push(name);
    }
  }
  return found;
}

async function page(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    if (keepable(response)) {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES_CACHE).then((cache) => cache.put(request, copy)));
    } else if (response.status === 403 || response.status === 404) {
      // A kept course the server no longer opens to this learner (closed, lesson removed):
      // the copy goes, so it cannot be read offline either.
      event.waitUntil(
        keptIn(request).then((found) => Promise.all(found.map((name) => caches.delete(name))))
      );
    } else if (response.ok && !response.redirected && response.type === "basic") {
      // A private page is kept only in a course the learner chose to keep: refresh that copy.
      const copy = response.clone();
      event.waitUntil(
        keptIn(request).then((found) =>
          Promise.all(
            found.map((name) => caches.open(name).then((c) => c.put(request.url, copy.clone())))
          )
        )
      );
    }
    return response;
  } catch (offline) {
    return (
      (await caches.match(request, MATCH)) || (await caches.match(OFFLINE)) || Response.error()
    );
  }
}

function ranged(request, kept) {
  // Audio and video ask for byte ranges; the cache holds the whole file.
  const range = /^bytes=(\d*)-(\d*)$/.exec((request.headers.get("Range") || "").trim());
  if (!range) {
    return kept;
  }
  return kept.blob().then((body) => {
    const size = body.size;
    let start = range[1] === "" ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    let end = range[1] === "" || range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start > end || start >= size) {
      return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
    }
    return new Response(body.slice(start, end + 1), {
      status: 206,
      headers: {
        "Content-Type": kept.headers.get("Content-Type") || "application/octet-stream",
        "Content-Range": `bytes ${start}-${end}/${size}`,
        "Content-Length": String(end - start + 1),
        "Accept-Ranges": "bytes",
      },
    });
  });
}

async function courseFile(event) {
  // A kept course's files come from the phone first: that is why the learner kept it.
  const request = event.request;
  const kept = await caches.match(request.url, MATCH);
  return kept ? ranged(request, kept) : fetch(request);
}

async function sameFileOfThisRelease(url) {
  // A kept page from an older release names that release's static URLs; the file of today's
  // shell is what the server would send for them too (core/assets.py).
  const rest = url.pathname.split("/").slice(4).join("/");
  const cache = await caches.open(SHELL_CACHE);
  for (const request of await cache.keys()) {
    if (new URL(request.url).pathname.split("/").slice(4).join("/") === rest) {
      return cache.match(request);
    }
  }
  return undefined;
}

async function asset(event) {
  const request = event.request;
  const kept = await caches.match(request);
  if (kept) {
    return kept;
  }
  let response;
  try {
    response = await fetch(request);
  } catch (offline) {
    const same = await sameFileOfThisRelease(new URL(request.url));
    if (same) {
      return same;
    }
    throw offline;
  }
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
  } else if (COURSE_FILE.test(url.pathname)) {
    event.respondWith(courseFile(event));
  }
});
