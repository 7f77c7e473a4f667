/* The console's charts: each <canvas data-chart="ID"> draws the JSON in <script type="application/json"
 * id="ID"> with Chart.js (chart.umd.min.js, vendored). The same figures are in the table under each
 * chart, so nothing depends on this script. No inline code: the console runs under the strict CSP. */
(function () {
  "use strict";
  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          y: { min: 0, max: 100, title: { display: true, text: spec.y_label } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
    // Tests and people's tools can tell a drawn chart from an empty canvas.
    canvas.setAttribute("data-drawn", String(chart.data.datasets.length));
  }
  function start() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      draw(canvases[i]);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
