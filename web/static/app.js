// recipesd admin: small enhancements; every page works without them.
(function () {
  "use strict";

  // Move focus to the list of problems after a failed save, so that
  // keyboard and screen-reader users hear what to fix.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // Suggest a slug or id from the name or title while the editor types,
  // until they edit the slug themselves.
  function slugify(s) {
    return s.toLowerCase().replace(/ß/g, "ss").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");
  }
  document.querySelectorAll("[data-slug-source]").forEach(function (src) {
    var target = document.getElementById(src.getAttribute("data-slug-source"));
    if (!target || target.disabled) return;
    var touched = target.value !== "" && target.value !== slugify(src.value);
    target.addEventListener("input", function () { touched = target.value !== ""; });
    src.addEventListener("input", function () {
      if (!touched) target.value = slugify(src.value);
    });
  });
})();

// Scheduled publishing: show times in the browser's time zone, and send
// the time picked there as UTC (at_utc); without this the form reads UTC
// and says so.
(function () {
  "use strict";
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* keep UTC */ }
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  });
  document.querySelectorAll("[data-tz]").forEach(function (el) {
    el.textContent = el.textContent.replace("UTC", tz || "your time zone");
  });
  document.querySelectorAll("form[data-schedule]").forEach(function (form) {
    var local = form.querySelector("input[type=datetime-local]");
    var utc = form.querySelector("input[name=at_utc]");
    if (!local || !utc) return;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var min = new Date(Date.now() + 60000);
    local.min = min.getFullYear() + "-" + pad(min.getMonth() + 1) + "-" + pad(min.getDate()) + "T" + pad(min.getHours()) + ":" + pad(min.getMinutes());
    form.addEventListener("submit", function () {
      // new Date("YYYY-MM-DDTHH:MM") is local time; toISOString is UTC.
      var d = new Date(local.value);
      utc.value = isNaN(d) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
    });
  });
})();
