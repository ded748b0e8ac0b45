// The brand admin's live preview (core/admin.py, BrandAdmin.preview): the page header and the share
// poster follow the form as the operator types, before anything is saved. Colours go through the same
// contrast rule pages use (core/brand.py, readable_on_white), so the preview shows the shade members
// will see. The poster is drawn by the server from the typed values; values it would refuse on save
// keep the last good poster and show the server's reason.
(function () {
  "use strict";
  var FIELDS = ["site_name", "short_name", "tagline", "description", "primary_color", "accent_color",
                "share_title", "footer_text"];

  function rgb(hex) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
    return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : null;
  }
  function luminance(c) {
    var v = c.map(function (x) { x = x / 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function hex(c) {
    return "#" + c.map(function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function readableOnWhite(value, ratio) {
    var c = rgb(value);
    if (!c) return null;
    for (var step = 0; step < 40 && 1.05 / (luminance(c) + 0.05) < ratio; step++) {
      c = c.map(function (x) { return Math.floor(x * 0.93); });
    }
    return hex(c);
  }

  function start() {
    var box = document.querySelector("[data-brand-preview]");
    if (!box) return;
    var poster = box.querySelector("[data-preview-poster]");
    var header = box.querySelector("[data-preview-header]");
    var button = box.querySelector("[data-preview-button]");
    var problem = document.createElement("p");
    problem.className = "brand-preview-problem";
    problem.setAttribute("role", "status");
    poster.parentNode.insertBefore(problem, poster);
    var timer = null, shown = null, asked = 0;

    function field(name) {
      var input = document.getElementById("id_" + name);
      return input ? input.value.trim() : "";
    }
    function paint() {
      box.querySelector('[data-preview="site_name"]').textContent = field("site_name");
      box.querySelector('[data-preview="short_name"]').textContent = field("short_name") || field("site_name");
      var initial = box.querySelector("[data-preview-initial]");  // absent when a logo is uploaded
      if (initial) initial.textContent = (field("short_name") || field("site_name") || "·").charAt(0);
      box.querySelector('[data-preview="tagline"]').textContent = field("tagline");
      var primary = readableOnWhite(field("primary_color"), 4.6) || readableOnWhite(box.dataset.primary, 4.6);
      var accent = readableOnWhite(field("accent_color"), 5.6) || readableOnWhite(box.dataset.accent, 5.6);
      header.style.backgroundColor = primary;
      if (initial) initial.style.color = primary;
      box.querySelector("[data-preview-hero]").style.borderColor = primary;
      button.style.backgroundColor = accent;
    }
    function redraw() {
      var query = new URLSearchParams();
      FIELDS.forEach(function (name) {
        if (document.getElementById("id_" + name)) query.set(name, field(name));
      });
      var ticket = ++asked;  // only the newest answer is shown, whatever order they arrive in
      fetch(box.dataset.posterUrl + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) return response.text().then(function (text) { throw new Error(text); });
          return response.blob();
        })
        .then(function (blob) {
          if (ticket !== asked) return;
          if (shown) URL.revokeObjectURL(shown);
          shown = URL.createObjectURL(blob);
          poster.src = shown;
          problem.textContent = "";
        })
        .catch(function (error) {
          if (ticket === asked) problem.textContent = error.message;
        });
    }
    FIELDS.forEach(function (name) {
      var input = document.getElementById("id_" + name);
      if (!input) return;
      input.addEventListener("input", function () {
        paint();
        clearTimeout(timer);
        timer = setTimeout(redraw, 400);
      });
    });
    paint();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
