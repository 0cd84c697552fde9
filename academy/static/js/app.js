// Small, dependency-free behaviour. Pages work without it; it only adds comfort.
(function () {
  "use strict";
  // Confirm destructive buttons (forms with data-confirm) without inline script.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Move focus to an error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
  outbox();
  // The service worker keeps the app shell for flaky mobile data (academy/main/pwa.py).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }

  // The outbox: a form marked data-outbox (a lesson's "Mark as done") posted while this device
  // is offline is kept in local storage and sent, in order, when the network returns; the box
  // under the header says what is waiting. Items belong to the person signed in: a shared PC
  // never sends one learner's marks as another's (and sign-out's Clear-Site-Data drops them).
  function outbox() {
    var KEY = "academy-outbox";
    var box = document.getElementById("outbox");
    var user = document.body.getAttribute("data-user");
    if (!box || !user || !window.fetch) {
      return;
    }
    var sent = 0;
    var refused = [];
    var signedOut = false;
    var sending = false;
    var delay = 2000;
    var timer = null;

    function all() {
      try {
        return JSON.parse(window.localStorage.getItem(KEY) || "[]");
      } catch (e) {
        return [];
      }
    }
    function store(items) {
      try {
        window.localStorage.setItem(KEY, JSON.stringify(items));
        return true;
      } catch (e) {
        return false; // storage full or refused
      }
    }
    function mine() {
      return all().filter(function (item) { return item.user === user; });
    }
    function drop(url) {
      store(all().filter(function (item) { return item.user !== user || item.url !== url; }));
    }
    function fill(text, values) {
      return text.replace(/\{(\w+)\}/g, function (whole, name) {
        return values[name] === undefined ? whole : values[name];
      });
    }
    function token() {
      var input = document.querySelector("input[name=csrf_token]");
      return input ? input.value : "";
    }
    function render() {
      var waiting = mine();
      var text = box.querySelector(".outbox-text");
      var list = box.querySelector(".outbox-items");
      var lines = [];
      list.textContent = "";
      if (waiting.length) {
        lines.push(fill(box.getAttribute("data-waiting"), { n: waiting.length }));
        if (signedOut) {
          lines.push(box.getAttribute("data-sign-in"));
        }
        waiting.forEach(function (item) {
          var li = document.createElement("li");
          li.textContent = item.label;
          list.appendChild(li);
        });
      } else if (sent) {
        lines.push(fill(box.getAttribute("data-sent"), { n: sent }));
      }
      refused.forEach(function (item) {
        lines.push(fill(box.getAttribute("data-refused"), { item: item.label, reason: item.reason }));
      });
      text.textContent = "";
      lines.forEach(function (line) {
        var p = document.createElement("p");
        p.textContent = line;
        text.appendChild(p);
      });
      box.hidden = lines.length === 0;
      box.setAttribute("data-state", waiting.length ? "waiting" : refused.length ? "refused" : "sent");
    }
    function markQueued(form) {
      if (form.hidden) {
        return;
      }
      form.hidden = true;
      var note = document.createElement("p");
      note.className = "outbox-note";
      note.textContent = form.getAttribute("data-outbox-queued") || "";
      form.parentNode.insertBefore(note, form.nextSibling);
    }
    function noteFor(url, text) {
      // The note beside the form (on this page) says what became of its mark.
      document.querySelectorAll("form[data-outbox]").forEach(function (form) {
        var note = form.nextSibling;
        if (form.getAttribute("action") === url && note && note.className === "outbox-note") {
          note.textContent = text(form) || "";
        }
      });
    }
    function refreshKept(urls) {
      // A course kept on this device holds copies of the pages where the mark was made: fetch
      // them again so they show it (keep.js saved them; the worker serves them offline).
      if (!window.caches) {
        return;
      }
      caches.keys().then(function (names) {
        names.filter(function (n) { return n.indexOf("academy-course-") === 0; }).forEach(function (name) {
          caches.open(name).then(function (cache) {
            urls.forEach(function (url) {
              cache.match(url, { ignoreVary: true }).then(function (kept) {
                if (!kept) {
                  return;
                }
                fetch(url, { credentials: "same-origin" }).then(function (fresh) {
                  if (fresh.ok && !fresh.redirected) {
                    return cache.put(url, fresh);
                  }
                }).catch(function () {});
              });
            });
          });
        });
      });
    }
    function later() {
      if (timer) {
        return;
      }
      timer = window.setTimeout(function () { timer = null; flush(); }, delay);
      delay = Math.min(delay * 2, 60000);
    }
    function flush() {
      var waiting = mine();
      if (sending || !waiting.length || navigator.onLine === false) {
        return;
      }
      var item = waiting[0];
      var body = new FormData();
      body.append("csrf_token", token());
      sending = true;
      fetch(item.url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": token() }
      }).then(function (response) {
        return response.json().then(
          function (data) { return { response: response, data: data }; },
          function () { return { response: response, data: {} }; }
        );
      }).then(function (result) {
        var status = result.response.status;
        sending = false;
        if (result.response.redirected || status === 401 || result.data.error === "csrf") {
          signedOut = true; // kept: sent once this person signs in again
          render();
          return;
        }
        signedOut = false;
        if (status >= 200 && status < 300) {
          drop(item.url);
          sent += 1;
          noteFor(item.url, function (form) { return form.getAttribute("data-outbox-sent"); });
          delay = 2000;
          refreshKept(item.refresh || []);
        } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          // The server will never take it (the lesson was removed, the course closed): say so
          // once and let it go rather than retry for ever.
          drop(item.url);
          refused.push({ label: item.label, reason: result.data.error || "" });
          noteFor(item.url, function () { return result.data.error; });
        } else {
          render();
          later(); // 5xx, 507 (the server's disk is full), a proxy's page: try again later
          return;
        }
        render();
        flush();
      }).catch(function () {
        sending = false;
        render();
        later();
      });
    }

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.hasAttribute && form.hasAttribute("data-outbox-guard")) {
        var count = mine().length;
        if (count && !window.confirm(fill(box.getAttribute("data-lose"), { n: count }))) {
          event.preventDefault();
        }
        return;
      }
      var label = form.getAttribute && form.getAttribute("data-outbox");
      if (!label || navigator.onLine !== false || event.defaultPrevented) {
        return; // online: the form posts as usual
      }
      event.preventDefault();
      var url = form.getAttribute("action");
      var items = all().filter(function (item) { return item.user !== user || item.url !== url; });
      items.push({
        user: user, url: url, label: label, at: Date.now(),
        refresh: (form.getAttribute("data-outbox-refresh") || "").split(" ").filter(Boolean)
      });
      if (store(items)) {
        markQueued(form);
      }
      render();
    });
    window.addEventListener("online", function () {
      delay = 2000;
      flush();
    });
    var queued = mine().map(function (item) { return item.url; });
    document.querySelectorAll("form[data-outbox]").forEach(function (form) {
      if (queued.indexOf(form.getAttribute("action")) !== -1) {
        markQueued(form);
      }
    });
    render();
    flush();
  }
})();
