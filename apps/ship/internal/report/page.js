// Draws the report's charts. Each chart's option is JSON in a script beside it (escaped by
// the Go template); this adds what JSON cannot carry (formatters) and draws with the SVG
// renderer, so the charts' text is text: searchable, selectable, sharp when printed.
(function () {
  "use strict";
  var drawn = [];

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // hours → 40s, 12m, 5h 03m, 2d 4h (as the figures are written); on an axis, 10h not 10h 00m.
  function tick(h) { return dur(h).replace(/ 00m$/, "").replace(/ 0h$/, ""); }
  function dur(h) {
    var s = Math.round(h * 3600);
    if (s < 60) return s + "s";
    if (s < 3600) return Math.round(s / 60) + "m";
    if (s < 86400) {
      var m = Math.round(s / 60);
      return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m";
    }
    var hh = Math.round(s / 3600);
    return Math.floor(hh / 24) + "d " + (hh % 24) + "h";
  }
  function day(ms) { return new Date(ms).toISOString().slice(0, 10); }
  function when(ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC"; }

  // Tooltips by series id (kind-index, see charts.go); names come from the input: escaped.
  function tooltip(p) {
    var kind = String(p.seriesId).split("-")[0], v = p.value, env = esc(p.seriesName);
    switch (kind) {
      case "lead": return env + " · deployed " + when(v[0]) + "<br>lead time " + dur(v[1]);
      case "median": return env + " · week around " + day(v[0]) + "<br>median lead time " + dur(v[1]);
      case "p90": return env + " · week around " + day(v[0]) + "<br>p90 lead time " + dur(v[1]);
      case "deploys": return env + " · week around " + day(v[0]) + "<br>" + v[1] + (v[1] === 1 ? " deploy" : " deploys");
      case "failures": return env + " · week around " + day(v[0]) + "<br>" + v[1] + (v[1] === 1 ? " failure" : " failures");
      case "restore": return env + " · failed " + when(v[0]) + "<br>restored in " + dur(v[1]);
      case "open": return env + " · failed " + when(v[0]) + "<br>still open after " + dur(v[1]);
    }
    return env;
  }

  function draw(el) {
    if (el.getAttribute("data-drawn") === "1") return;
    var option = JSON.parse(document.getElementById(el.id + "-option").textContent);
    option.tooltip.formatter = tooltip;
    option.yAxis.forEach(function (y) {
      if (y.type === "log") y.axisLabel.formatter = tick;
      // Axis names start at their axis rather than centred on it (cut off at the edge).
      y.nameTextStyle = { align: y.position === "right" ? "right" : "left" };
    });
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    el.setAttribute("data-drawn", "1");
    drawn.push(chart);
  }

  // Charts in a closed section are drawn when it opens: a hidden chart has no size to draw
  // at, and 50 paths open faster when only what is shown is drawn.
  document.querySelectorAll(".chart").forEach(function (el) {
    var section = el.closest("details");
    if (!section || section.open) draw(el);
  });
  document.querySelectorAll("details").forEach(function (section) {
    section.addEventListener("toggle", function () {
      if (section.open) section.querySelectorAll(".chart").forEach(draw);
    });
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (c) { c.resize(); });
  });
})();
