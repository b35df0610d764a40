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
});
