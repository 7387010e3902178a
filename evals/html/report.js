// Filtering and opening the cases; the page reads fully without it.
(function () {
  "use strict";
  var input = document.getElementById("case-filter");
  var shown = document.getElementById("shown");
  var cases = Array.prototype.slice.call(document.querySelectorAll("details.case"));
  function filter() {
    var q = input.value.trim().toLowerCase();
    var n = 0;
    cases.forEach(function (c) {
      var hit = q === "" || (c.getAttribute("data-search") + " " + c.textContent).toLowerCase().indexOf(q) >= 0;
      c.hidden = !hit;
      if (hit) n++;
    });
    shown.textContent = q === "" ? "" : n + " of " + cases.length + " cases shown";
  }
  input.addEventListener("input", filter);
  var expand = document.getElementById("expand");
  expand.addEventListener("click", function () {
    var open = expand.getAttribute("aria-pressed") !== "true";
    document.querySelectorAll("details.case.failed").forEach(function (d) { d.open = open; });
    expand.setAttribute("aria-pressed", open ? "true" : "false");
    expand.textContent = open ? "Close all failures" : "Open all failures";
  });
  // A link to a case (from the gate's broken list) opens it.
  function openTarget() {
    var el = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (el && el.tagName === "DETAILS") el.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
