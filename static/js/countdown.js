// Countdowns of flash sales (限时特价): <time class="js-countdown" datetime="END" data-server-now="NOW">.
// The server prints the end time, so the page says it without JavaScript; this turns it into
// "2天 03:04:05" ticking on the server's clock (the phone's may be wrong). No inline scripts (CSP).
(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function start(el) {
    if (el.dataset.counting) { return; }
    el.dataset.counting = "1";
    var end = Date.parse(el.getAttribute("datetime"));
    var skew = Date.parse(el.dataset.serverNow) - Date.now();
    if (isNaN(end) || isNaN(skew)) { return; }
    function tick() {
      var left = Math.floor((end - (Date.now() + skew)) / 1000);
      if (left <= 0) { el.textContent = el.dataset.done || "0"; return; }
      var days = Math.floor(left / 86400), rest = left % 86400;
      var clock = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor(rest % 3600 / 60)) + ":" + pad(rest % 60);
      var unit = el.dataset.day || "d";  // 天, or " days" read as "days": a word needs a space before it
      el.textContent = (days ? days + (/^[a-z]/i.test(unit) ? " " : "") + unit + " " : "") + clock;
      window.setTimeout(tick, 1000);
    }
    tick();
  }
  function all() { Array.prototype.forEach.call(document.querySelectorAll(".js-countdown"), start); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", all); } else { all(); }
})();
