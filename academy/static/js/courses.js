// Courses: the lesson "viewed" beacon (with seconds spent) and the studio's live preview.
// Everything works without this file; it only adds the reading time and the live preview.
(function () {
  "use strict";

  // Lesson page: report the visit once when it opens and the seconds spent when it is left.
  var lesson = document.querySelector("[data-beacon]");
  if (lesson && navigator.sendBeacon) {
    var url = lesson.getAttribute("data-beacon");
    var token = lesson.getAttribute("data-csrf");
    var visible = document.visibilityState === "visible";
    var since = Date.now();
    var spent = 0;
    var send = function (seconds) {
      var form = new FormData();
      form.append("csrf_token", token);
      if (seconds !== null) { form.append("seconds", String(seconds)); }
      navigator.sendBeacon(url, form);
    };
    send(null);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        if (visible) { spent += Date.now() - since; }
        visible = false;
        var seconds = Math.round(spent / 1000);
        if (seconds > 0) { send(seconds); }
        spent = 0;
      } else {
        visible = true;
        since = Date.now();
      }
    });
  }

  // Studio editor: live preview rendered by the server (the same sanitiser as the lesson).
  var source = document.querySelector("[data-preview-url]");
  var target = document.getElementById("preview");
  if (source && target && window.fetch) {
    var timer = null;
    var form = source.form;
    var update = function () {
      var data = new FormData();
      data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
      data.append("body", source.value);
      fetch(source.getAttribute("data-preview-url"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null) { target.innerHTML = html; }
      }).catch(function () { /* offline: keep the last preview */ });
    };
    source.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
  }
})();
