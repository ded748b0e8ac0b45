// Lesson player. Media: ask the server for a playback session when play starts, then send heartbeats
// (position, session, playback rate) every N seconds while playing and on pause, seek, end and when the
// page is hidden. The server alone decides what was really watched and when the lesson is learned
// (courses/learning/playback.py); this file only reports what the player did. Text: opening the lesson
// starts its reading clock; "学完了" asks the server, which accepts it after the reading time.
// Texts come translated from the page (data-msg-*), so this file holds no UI strings.
(function () {
  var box = document.getElementById("player");
  if (!box) { return; }
  var media = box.querySelector(".media");
  var status = box.querySelector(".player-status");
  var csrf = box.getAttribute("data-csrf");
  var startUrl = box.getAttribute("data-playback-url");
  var beatUrl = box.getAttribute("data-heartbeat-url");
  var progressUrl = box.getAttribute("data-progress-url");
  var session = null;
  var every = 15;
  var lastPosition = 0; // from the last timeupdate: where the player was before a seek
  var queue = Promise.resolve(); // heartbeats go one after another, in the order they happened

  function post(url, payload, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive, // sendBeacon cannot send the CSRF header
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, data: data }; });
    }).catch(function () { return { ok: false, data: {} }; });
  }

  function say(text) { if (status && text) { status.textContent = text; } }

  function show(data) {
    if (data.completed) { say(box.getAttribute("data-msg-done")); return; }
    say((box.getAttribute("data-msg-watched") || "").replace("{percent}", data.watched_percent));
  }

  function position() { return Math.floor((media && media.currentTime) || 0); }

  function start() {
    if (!startUrl) { return Promise.resolve(); }
    return post(startUrl, media ? { position_seconds: position() } : {}).then(function (r) {
      if (r.ok) {
        session = r.data.session_id;
        every = r.data.heartbeat_seconds || every;
        if (media) { show(r.data); }
      }
    });
  }

  function beat(at, keepalive) {
    queue = queue.then(function () {
      if (!session || !beatUrl) { return null; }
      var payload = { session_id: session, position_seconds: at, playback_rate: media.playbackRate || 1 };
      return post(beatUrl, payload, keepalive).then(function (r) {
        if (r.ok) { show(r.data); return; }
        var code = r.data && r.data.code;
        if (code === "playback_superseded") {
          // another device plays this lesson now: stop reporting; pressing play here takes it back
          session = null;
          media.pause();
          say(box.getAttribute("data-msg-superseded"));
        } else if (code === "playback_session_unknown") {
          session = null;
        } else if (code !== "heartbeat_conflict") {
          say(box.getAttribute("data-msg-error"));
        }
      });
    });
    return queue;
  }

  if (media) {
    var resumeAt = parseInt(box.getAttribute("data-position") || "0", 10);
    media.addEventListener("loadedmetadata", function () {
      if (resumeAt > 0 && resumeAt < (media.duration || 0) - 3) { media.currentTime = resumeAt; }
    });
    media.addEventListener("play", function () {
      if (!session) { queue = queue.then(start); } else { beat(position()); }
    });
    media.addEventListener("timeupdate", function () { if (!media.seeking) { lastPosition = position(); } });
    media.addEventListener("seeking", function () { beat(lastPosition); });
    media.addEventListener("seeked", function () { beat(position()); lastPosition = position(); });
    media.addEventListener("pause", function () { if (!media.ended) { beat(position()); } });
    media.addEventListener("ended", function () { beat(Math.floor(media.duration || position())); });
    var tick = function () {
      if (!media.paused && session) { beat(position()); }
      setTimeout(tick, every * 1000);
    };
    setTimeout(tick, every * 1000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && session && !media.paused) { beat(position(), true); }
    });
  } else if (startUrl) {
    start(); // a text lesson: its reading clock starts now (the first open counts)
  }

  var done = document.querySelector(".js-complete");
  if (done && progressUrl) {
    done.addEventListener("click", function () {
      post(progressUrl, { position_seconds: 0, completed: true }).then(function (r) {
        if (r.ok && r.data.completed) {
          done.disabled = true;
          done.textContent = box.getAttribute("data-msg-done");
          say(box.getAttribute("data-msg-done"));
        } else {
          say((r.data && r.data.message) || box.getAttribute("data-msg-error"));
        }
      });
    });
  }
})();
