// Protected lessons (templates/courses/_protected_player.html): the signed HLS playlist through hls.js
// (static/vendor/hlsjs), or the browser's own HLS (Safari, WeChat on iOS), under a watermark naming the
// member that moves every few seconds. Progress saving stays in courses.js (the element is `.media`).
// Texts come translated from the page (data-msg-*), so this file holds no UI strings.
(function () {
  var frame = document.getElementById("protected-player");
  if (!frame) { return; }
  var media = frame.querySelector(".media");
  var mark = document.getElementById("watermark");
  var src = frame.getAttribute("data-hls-src");
  var DRIFT_MS = 4000;

  function say(name) {
    var status = document.querySelector(".player-status");
    if (status) { status.textContent = frame.getAttribute(name) || ""; }
  }

  if (media.canPlayType("application/vnd.apple.mpegurl")) {
    media.src = src; // native HLS: preload="none" keeps it idle until play
  } else if (window.Hls && window.Hls.isSupported()) {
    // No worker (the CSP allows no blob: scripts); nothing but the playlists loads before play.
    var hls = new window.Hls({ enableWorker: false, autoStartLoad: false });
    hls.loadSource(src);
    hls.attachMedia(media);
    var started = false;
    media.addEventListener("play", function () {
      if (!started) { started = true; hls.startLoad(-1); }
    });
    hls.on(window.Hls.Events.ERROR, function (_event, data) {
      if (data && data.fatal) { say("data-msg-error"); }
    });
  } else {
    say("data-msg-unsupported");
  }

  // The watermark drifts to a new random place inside the frame every few seconds.
  function drift() {
    if (!mark || !mark.isConnected || getComputedStyle(mark).display === "none"
        || getComputedStyle(mark).visibility === "hidden" || Number(getComputedStyle(mark).opacity) < 0.1) {
      media.pause(); // someone hid the watermark: no picture without it
      return;
    }
    mark.style.left = (4 + Math.random() * 56).toFixed(1) + "%";
    mark.style.top = (6 + Math.random() * 72).toFixed(1) + "%";
  }
  drift();
  setInterval(drift, DRIFT_MS);

  // Full screen shows the frame (video and watermark), never the bare video.
  function fullscreenElement() { return document.fullscreenElement || document.webkitFullscreenElement; }
  function onFullscreen() {
    if (fullscreenElement() !== media) { return; }
    var exit = document.exitFullscreen ? document.exitFullscreen() : null;
    Promise.resolve(exit).then(function () {
      if (frame.requestFullscreen) { frame.requestFullscreen(); }
      else if (frame.webkitRequestFullscreen) { frame.webkitRequestFullscreen(); }
    });
  }
  document.addEventListener("fullscreenchange", onFullscreen);
  document.addEventListener("webkitfullscreenchange", onFullscreen);
  media.addEventListener("dblclick", function (event) {
    event.preventDefault();
    if (frame.requestFullscreen) { frame.requestFullscreen(); }
  });
})();
