// Small enhancements only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the error summary so screen readers announce it first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // "Unknown" checkboxes disable the inputs they stand for.
  [["birth_unknown", ["birth_day", "birth_month", "birth_year"]],
   ["place_of_birth_unknown", ["place_of_birth"]],
   ["no_family_name", ["family_name"]],
   ["no_given_name", ["given_names"]]].forEach(function (pair) {
    var box = document.getElementById(pair[0]);
    if (!box) { return; }
    var sync = function () {
      pair[1].forEach(function (id) {
        var input = document.getElementById(id);
        if (input) { input.disabled = box.checked; }
      });
    };
    box.addEventListener("change", sync);
    sync();
  });
  // Switching language keeps what was typed on this step: the answers wait in this tab's
  // session storage (never sent, gone with the tab) and fill the same step in the new
  // language, then are removed. Passwords and the form token are never kept.
  var form = document.querySelector("main form[method=post]");
  var step = location.pathname.replace(/^\/[a-z]{2}\//, "/");
  var kept = sessionStorage.getItem("typed:" + step);
  if (form && kept) {
    sessionStorage.removeItem("typed:" + step);
    JSON.parse(kept).forEach(function (pair) {
      var field = form.elements[pair[0]];
      if (!field || field.type === "hidden") { return; }
      if (field.type === "checkbox") { field.checked = pair[1] === field.value; }
      else if (field.length && field[0] && field[0].type === "radio") { field.value = pair[1]; }
      else if (!field.value) { field.value = pair[1]; }
    });
  }
  document.querySelectorAll(".languages a").forEach(function (link) {
    link.addEventListener("click", function () {
      if (!form) { return; }
      var typed = [];
      new FormData(form).forEach(function (value, name) {
        var field = form.elements[name];
        if (name !== "csrf_token" && !(field && field.type === "password")) {
          typed.push([name, value]);
        }
      });
      sessionStorage.setItem("typed:" + step, JSON.stringify(typed));
    });
  });
});
