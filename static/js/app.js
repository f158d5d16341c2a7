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
