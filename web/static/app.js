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
