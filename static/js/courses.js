// Lesson player: save the playback position every 15 s, on pause and when leaving; mark as learned.
// Texts come translated from the page (data-msg-*), so this file holds no UI strings.
(function () {
  var box = document.getElementById("player");
  if (!box) { return; }
  var media = box.querySelector(".media");
  var status = box.querySelector(".player-status");
  var url = box.getAttribute("data-progress-url");
  var csrf = box.getAttribute("data-csrf");
  var lastSent = -1;

  function send(payload, useBeacon) {
    var body = JSON.stringify(payload);
    // keepalive (not sendBeacon) when the page is being hidden: sendBeacon cannot send the CSRF header.
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!useBeacon,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (data && status) {
        status.textContent = data.completed
          ? (box.getAttribute("data-msg-completed") || "").replace("{percent}", data.course_completion_percent)
          : box.getAttribute("data-msg-saved");
      }
      return data;
    }).catch(function () { return null; });
  }

  function save(force, useBeacon) {
    if (!media) { return; }
    var position = Math.floor(media.currentTime || 0);
    if (!force && Math.abs(position - lastSent) < 5) { return; }
    lastSent = position;
    send({ position_seconds: position }, useBeacon);
  }

  if (media) {
    var start = parseInt(box.getAttribute("data-position") || "0", 10);
    media.addEventListener("loadedmetadata", function () {
      if (start > 0 && start < (media.duration || 0) - 3) { media.currentTime = start; }
    });
    media.addEventListener("pause", function () { save(true); });
    media.addEventListener("ended", function () {
      send({ position_seconds: Math.floor(media.duration || media.currentTime || 0), completed: true });
    });
    setInterval(function () { if (!media.paused) { save(false); } }, 15000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { save(true, true); }
    });
  }
  var done = document.querySelector(".js-complete");
  if (done) {
    done.addEventListener("click", function () {
      var position = media ? Math.floor(media.currentTime || 0) : 0;
      send({ position_seconds: position, completed: true }).then(function (data) {
        if (data) { done.disabled = true; done.textContent = box.getAttribute("data-msg-done"); }
      });
    });
  }
})();
