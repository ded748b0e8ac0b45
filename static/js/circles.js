// Circles: picking a custom tip amount clears the preset choice (and vice versa). No inline scripts (CSP).
document.addEventListener("input", function (event) {
  var el = event.target;
  if (el && el.name === "custom_yuan" && el.value) {
    document.querySelectorAll("input[name=preset_yuan]").forEach(function (r) { r.checked = false; });
  }
});
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.name === "preset_yuan") {
    var custom = document.querySelector("input[name=custom_yuan]");
    if (custom) { custom.value = ""; }
  }
});
