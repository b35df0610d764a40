// Small enhancements only: every page works without this file.
document.addEventListener("DOMContentLoaded", enhance);

function enhance() {
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
        if (name !== "csrf_token" && typeof value === "string" &&
            !(field && field.type === "password")) {
          typed.push([name, value]);
        }
      });
      sessionStorage.setItem("typed:" + step, JSON.stringify(typed));
    });
  });
  // Files: a preview of each photo chosen, and a progress bar while they are sent. Without
  // this, the form sends the same files, only without either.
  document.querySelectorAll("input[type=file]").forEach(function (input) {
    var previews = document.createElement("div");
    previews.className = "previews";
    input.parentNode.appendChild(previews);
    input.addEventListener("change", function () {
      previews.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var name = document.createElement("p");
        name.textContent = file.name;
        previews.appendChild(name);
        if (!/^image\/(jpeg|png)$/.test(file.type) || !window.FileReader) { return; }
        var reader = new FileReader();  // a data: URL, which the pages' policy allows
        reader.onload = function () {
          var image = document.createElement("img");
          image.alt = "";
          image.src = reader.result;
          previews.insertBefore(image, name);
        };
        reader.readAsDataURL(file);
      });
    });
  });
  var upload = document.querySelector("form[enctype='multipart/form-data'][data-sending]");
  if (upload && window.FormData && window.XMLHttpRequest) {
    upload.addEventListener("submit", function (event) {
      var files = upload.querySelectorAll("input[type=file]");
      if (!Array.prototype.some.call(files, function (i) { return i.files.length; })) { return; }
      event.preventDefault();
      var button = event.submitter;
      var data = new FormData(upload);
      if (button && button.name) { data.append(button.name, button.value); }
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", upload.getAttribute("data-sending"));
      upload.appendChild(bar);
      var request = new XMLHttpRequest();
      var action = (button && button.getAttribute("formaction")) || upload.action;
      request.open("POST", action);
      request.upload.onprogress = function (progress) {
        if (progress.lengthComputable) { bar.value = Math.round(100 * progress.loaded / progress.total); }
      };
      request.onload = function () {
        var landed = new URL(request.responseURL || action, location.href);
        if (landed.href !== new URL(action, location.href).href) {
          location.assign(landed.href);  // sent: on to the page the answer led to
        } else {  // the same page again, with what to correct: its main part replaces ours
          var answer = new DOMParser().parseFromString(request.responseText, "text/html");
          var main = answer.querySelector("main");
          if (!main) { location.assign(action); return; }  // a proxy's page: ours again
          document.title = answer.title;
          document.querySelector("main").replaceWith(main);
          enhance();
        }
      };
      request.onerror = function () { bar.remove(); upload.submit(); };  // as without this file
      request.send(data);
    });
  }
}
