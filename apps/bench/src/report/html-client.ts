/**
 * The script the HTML report runs in the browser, after Chart.js: it reads the chart specs (see
 * `charts.ts`) from the `#mmkit-charts` JSON block and draws each on its canvas, without animation,
 * (skipping those whose spec says `empty`: the page shows a sentence for them), then sets
 * `data-charts-drawn` on `<body>` to the number of charts drawn (and `data-markers-drawn` to the
 * trace markers drawn as vertical lines). Plain ES2017 in a string,
 * so what the browser runs is exactly what is written here (no transpiler helpers).
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("mmkit-charts").textContent);
  var palette = ["#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e", "#9498a0"];
  var units = {
    ns: [[1e6, "ms"], [1e3, "µs"], [1, "ns"]],
    bytes: [[1099511627776, "TiB"], [1073741824, "GiB"], [1048576, "MiB"], [1024, "KiB"], [1, "B"]]
  };
  function short(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toPrecision(3) + "G";
    if (a >= 1e6) return +(v / 1e6).toPrecision(3) + "M";
    if (a >= 1e4) return +(v / 1e3).toPrecision(3) + "k";
    return String(+v.toPrecision(3));
  }
  function tick(v, unit) {
    var steps = units[unit];
    if (steps) {
      for (var i = 0; i < steps.length; i++) if (Math.abs(v) >= steps[i][0] || i === steps.length - 1) return +(v / steps[i][0]).toPrecision(3) + " " + steps[i][1];
    }
    if (unit === "%") return short(v) + "%";
    if (unit === "ratio") return short(v) + "x";
    return short(v);
  }
  function logTick(v, unit) {
    var m = v / Math.pow(10, Math.floor(Math.log10(v)) );
    return Math.abs(m - 1) < 1e-6 || Math.abs(m - 2) < 1e-6 || Math.abs(m - 5) < 1e-6 ? tick(v, unit) : null;
  }
  // Byte axes tick at powers of two: 1 KiB, 4 KiB, 16 KiB... (log: powers of 4, 16 or 1024, at most 9 ticks) or 0, 16 KiB, 32 KiB... (linear).
  function byteTicks(axis) {
    var lo = axis.min, hi = axis.max, ticks = [], v;
    if (!(hi > 0)) return;
    if (axis.type === "logarithmic") {
      var base = [4, 16, 1024].filter(function (b) { return Math.log(hi / Math.max(lo, 1)) / Math.log(b) <= 8; })[0] || 1024;
      for (v = Math.pow(base, Math.ceil(Math.log(Math.max(lo, 1)) / Math.log(base))); v <= hi; v *= base) ticks.push({ value: v });
    } else {
      var step = Math.pow(2, Math.ceil(Math.log2(Math.max(hi - lo, 1) / 8)));
      for (v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push({ value: v });
    }
    if (ticks.length >= 2) axis.ticks = ticks;
  }
  // Trace markers (tracing_mark_write) as dashed vertical lines over a series chart, labelled along the line.
  var markersDrawn = 0;
  function markerPlugin(markers) {
    return {
      id: "mmkitMarkers",
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = "#777";
        ctx.fillStyle = "#333";
        ctx.lineWidth = 1;
        ctx.setLineDash([4, 3]);
        ctx.font = "11px system-ui, sans-serif";
        markers.forEach(function (m) {
          var px = x.getPixelForValue(m.x);
          if (!(px >= area.left && px <= area.right)) return;
          ctx.beginPath();
          ctx.moveTo(px, area.top);
          ctx.lineTo(px, area.bottom);
          ctx.stroke();
          ctx.save();
          ctx.translate(px + 3, area.top + 4);
          ctx.rotate(Math.PI / 2);
          ctx.fillText(m.label.length > 40 ? m.label.slice(0, 39) + "…" : m.label, 0, 0);
          ctx.restore();
          markersDrawn++;
        });
        ctx.restore();
        document.body.setAttribute("data-markers-drawn", String(markersDrawn));
      }
    };
  }
  // Lines of at most width characters, cut at spaces where possible (table.ts wrap(), in ES2017).
  function rewrap(text, width) {
    var lines = [], rest = text;
    while (rest.length > width) {
      var cut = rest.lastIndexOf(" ", width);
      if (cut <= 0) cut = width;
      lines.push(rest.slice(0, cut).replace(/\s+$/, ""));
      rest = rest.slice(cut).replace(/^\s+/, "");
    }
    lines.push(rest);
    return lines;
  }
  Chart.defaults.font.family = "system-ui, sans-serif";
  var drawn = 0;
  specs.forEach(function (spec) {
    // A chart with nothing to draw is a sentence in the page, not a canvas.
    if (spec.empty) return;
    var canvas = document.getElementById(spec.id);
    var datasets = spec.datasets.map(function (d) {
      var colour = palette[d.colour % palette.length];
      if (spec.kind === "bar") return { label: d.label, data: d.values, backgroundColor: colour, borderColor: colour, skipNull: true, maxBarThickness: 14 };
      return { label: d.label, data: d.points, backgroundColor: colour, borderColor: colour, pointRadius: d.points.length > 60 ? 0 : 2, borderWidth: 2, tension: 0 };
    });
    var valueAxis = {
      type: spec.log ? "logarithmic" : "linear",
      beginAtZero: !spec.log,
      min: spec.log ? spec.min : undefined,
      title: { display: true, text: spec.unit + (spec.log ? " (log scale)" : "") },
      ticks: { callback: function (v) { return spec.log && spec.unit !== "bytes" ? logTick(v, spec.unit) : tick(v, spec.unit); } }
    };
    if (spec.unit === "bytes") valueAxis.afterBuildTicks = byteTicks;
    var tooltip = {
      callbacks: {
        label: function (item) {
          var d = spec.datasets[item.datasetIndex];
          return d.label + ": " + d.tips[item.dataIndex];
        }
      }
    };
    var options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } }, tooltip: tooltip },
      scales: {}
    };
    if (spec.kind === "bar") {
      options.indexAxis = "y";
      options.scales.x = valueAxis;
      options.scales.y = { ticks: { autoSkip: false } };
    } else {
      options.scales.x = { type: spec.logX ? "logarithmic" : "linear", title: { display: true, text: (spec.xTitle || "at") + (spec.logX ? " (log scale)" : "") }, ticks: { callback: function (v) { return short(v); } } };
      options.scales.y = valueAxis;
    }
    var labels = spec.categories;
    // A narrow screen (a phone): category labels wrap shorter (the "n/a: ..." line stays a line of
    // its own), and the box is as tall as the labels and the legend (one system a line) then need.
    var box = canvas.parentElement;
    if (spec.kind === "bar" && box.clientWidth < 420) {
      // Chart.js gives every category the same band: the tallest label sets the band for all.
      var band = 0;
      labels = spec.categories.map(function (lines, c) {
        var parts = lines.join(" ").split(/ (?=n\/a: )/);
        var wrapped = [].concat.apply([], parts.map(function (part) { return rewrap(part, 18); }));
        var bars = spec.datasets.filter(function (d) { return d.values[c] !== null; }).length;
        band = Math.max(band, 12 + Math.max(16 * bars, 15 * wrapped.length));
        return wrapped;
      });
      box.style.height = Math.max(spec.height, 130 + 20 * spec.datasets.length + band * labels.length) + "px";
    }
    var plugins = spec.markers && spec.markers.length > 0 ? [markerPlugin(spec.markers)] : [];
    new Chart(canvas, { type: spec.kind, data: { labels: spec.kind === "bar" ? labels : undefined, datasets: datasets }, options: options, plugins: plugins });
    drawn++;
  });
  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
`;
