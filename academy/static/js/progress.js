// Who is stuck: refresh the list every N seconds without reloading the page. Without this
// script the page still works: the teacher reloads it (or follows "Refresh now").
(function () {
  "use strict";
  var box = document.getElementById("stuck");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-refresh-url");
  var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10) || 30;
  function refresh() {
    if (document.hidden) {
      return; // a hidden tab does not load the server; it refreshes when shown again
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected) {
          // Signed out meanwhile (a shared PC): show the sign-in page, not inside the list.
          window.location.reload();
          throw new Error("signed out");
        }
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        box.removeAttribute("data-stale");
      })
      .catch(function () {
        box.setAttribute("data-stale", "true"); // the last list stays; try again next time
      });
  }
  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      refresh();
    }
  });
})();
