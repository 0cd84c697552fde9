// The class import's confirm page: while the server makes the accounts (hashing a few hundred
// passwords takes a while), show how far it has come instead of a page that seems to hang.
// The page that posted stays on screen until the answer arrives, so it can ask the server
// (/classes/<id>/import/progress/<token>) every second. Without this file the form posts as
// before.
(function () {
  "use strict";
  var form = document.getElementById("import-confirm");
  if (!form || !window.fetch || !window.crypto || !window.crypto.getRandomValues) {
    return;
  }
  form.addEventListener("submit", function () {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var token = Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "progress";
    field.value = token;
    form.appendChild(field);
    var box = form.querySelector(".import-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector("span");
    var url = form.getAttribute("data-progress-url").replace(/0{32}$/, token);
    var words = form.getAttribute("data-progress-text");
    var show = function (done, total) {
      bar.max = total || bar.max;
      bar.value = done;
      text.textContent = words.replace("{done}", done).replace("{total}", total || bar.max);
    };
    box.hidden = false;
    form.querySelector("button[type=submit]").disabled = true; // one import, not two
    show(0, bar.max);
    var ask = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) { if (state && state.total) { show(state.done, state.total); } })
        .catch(function () { /* the next poll tries again */ });
    };
    ask();
    window.setInterval(ask, 1000);
  });
})();
