/* insights: draws each dashboard chart from the JSON the server put beside it (json_script).
 * No inline script (our CSP forbids it): the data lives in <script type="application/json"> elements.
 * Units: "fen" values arrive in yuan, "rate" in percent, "seconds" in hours. */
(function () {
  "use strict";
  // Chinese pages put a full-width colon between a label and its value; other languages ": ".
  var labelSeparator = /^zh/.test(document.documentElement.lang) ? "\uff1a" : ": ";
  var PALETTE = ["#1aad19", "#3b82f6", "#f59e0b", "#ef4444", "#8b5cf6", "#14b8a6", "#ec4899", "#64748b"];
  var UNIT = {
    fen: function (v) { return "¥" + Number(v).toLocaleString("zh-CN", { maximumFractionDigits: 2 }); },
    rate: function (v) { return Number(v).toFixed(1) + "%"; },
    seconds: function (v) { return Number(v).toFixed(1) + " h"; },
    int: function (v) { return Number(v).toLocaleString("zh-CN"); }
  };

  function format(unit, value) {
    if (value === null || value === undefined) { return "—"; }
    return (UNIT[unit] || UNIT.int)(value);
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var doughnut = spec.type === "doughnut";
    var datasets = spec.datasets.map(function (ds, i) {
      var color = PALETTE[i % PALETTE.length];
      return {
        label: ds.label,
        data: ds.data,
        backgroundColor: doughnut ? PALETTE.slice(0, ds.data.length) : (spec.type === "line" ? color : color + "cc"),
        borderColor: doughnut ? "#fff" : color,
        borderWidth: spec.type === "line" ? 2 : 1,
        tension: 0.25,
        pointRadius: spec.labels.length > 40 ? 0 : 2,
        spanGaps: true
      };
    });
    if (spec.horizontal) {
      canvas.parentNode.style.height = Math.max(220, 60 + spec.labels.length * 26 * Math.max(1, datasets.length * 0.8)) + "px";
    }
    var valueAxis = {
      beginAtZero: true,
      stacked: spec.stacked,
      ticks: { callback: function (v) { return format(spec.unit, v); } }
    };
    var categoryAxis = { stacked: spec.stacked, ticks: { autoSkip: true, maxRotation: 0 } };
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: spec.horizontal ? "y" : "x",
      plugins: {
        legend: { display: datasets.length > 1 || doughnut, position: "bottom", labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var value = doughnut ? ctx.parsed : (spec.horizontal ? ctx.parsed.x : ctx.parsed.y);
              return ctx.dataset.label + labelSeparator + format(spec.unit, value);
            }
          }
        }
      }
    };
    if (!doughnut) {
      options.scales = spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis };
    }
    new window.Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets: datasets }, options: options });
    canvas.setAttribute("data-drawn", "1");
  }

  function init() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
    document.documentElement.setAttribute("data-charts-ready", String(canvases.length));
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
