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
  // The service worker keeps the app shell for flaky mobile data (academy/main/pwa.py).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
})();
