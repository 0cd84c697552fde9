// The period: the learner's banner and the projector board poll a small JSON answer with
// If-None-Match every few seconds; an unchanged state costs a 304 and nothing else. Short
// polls, never a held connection: a school of rooms must not need a socket per PC.
(function () {
  "use strict";
  function poll(el, onChange) {
    var etag = el.getAttribute("data-etag") || "";
    var every = 1000 * (parseFloat(el.getAttribute("data-every")) || 5);
    function tick() {
      var headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(el.getAttribute("data-poll"), { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 200) {
            etag = response.headers.get("ETag") || "";
            return response.json().then(onChange);
          }
          // Signed out (the teacher signed the room's computers out): the reload lands on the
          // sign-in page, so the next learner never finds this one's session.
          if (response.status === 401) window.location.reload();
          return null; // 304: nothing changed; other statuses: try again later
        })
        .catch(function () { /* flaky network: the next tick tries again */ })
        .then(function () { window.setTimeout(tick, every); });
    }
    window.setTimeout(tick, every);
  }

  function banner(el) {
    var link = el.querySelector(".period-banner-link");
    poll(el, function (state) {
      // A quiz page waiting for the teacher to open the quiz: the period changed, look again.
      var waiting = document.querySelector("[data-period-wait]");
      if (!state.running) {
        el.hidden = true;
        if (waiting) window.location.reload();
        return;
      }
      link.textContent = state.title;
      link.setAttribute("href", state.url);
      el.hidden = false;
      // Follow me: the teacher moved, so the learner's page goes where the class now is.
      if (state.follow_me && state.url && state.url !== window.location.pathname) {
        window.location.assign(state.url);
      } else if (waiting) {
        window.location.reload();
      }
    });
  }

  function board(el) {
    poll(el, function (data) {
      if (!data.running) {
        window.location.reload();
        return;
      }
      var reopened = data.items.some(function (item) {
        var head = el.querySelector('tr[data-position="' + item.position + '"] th');
        return head && (head.getAttribute("data-open") !== (item.open ? "yes" : "no") ||
          head.getAttribute("data-code") !== (item.code || ""));
      });
      // A quiz opened or closed: its start code must show at once, so draw the page anew.
      if (reopened) {
        window.location.reload();
        return;
      }
      data.items.forEach(function (item) {
        var row = el.querySelector('tr[data-position="' + item.position + '"]');
        if (!row) return;
        row.classList.toggle("current", item.position === data.current);
        row.querySelector('[data-field="on_it"]').textContent = item.on_it;
        row.querySelector('[data-field="done"]').textContent = item.done;
        if (item.kind === "quiz") {
          row.querySelector('[data-field="answered"]').textContent = item.answered;
          row.querySelector('[data-field="average"]').textContent =
            item.average === null ? "–" : item.average + "%";
        }
        var names = row.querySelector(".board-names");
        if (names) names.textContent = item.names.join(", ");
      });
    });
  }

  document.querySelectorAll(".period-banner[data-poll]").forEach(banner);
  var b = document.getElementById("board");
  if (b && b.getAttribute("data-poll")) board(b);
})();
