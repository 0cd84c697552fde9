// "Keep this course on this phone": the course page asks the server what the course needs
// (/courses/<slug>/offline.json), shows the size, and on the learner's word fetches every page
// and file into a cache of its own, named by the course's version. The manifest is written
// last, so a cache without it is a save that did not finish and is never used. When the
// course changes, the next visit online saves the new version and drops the old one. The
// service worker (sw.js) serves the saved pages and files offline; sign-out drops them all.
(function () {
  "use strict";
  var box = document.getElementById("keep");
  if (!box || !window.caches || !window.fetch || !("serviceWorker" in navigator)) {
    return; // the section stays hidden where the browser cannot keep files
  }
  var manifestUrl = box.getAttribute("data-manifest");
  var prefix = "academy-course-" + box.getAttribute("data-slug") + "@";
  var status = box.querySelector(".keep-status");
  var buttons = {};
  box.querySelectorAll("[data-keep]").forEach(function (button) {
    buttons[button.getAttribute("data-keep")] = button;
  });
  var pending = null; // the manifest whose size was shown, waiting for "Save now"

  function t(name, values) {
    var text = box.getAttribute("data-t-" + name) || "";
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && values[key] !== undefined ? values[key] : whole;
    });
  }
  function size(bytes) {
    if (bytes < 1024 * 1024) {
      return Math.max(1, Math.round(bytes / 1024)) + " KB";
    }
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }
  function say(text, state) {
    status.textContent = text;
    box.setAttribute("data-state", state);
  }
  function show(names) {
    Object.keys(buttons).forEach(function (name) {
      buttons[name].hidden = names.indexOf(name) === -1;
    });
  }

  function savedNames() {
    return caches.keys().then(function (names) {
      return names.filter(function (name) { return name.indexOf(prefix) === 0; });
    });
  }
  // The saved copy: {name, manifest} of the cache holding a finished save, or null.
  function saved() {
    return savedNames().then(function (names) {
      return names.reduce(function (found, name) {
        return found.then(function (hit) {
          if (hit) {
            return hit;
          }
          return caches.open(name).then(function (cache) {
            return cache.match(manifestUrl);
          }).then(function (response) {
            return response ? response.json().then(function (m) { return { name: name, manifest: m }; }) : null;
          });
        });
      }, Promise.resolve(null));
    });
  }
  function dropAll(except) {
    return savedNames().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== except; }).map(function (n) {
        return caches.delete(n);
      }));
    });
  }

  // The manifest from the server: {manifest} or {gone: true} (closed to this learner) or
  // {signedOut: true}; a network failure rejects.
  function ask() {
    return fetch(manifestUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.redirected) {
          return { signedOut: true };
        }
        if (response.status === 403 || response.status === 404) {
          return { gone: true };
        }
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json().then(function (m) { return { manifest: m }; });
      });
  }

  function notes(manifest) {
    var extra = [];
    if (manifest.left_out.length) {
      extra.push(t("left-out", { n: manifest.left_out.length }));
    }
    if (manifest.locked) {
      extra.push(t("locked", { n: manifest.locked }));
    }
    return extra.length ? " " + extra.join(" ") : "";
  }

  function check() {
    if (navigator.onLine === false) {
      say(t("offline"), "offline");
      return;
    }
    ask().then(function (answer) {
      if (answer.gone || answer.signedOut) {
        say(answer.gone ? t("gone") : t("failed", { reason: t("signed-out") }), "refused");
        return;
      }
      var m = answer.manifest;
      var values = { size: size(m.bytes), limit: size(m.limit) };
      if (!m.fits) {
        say(t("too-large", values), "refused");
        return;
      }
      var estimate = navigator.storage && navigator.storage.estimate
        ? navigator.storage.estimate() : Promise.resolve(null);
      return estimate.then(function (space) {
        if (space && space.quota && space.quota - space.usage < m.bytes) {
          values.free = size(Math.max(0, space.quota - space.usage));
          say(t("no-space", values), "refused");
          return;
        }
        pending = m;
        say(t("size", values) + notes(m), "ready");
        show(["save"]);
        buttons.save.focus();
      });
    }).catch(function () {
      say(t("offline"), "offline");
    });
  }

  // Fetch everything the manifest lists into a new cache; files unchanged since the copy
  // `old` (same content digest) are copied from it instead of downloaded again.
  function save(m, old) {
    var name = prefix + m.version;
    var entries = m.pages.concat(m.files);
    var oldFiles = {};
    (old ? old.manifest.files : []).forEach(function (f) { oldFiles[f.url] = f.sha256; });
    var done = 0;
    show([]);
    return caches.delete(name).then(function () {
      return Promise.all([caches.open(name), old ? caches.open(old.name) : null]);
    }).then(function (opened) {
      var cache = opened[0];
      var previous = opened[1];
      var one = function (entry) {
        var copy = previous && entry.sha256 && oldFiles[entry.url] === entry.sha256
          ? previous.match(entry.url) : Promise.resolve(null);
        return copy.then(function (kept) {
          return kept || fetch(entry.url, { credentials: "same-origin" });
        }).then(function (response) {
          if (response.redirected) {
            throw new Error("signed-out");
          }
          if (!response.ok) {
            throw new Error("network");
          }
          return cache.put(entry.url, response);
        }).then(function () {
          done += 1;
          say(t("saving", { done: done, total: entries.length }), "saving");
        });
      };
      return entries.reduce(function (chain, entry) {
        return chain.then(function () { return one(entry); });
      }, Promise.resolve()).then(function () {
        m.saved_at = Date.now();
        return cache.put(manifestUrl, new Response(JSON.stringify(m), {
          headers: { "Content-Type": "application/json" }
        }));
      });
    }).then(function () {
      return dropAll(name);
    }).then(function () {
      if (navigator.storage && navigator.storage.persist) {
        navigator.storage.persist().catch(function () {});
      }
      say(t(old ? "updated" : "saved", { size: size(m.bytes) }) + notes(m), "saved");
      show(["remove"]);
    }).catch(function (error) {
      var reason = error && error.name === "QuotaExceededError" ? "full"
        : error && error.message === "signed-out" ? "signed-out" : "network";
      // Nothing half-saved: the unfinished cache goes; an older finished copy stays.
      return caches.delete(name).then(function () {
        say(t("failed", { reason: t(reason) }), "failed");
        show(old ? ["remove"] : ["check"]);
      });
    });
  }

  function remove() {
    dropAll(null).then(function () {
      say(t("removed"), "removed");
      show(["check"]);
      buttons.check.focus();
    });
  }

  buttons.check.addEventListener("click", check);
  buttons.save.addEventListener("click", function () {
    if (pending) {
      save(pending, null);
    }
  });
  buttons.remove.addEventListener("click", remove);
  box.hidden = false;

  // Opening the page: say whether the course is kept, and bring the copy up to date.
  saved().then(function (copy) {
    if (!copy) {
      show(["check"]);
      return;
    }
    say(t("saved", { size: size(copy.manifest.bytes) }) + notes(copy.manifest), "saved");
    show(["remove"]);
    if (navigator.onLine === false) {
      return;
    }
    return ask().then(function (answer) {
      if (answer.gone) {
        return dropAll(null).then(function () {
          say(t("gone"), "gone");
          show([]);
        });
      }
      if (answer.manifest && answer.manifest.version !== copy.manifest.version) {
        if (!answer.manifest.fits) {
          // Grown past the limit: the older copy stays, and the learner is told why.
          say(t("too-large", { size: size(answer.manifest.bytes), limit: size(answer.manifest.limit) }), "refused");
          return;
        }
        return save(answer.manifest, copy);
      }
    }).catch(function () { /* offline after all: the copy stays as it is */ });
  });
})();
