// Copy the verify link (the button is shown only where this script runs).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        var status = document.querySelector(".cert-copied");
        if (status) {
          status.textContent = button.getAttribute("data-copied");
        }
      });
    });
  });
})();
