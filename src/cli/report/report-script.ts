/**
 * The report's inline script: reads the embedded data and draws every chart as SVG, then
 * marks each drawn chart `data-drawn="true"` (the headless-browser test looks for it). Plain
 * ES2017 with no template literals, so it embeds in a TypeScript string without escaping.
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  var NS = 'http://www.w3.org/2000/svg';
  var COLORS = ['#2f6fdf', '#e0892b', '#3a9a5b', '#9b4fc8', '#c9473b', '#2a9fa8', '#7a6a3c', '#d14f93'];
  var data = JSON.parse(document.getElementById('report-data').textContent);

  function el(parent, name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function nice(v) { return v >= 1e9 ? (v / 1e9).toFixed(1) + 'G' : v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e4 ? (v / 1e3).toFixed(0) + 'k' : String(Math.round(v * 10) / 10); }
  function frame(svg, w, h) { svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h); }

  function drawLines(svg) {
    var W = 1000, H = 320, L = 60, R = 20, T = 30, B = 40;
    frame(svg, W, H);
    var maxT = 1, maxY = 1;
    data.throughput.forEach(function (s) { s.points.forEach(function (p) { maxT = Math.max(maxT, p[0]); maxY = Math.max(maxY, p[1]); }); });
    data.events.forEach(function (e) { maxT = Math.max(maxT, e.atMs); });
    var x = function (t) { return L + (t / maxT) * (W - L - R); };
    var y = function (v) { return H - B - (v / maxY) * (H - T - B); };
    el(svg, 'line', { 'class': 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B });
    el(svg, 'line', { 'class': 'axis', x1: L, y1: T, x2: L, y2: H - B });
    for (var i = 0; i <= 4; i++) {
      el(svg, 'text', { x: L - 6, y: y(maxY * i / 4) + 4, 'text-anchor': 'end' }, nice(maxY * i / 4));
      el(svg, 'text', { x: x(maxT * i / 4), y: H - B + 16, 'text-anchor': 'middle' }, (maxT * i / 4000).toFixed(1) + ' s');
    }
    el(svg, 'text', { x: L, y: T - 12 }, 'Mbit/s');
    data.throughput.forEach(function (s, i) {
      if (s.points.length === 0) return;
      var d = s.points.map(function (p, j) { return (j ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1); }).join(' ');
      el(svg, 'path', { 'class': 'series', d: d, fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 2 });
    });
    data.events.forEach(function (e, i) {
      el(svg, 'line', { 'class': 'event', x1: x(e.atMs), y1: T, x2: x(e.atMs), y2: H - B });
      el(svg, 'text', { 'class': 'event-label', x: x(e.atMs) + 3, y: T + 10 + (i % 3) * 12 }, e.label);
    });
  }

  function drawBars(svg, items) {
    var W = 480, H = 240, L = 56, R = 10, T = 16, B = 48;
    frame(svg, W, H);
    var max = 1;
    items.forEach(function (it) { max = Math.max(max, it.value); });
    var slot = (W - L - R) / Math.max(1, items.length);
    el(svg, 'line', { 'class': 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B });
    el(svg, 'text', { x: L - 6, y: T + 4, 'text-anchor': 'end' }, nice(max));
    items.forEach(function (it, i) {
      var h = (it.value / max) * (H - T - B);
      var bx = L + i * slot + slot * 0.15;
      var bar = el(svg, 'rect', { 'class': 'bar', x: bx.toFixed(1), y: (H - B - h).toFixed(1), width: (slot * 0.7).toFixed(1), height: h.toFixed(1), fill: COLORS[(it.color || 0) % COLORS.length] });
      el(bar, 'title', {}, it.label + ': ' + it.value);
      el(svg, 'text', { x: bx + slot * 0.35, y: H - B + 14, 'text-anchor': 'middle', transform: items.length > 8 ? 'rotate(30 ' + (bx + slot * 0.35) + ' ' + (H - B + 14) + ')' : '' }, it.label);
    });
  }

  /** Horizontal bars, one row per item: long counter names stay readable at any width. */
  function drawHBars(svg, items) {
    var W = 1000, ROW = 26, T = 10, B = 10, L = 330, R = 90;
    var H = T + B + ROW * Math.max(1, items.length);
    frame(svg, W, H);
    svg.style.maxHeight = (H * 1.2) + 'px';
    var max = 1;
    items.forEach(function (it) { max = Math.max(max, it.value); });
    el(svg, 'line', { 'class': 'axis', x1: L, y1: T, x2: L, y2: H - B });
    items.forEach(function (it, i) {
      var y = T + i * ROW;
      var w = (it.value / max) * (W - L - R);
      el(svg, 'text', { x: L - 8, y: y + ROW * 0.65, 'text-anchor': 'end', 'class': 'hbar-label' }, it.label);
      var bar = el(svg, 'rect', { 'class': 'bar', x: L, y: (y + 4).toFixed(1), width: Math.max(it.value > 0 ? 1 : 0, w).toFixed(1), height: ROW - 8, fill: COLORS[(it.color || 0) % COLORS.length] });
      el(bar, 'title', {}, it.label + ': ' + it.value);
      el(svg, 'text', { x: L + w + 6, y: y + ROW * 0.65, 'class': 'hbar-value' }, nice(it.value));
    });
  }

  function drawChart(svg) {
    var kind = svg.getAttribute('data-chart');
    if (kind === 'throughput') drawLines(svg);
    else if (kind === 'rss') {
      var nic = data.rssChannels[Number(svg.getAttribute('data-index'))];
      drawBars(svg, nic.frames.map(function (v, i) { return { label: 'ch' + i, value: v, color: 0 }; }));
    } else if (kind === 'offloads') {
      var items = [];
      data.offloads.forEach(function (o, n) { o.counters.forEach(function (c) { items.push({ label: o.nic + ' ' + c.name, value: c.value, color: n + 1 }); }); });
      drawHBars(svg, items);
    } else if (kind === 'drops') {
      drawHBars(svg, Object.keys(data.drops).map(function (k) { return { label: k, value: data.drops[k], color: 4 }; }));
    }
    svg.setAttribute('data-drawn', 'true');
  }

  var charts = document.querySelectorAll('svg[data-chart]');
  for (var i = 0; i < charts.length; i++) drawChart(charts[i]);
  document.body.setAttribute('data-drawn', 'true');
})();
`;
