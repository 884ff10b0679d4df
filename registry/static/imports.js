// Import run page: follow a background import's progress, reload when it is done.
(function () {
  "use strict";
  var bar = document.getElementById("import-progress");
  if (!bar) { return; }
  var text = document.getElementById("import-progress-text");
  var url = bar.getAttribute("data-status-url");
  var label = bar.getAttribute("data-rows-label") || "{done} / {total}";
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var failures = 0;

  function show(run) {
    bar.value = run.progress || 0;
    bar.textContent = Math.round((run.progress || 0) * 100) + "%";
    if (text && run.rows_total) {
      text.textContent = label.replace("{done}", number.format(run.rows_done || 0))
                              .replace("{total}", number.format(run.rows_total || 0));
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (run) {
        failures = 0;
        show(run);
        if (run.status === "queued" || run.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        failures += 1;
        if (failures < 10) { window.setTimeout(poll, 2000); }
      });
  }

  window.setTimeout(poll, 500);
}());
