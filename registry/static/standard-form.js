// The standard form: a change of status fills in today's date as the date it takes effect.
// The date stays visible and editable; going back to the stored status restores the stored date.
(function () {
  "use strict";
  var form = document.querySelector("form.record");
  if (!form) { return; }
  var status = form.querySelector("select[name=status]");
  var since = form.querySelector("input[name=status_since]");
  if (!status || !since) { return; }
  var storedStatus = since.getAttribute("data-status");
  var storedSince = since.getAttribute("data-since") || "";
  var initial = status.value;
  status.addEventListener("change", function () {
    if (storedStatus !== null && status.value === storedStatus) {
      since.value = storedSince;
    } else if (status.value !== initial || storedStatus !== null) {
      since.value = since.getAttribute("data-today") || since.value;
    }
  });
}());
