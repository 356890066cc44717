// Draws every chart on the page with uPlot. The data comes from each chart's data-chart
// attribute (the page's CSP allows no inline script); the same numbers are in a table below.
(function () {
  "use strict";

  function palette() {
    var style = getComputedStyle(document.documentElement);
    function v(name, fallback) { return (style.getPropertyValue(name) || fallback).trim(); }
    return {
      lines: [v("--accent", "#0b62c4"), v("--warn", "#9a6700"), v("--ok", "#1a7f37"), v("--danger", "#b3261e")],
      text: v("--fg", "#1b1f24"),
      grid: v("--line", "#d6dbe1")
    };
  }

  // Ages keep their fraction (a snapshot at 2 h 30 min reads 2.5 h), as in the table.
  function hoursLabel(h) {
    return h < 72 ? Math.round(h * 10) / 10 + " h" : Math.round(h / 2.4) / 10 + " d";
  }

  function draw(el) {
    var data;
    try { data = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    var colors = palette();
    var axis = { stroke: colors.text, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid } };
    // Days are sent as noon UTC: read them in UTC so every zone shows the same date, without an hour.
    var dayLabel = function (u, v) {
      if (v == null) { return "–"; }
      var day = new Date(v * 1000).toLocaleDateString(undefined,
        { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
      return data.partial_from != null && v >= data.x[data.partial_from] ? day + " (so far)" : day;
    };
    var series = [{ label: data.x_kind === "hours" ? "age" : "day",
                    value: data.x_kind === "hours" ? function (u, v) { return v == null ? "–" : hoursLabel(v); } : dayLabel }];
    data.series.forEach(function (s, i) {
      series.push({
        label: s.label,
        stroke: colors.lines[i % colors.lines.length],
        width: 2,
        dash: s.line === "measured" ? undefined : [6, 4],
        spanGaps: false,
        points: { show: s.line === "typical" || data.x.length < 40 },
        value: function (u, v) { return v == null ? "–" : (Math.round(v * 100) / 100).toLocaleString() + (data.unit === "%" ? " %" : ""); }
      });
    });
    var opts = {
      width: Math.max(el.clientWidth, 280),
      height: 220,
      scales: { x: { time: data.x_kind === "time" } },
      series: series,
      axes: [
        Object.assign({}, axis, data.x_kind === "hours" ? { values: function (u, vals) { return vals.map(hoursLabel); } } : {}),
        Object.assign({}, axis, { label: data.unit, size: 60 })
      ],
      legend: { live: true }
    };
    // null (not measured) breaks a line; undefined (no sample at this x: a post between its
    // snapshots' ages, a typical curve between checkpoints) is passed by, as uPlot draws it.
    var columns = [data.x].concat(data.series.map(function (s) {
      var values = s.values.slice();
      (s.unsampled || []).forEach(function (i) { values[i] = undefined; });
      return values;
    }));
    // Without a pointer on the chart, the legend shows the latest measured values, not dashes.
    var latest = -1;
    data.x.forEach(function (x, i) {
      if (data.series.some(function (s) { return s.values[i] != null; })) { latest = i; }
    });
    opts.hooks = {
      setCursor: [function (u) {
        if (u.cursor.idx == null && latest >= 0) { u.setLegend({ idx: latest }); }
      }],
      // A day still counting (today) is shaded and labelled, so its low figure is not read
      // as a drop.
      drawClear: [function (u) {
        if (data.partial_from == null) { return; }
        var i = data.partial_from, half = i > 0 ? (data.x[i] - data.x[i - 1]) / 2 : 43200;
        var left = Math.max(u.valToPos(data.x[i] - half, "x", true), u.bbox.left);
        var right = u.bbox.left + u.bbox.width, ctx = u.ctx;
        if (right <= left) { return; }
        ctx.save();
        ctx.fillStyle = colors.grid;
        ctx.globalAlpha = 0.45;
        ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
        ctx.globalAlpha = 1;
        ctx.fillStyle = colors.text;
        ctx.font = Math.round(11 * devicePixelRatio) + "px sans-serif";
        ctx.textAlign = "right";
        ctx.fillText("so far", right - 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
        ctx.restore();
      }]
    };
    el.textContent = "";
    var plot = new uPlot(opts, columns, el);
    if (latest >= 0) { plot.setLegend({ idx: latest }); }
    // The keyboard explores a chart too: focus it, then ← and → step through the days.
    var shown = latest;
    el.tabIndex = 0;
    el.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") { return; }
      e.preventDefault();
      shown = Math.min(Math.max((shown < 0 ? 0 : shown) + (e.key === "ArrowRight" ? 1 : -1), 0), data.x.length - 1);
      plot.setLegend({ idx: shown });
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () { plot.setSize({ width: Math.max(el.clientWidth, 280), height: 220 }); }).observe(el);
    }
  }

  function drawAll() {
    if (typeof uPlot === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
