// Small progressive enhancements; every page works without them.
(function () {
  // Fill an empty time-zone field with the zone the browser reports.
  document.querySelectorAll("[data-detect-time-zone]").forEach(function (input) {
    if (input.value) return;
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) input.value = zone;
    } catch (e) {
      /* leave it for the patient to type */
    }
  });
})();

(function () {
  // When htmx replaces part of a page (the dose card), the button that was pressed is gone and
  // focus would fall back to the top of the page. Put it on what changed instead, so keyboard
  // and screen-reader users hear "Taken at 22:04" and keep their place.
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.elt;
    if (!swapped || !swapped.isConnected || !swapped.querySelector) return;
    var target = swapped.matches("[data-swap-focus]")
      ? swapped
      : swapped.querySelector("[data-swap-focus]");
    if (target) target.focus();
  });
})();
