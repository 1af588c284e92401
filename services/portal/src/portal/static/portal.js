// Small progressive enhancements; every form works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // 代行申請 worker line: 職長・班長 years/months only for the levels that ask them
  // (data-foreman: the master's management_required_levels of /options, e.g. "3 4").
  function syncForeman() {
    var checked = document.querySelector('input[name="requested_level"]:checked');
    var level = checked ? checked.value : "";
    document.querySelectorAll("[data-foreman]").forEach(function (el) {
      var asked = (el.getAttribute("data-foreman") || "").split(/\s+/).filter(Boolean);
      el.hidden = asked.length > 0 && asked.indexOf(level) < 0;
    });
  }
  document.querySelectorAll('input[name="requested_level"]').forEach(function (el) {
    el.addEventListener("change", syncForeman);
  });
  if (document.querySelector("[data-foreman]")) { syncForeman(); }

  // Choosing a consented worker reloads the line form with his consent details and CCUS period.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () {
      var button = document.getElementById(el.getAttribute("data-autosubmit"));
      if (button) { button.click(); }
    });
  });

  // Move focus to the error summary so that screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
