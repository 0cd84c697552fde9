// Quiz attempts: save each answer as it is given; keep it on this device when the server
// cannot be reached and send it when the connection returns. No framework; the page works
// without this script (the Save/Submit buttons post the whole form).
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form || !window.fetch) {
    return;
  }
  var saveUrl = form.getAttribute("data-save-url");
  var prefix = "academy-quiz:" + form.getAttribute("data-attempt") + ":";
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var statusBox = document.getElementById("quiz-status");
  var inflight = {};
  var retryDelay = 1000;
  var retryTimer = null;
  var closed = false;

  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function say(key, extra) {
    statusBox.textContent = statusBox.getAttribute("data-" + key) + (extra ? " " + extra : "");
    statusBox.setAttribute("data-state", key);
  }

  function sectionOf(id) {
    return form.querySelector('[data-question-id="' + id + '"]');
  }

  // The answer of one question as the server expects it (see academy/quizzes/services.py).
  function valueOf(section) {
    var kind = section.getAttribute("data-kind");
    var checked;
    if (kind === "single") {
      checked = section.querySelector("input[type=radio]:checked");
      return checked ? parseInt(checked.value, 10) : null;
    }
    if (kind === "truefalse") {
      checked = section.querySelector("input[type=radio]:checked");
      return checked ? checked.value === "true" : null;
    }
    if (kind === "multiple") {
      var picked = [];
      section.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
        picked.push(parseInt(box.value, 10));
      });
      return picked;
    }
    if (kind === "matching") {
      var pairs = {};
      section.querySelectorAll("select[data-pair]").forEach(function (select) {
        if (select.value !== "") {
          pairs[select.getAttribute("data-pair")] = parseInt(select.value, 10);
        }
      });
      return pairs;
    }
    if (kind === "choice") {
      var select = section.querySelector("select");
      return select.value === "" ? null : parseInt(select.value, 10);
    }
    var field = section.querySelector("input[type=text], textarea");
    return field ? field.value : null;
  }

  function applyValue(section, value) {
    var kind = section.getAttribute("data-kind");
    if (kind === "single" || kind === "truefalse") {
      section.querySelectorAll("input[type=radio]").forEach(function (radio) {
        radio.checked = value !== null && radio.value === String(value);
      });
    } else if (kind === "multiple") {
      section.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        box.checked = (value || []).indexOf(parseInt(box.value, 10)) !== -1;
      });
    } else if (kind === "matching") {
      section.querySelectorAll("select[data-pair]").forEach(function (select) {
        var chosen = (value || {})[select.getAttribute("data-pair")];
        select.value = chosen === undefined ? "" : String(chosen);
      });
    } else if (kind === "choice") {
      section.querySelector("select").value = value === null ? "" : String(value);
    } else {
      var field = section.querySelector("input[type=text], textarea");
      if (field) {
        field.value = value === null ? "" : value;
      }
    }
  }

  function pending() {
    var store = storage();
    var ids = [];
    if (!store) {
      return ids;
    }
    for (var i = 0; i < store.length; i++) {
      var key = store.key(i);
      if (key && key.indexOf(prefix) === 0) {
        ids.push(key.slice(prefix.length));
      }
    }
    return ids;
  }

  function keep(id, value) {
    var store = storage();
    if (store) {
      try {
        store.setItem(prefix + id, JSON.stringify(value));
      } catch (e) {
        /* storage full or refused: the request below is the only copy */
      }
    }
  }

  function stored(id) {
    var store = storage();
    return store ? store.getItem(prefix + id) : null;
  }

  function forget(id, sentText) {
    var store = storage();
    // Only forget the answer that was sent: a newer one typed meanwhile is still to be sent.
    if (store && store.getItem(prefix + id) === sentText) {
      store.removeItem(prefix + id);
    }
  }

  function scheduleRetry() {
    if (retryTimer || closed) {
      return;
    }
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      flush();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function send(id) {
    var text = stored(id);
    if (text === null || inflight[id] || closed) {
      return;
    }
    inflight[id] = true;
    say("saving");
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify({ question_id: parseInt(id, 10), value: JSON.parse(text) })
    })
      .then(function (response) {
        return response.json().then(
          function (body) { return { status: response.status, body: body }; },
          function () { return { status: response.status, body: {} }; }
        );
      })
      .then(function (result) {
        inflight[id] = false;
        if (result.status === 200 && result.body.saved) {
          forget(id, text);
          retryDelay = 1000;
          if (pending().length === 0) {
            say("saved");
          } else {
            flush();
          }
        } else if (result.status === 409 || result.status === 404) {
          // The attempt is closed (submitted, or time over): nothing more can be saved.
          closed = true;
          forget(id, text);
          say("closed", result.body.error || "");
        } else if (result.status === 400) {
          forget(id, text);
          say("refused", result.body.error || "");
        } else if (result.status === 507) {
          // The server's disk is full: kept here, sent again once space is freed.
          say("full");
          scheduleRetry();
        } else {
          // 401 (signed out), 5xx, a proxy page: keep the answer and try again later.
          say("offline");
          scheduleRetry();
        }
      })
      .catch(function () {
        inflight[id] = false;
        say("offline");
        scheduleRetry();
      });
  }

  function flush() {
    pending().forEach(send);
  }

  function record(section) {
    var id = section.getAttribute("data-question-id");
    keep(id, valueOf(section));
    if (navigator.onLine === false) {
      say("offline");
      scheduleRetry();
      return;
    }
    send(id);
  }

  var typingTimers = {};
  form.addEventListener("change", function (event) {
    var section = event.target.closest("[data-question-id]");
    if (section) {
      record(section);
    }
  });
  form.addEventListener("input", function (event) {
    var section = event.target.closest("[data-question-id]");
    if (!section || !event.target.matches("input[type=text], textarea")) {
      return;
    }
    var id = section.getAttribute("data-question-id");
    keep(id, valueOf(section)); // on this device at once, on the server after a pause
    window.clearTimeout(typingTimers[id]);
    typingTimers[id] = window.setTimeout(function () { record(section); }, 800);
  });

  form.addEventListener("submit", function (event) {
    if (navigator.onLine === false) {
      // Posting now would show the browser's error page; the answers are safe here.
      event.preventDefault();
      say("offline");
    }
  });

  window.addEventListener("online", function () {
    retryDelay = 1000;
    flush();
  });

  // Reopening the page: the server's answers are drawn already; answers kept on this device
  // were not sent yet, so they are newer: show them and send them.
  pending().forEach(function (id) {
    var section = sectionOf(id);
    if (!section) {
      return;
    }
    try {
      applyValue(section, JSON.parse(stored(id)));
    } catch (e) {
      return;
    }
  });
  if (pending().length) {
    say("offline");
    flush();
  }

  // Time is over: post the whole form (every answer, sent or not) as the final submit. The
  // server accepts it for a few seconds' grace; offline, it is posted when the network returns.
  function timeUp() {
    say("timeup");
    if (navigator.onLine === false) {
      window.addEventListener("online", timeUp, { once: true });
      return;
    }
    var action = document.createElement("input");
    action.type = "hidden";
    action.name = "action";
    action.value = "timeup";
    form.appendChild(action);
    closed = true;
    HTMLFormElement.prototype.submit.call(form);
  }

  // The timer: the server decides (remaining seconds drawn by it); this only counts down.
  var timer = document.getElementById("quiz-timer");
  if (timer) {
    var shown = timer.querySelector(".quiz-timer-value");
    var end = Date.now() + parseInt(timer.getAttribute("data-remaining"), 10) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      shown.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      timer.classList.toggle("quiz-timer-low", left <= 60);
      if (left === 0) {
        window.clearInterval(interval);
        timeUp();
      }
    };
    var interval = window.setInterval(tick, 1000);
    tick();
  }
})();
