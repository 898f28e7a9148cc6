// Commanders' dashboard: SVG charts drawn from the figures embedded in the page, the heat layer
// on a Leaflet map, and the live move-up panel. Plain script, no build step, no chart library.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#c62828", "#ef6c00", "#f9a825", "#2e7d32", "#1565c0", "#6a1b9a"];
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const figures = read("dashboard-figures");
  const T = read("dashboard-strings");
  const mapConfig = read("dashboard-map");

  const pct = (v) => (v === null || v === undefined || v === "" ? "—" : (Number(v) * 100).toFixed(1) + "%");
  const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));

  function el(name, attrs, parent, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function frame(target, caption, width, height) {
    const fig = document.getElementById(target);
    fig.textContent = "";
    const cap = document.createElement("figcaption");
    cap.textContent = caption;
    fig.appendChild(cap);
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": caption });
    fig.appendChild(svg);
    return { fig, svg };
  }

  function legend(fig, items) {
    const box = document.createElement("div");
    box.className = "legend";
    for (const [label, color] of items) {
      const span = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = color;
      span.appendChild(swatch);
      span.appendChild(document.createTextNode(label));
      box.appendChild(span);
    }
    fig.appendChild(box);
  }

  function axisY(svg, m, h, max, asRate) {
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      const y = m.top + h - (h * i) / 4;
      el("line", { x1: m.left, x2: m.left + 9999, y1: y, y2: y, stroke: "#eef1f4" }, svg);
      el("text", { x: m.left - 4, y: y + 4, "text-anchor": "end" }, svg, asRate ? Math.round(v * 100) + "%" : Math.round(v));
    }
  }

  function niceMax(v) {
    if (v <= 5) return 5;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    return Math.ceil(v / p) * p;
  }

  function allDays() {
    const days = [];
    const end = new Date(figures.end + "T00:00:00Z");
    for (let d = new Date(figures.start + "T00:00:00Z"); d <= end; d.setUTCDate(d.getUTCDate() + 1)) {
      days.push(d.toISOString().slice(0, 10));
    }
    return days;
  }

  function volumeChart() {
    const W = 960, H = 260, m = { top: 10, right: 10, bottom: 30, left: 40 };
    const { fig, svg } = frame("chart-volume", T.volume, W, H);
    const byDay = Object.fromEntries(figures.days.map((d) => [d.day, d]));
    const days = allDays();
    const cats = figures.categories;
    const totals = days.map((d) => cats.reduce((s, c) => s + ((byDay[d] && byDay[d].by_category[c.code]) || 0), 0));
    const max = niceMax(Math.max(0, ...totals));
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, h, max, false);
    const bw = w / days.length;
    days.forEach((day, i) => {
      let y = m.top + h;
      cats.forEach((c, ci) => {
        const n = (byDay[day] && byDay[day].by_category[c.code]) || 0;
        if (!n) return;
        const bh = (n / max) * h;
        y -= bh;
        const r = el("rect", { x: m.left + i * bw + 1, y, width: Math.max(1, bw - 2), height: bh, fill: COLORS[ci] }, svg);
        el("title", {}, r, `${day} ${c.label}: ${n}`);
      });
      if (days.length <= 31 || i % Math.ceil(days.length / 15) === 0) {
        el("text", { x: m.left + i * bw + bw / 2, y: H - 12, "text-anchor": "middle" }, svg, day.slice(5));
      }
    });
    legend(fig, cats.map((c, i) => [c.label, COLORS[i]]));
  }

  function histogramChart(target, name, caption, color) {
    const W = 480, H = 220, m = { top: 10, right: 10, bottom: 40, left: 40 };
    const { svg } = frame(target, caption, W, H);
    const hist = figures.histograms[name];
    // Up to 1 hour: later buckets are folded into the last bar.
    let last = hist.edges_s.findIndex((e) => e >= 3600);
    if (last < 0) last = hist.edges_s.length - 1;
    const counts = hist.counts.slice(0, last);
    counts.push(hist.counts.slice(last).reduce((a, b) => a + b, 0));
    const max = niceMax(Math.max(0, ...counts));
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, h, max, false);
    const bw = w / counts.length;
    counts.forEach((n, i) => {
      const bh = (n / max) * h;
      const label = i === counts.length - 1 ? `≥${hist.edges_s[last]}` : `${hist.edges_s[i]}`;
      const r = el("rect", { x: m.left + i * bw + 1, y: m.top + h - bh, width: Math.max(1, bw - 2), height: bh, fill: color }, svg);
      el("title", {}, r, `${label}${T.seconds}: ${n} ${T.calls}`);
      el("text", { x: m.left + i * bw + bw / 2, y: H - 24, "text-anchor": "end", transform: `rotate(-45 ${m.left + i * bw + bw / 2} ${H - 24})` }, svg, label);
    });
  }

  function complianceChart() {
    const W = 960, H = 240, m = { top: 10, right: 24, bottom: 30, left: 44 };
    const { fig, svg } = frame("chart-compliance", T.compliance, W, H);
    const byDay = Object.fromEntries(figures.days.map((d) => [d.day, d]));
    const days = allDays();
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, h, 1, true);
    const step = days.length > 1 ? w / (days.length - 1) : 0;
    const series = [
      [T.ackTarget, COLORS[4], (d) => [d.acknowledge_within_target, d.acknowledge_due]],
      [T.arrivalTarget, COLORS[3], (d) => [d.arrival_within_target, d.arrival_due]],
    ];
    for (const [label, color, pick] of series) {
      let path = "";
      let pen = "M";
      days.forEach((day, i) => {
        const d = byDay[day];
        const [met, due] = d ? pick(d) : [0, 0];
        if (!due) { pen = "M"; return; }
        const x = m.left + i * step, y = m.top + h - (met / due) * h;
        path += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
        pen = "L";
        const dot = el("circle", { cx: x, cy: y, r: 3, fill: color }, svg);
        el("title", {}, dot, `${day} ${label}: ${pct(met / due)} (${met}/${due})`);
      });
      el("path", { d: path, fill: "none", stroke: color, "stroke-width": 2 }, svg);
    }
    days.forEach((day, i) => {
      if (days.length <= 31 || i % Math.ceil(days.length / 15) === 0) {
        el("text", { x: m.left + i * step, y: H - 12, "text-anchor": "middle" }, svg, day.slice(5));
      }
    });
    legend(fig, series.map(([label, color]) => [label, color]));
  }

  function categoryChart() {
    const W = 480, H = 240, m = { top: 10, right: 10, bottom: 34, left: 44 };
    const { fig, svg } = frame("chart-categories", T.byCategory, W, H);
    const cats = figures.categories;
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, h, 1, true);
    const gw = w / cats.length;
    const series = [
      [T.transferShare, COLORS[1], (f) => (f.total ? f.transferred / f.total : null)],
      [T.onSceneRate, COLORS[3], (f) => f.on_scene_rate],
    ];
    cats.forEach((c, i) => {
      const f = figures.summary.by_category[c.code];
      series.forEach(([label, color, pick], si) => {
        const v = pick(f);
        if (v === null || v === undefined) return;
        const bw = (gw - 12) / series.length;
        const r = el("rect", { x: m.left + i * gw + 6 + si * bw, y: m.top + h - v * h, width: bw - 2, height: v * h, fill: color }, svg);
        el("title", {}, r, `${c.label} ${label}: ${pct(v)}`);
      });
      // "Criminal (刑事)": the name and the bracketed term on two lines.
      const [first, ...rest] = c.label.split(" (");
      const label = el("text", { x: m.left + i * gw + gw / 2, y: H - 16, "text-anchor": "middle" }, svg);
      el("tspan", { x: m.left + i * gw + gw / 2, dy: 0 }, label, first);
      if (rest.length) el("tspan", { x: m.left + i * gw + gw / 2, dy: 12 }, label, "(" + rest.join(" ("));
    });
    legend(fig, series.map(([label, color]) => [label, color]));
  }

  const pointMarkers = {};

  function heatMap() {
    if (typeof L === "undefined") return;
    const map = L.map("map").setView(mapConfig.center, mapConfig.zoom);
    // Tiles only from a local source (MAP_TILES_FILE or an intranet service); without one the
    // cells and staging points stand on a plain ground.
    if (mapConfig.tileUrl) {
      L.tileLayer(mapConfig.tileUrl, { attribution: mapConfig.tileAttribution, maxZoom: 19 }).addTo(map);
    } else {
      map.getContainer().style.background = "#f1eee8";
    }
    const half = mapConfig.cellDeg / 2;
    const max = Math.max(1, ...mapConfig.heat.map((c) => c[2]));
    const bounds = [];
    for (const [lat, lon, n] of mapConfig.heat) {
      const t = Math.sqrt(n / max);
      L.rectangle([[lat - half, lon - half], [lat + half, lon + half]], {
        stroke: false, fillColor: `hsl(${Math.round(50 - 50 * t)}, 95%, 45%)`, fillOpacity: 0.25 + 0.6 * t,
      }).bindTooltip(`${T.heat}: ${n}`).addTo(map);
      bounds.push([lat, lon]);
    }
    for (const p of mapConfig.points) {
      pointMarkers[p.code] = L.circleMarker(p.latlon, { radius: 7, color: "#12355b", weight: 2, fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(`${T.stagingPoint} ${p.code} ${p.name}`).addTo(map);
      bounds.push(p.latlon);
    }
    if (bounds.length) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  }

  async function moveUp() {
    const body = document.getElementById("moveup-body");
    try {
      const res = await fetch("/api/stats/coverage-gap/", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(String(res.status));
      const gap = await res.json();
      // Live: a staging point no free unit reaches in time is drawn red on the map.
      const uncovered = new Set(gap.uncovered_points);
      for (const [code, marker] of Object.entries(pointMarkers)) {
        marker.setStyle({ fillColor: uncovered.has(code) ? "#c62828" : "#fff" });
      }
      body.textContent = "";
      const p = document.createElement("p");
      p.textContent = fmt(T.moveUpShare, { now: pct(gap.share), after: pct(gap.share_after_moves) });
      body.appendChild(p);
      if (!gap.moves.length) {
        const none = document.createElement("p");
        none.textContent = T.moveUpNone;
        body.appendChild(none);
        return;
      }
      const ul = document.createElement("ul");
      const names = Object.fromEntries(mapConfig.points.map((p) => [p.code, p.name]));
      if (gap.uncovered_points.length) {
        const gapLine = document.createElement("p");
        gapLine.textContent = fmt(T.moveUpGap, { points: gap.uncovered_points.map((c) => names[c] || c).join(T.listSeparator) });
        body.appendChild(gapLine);
      }
      for (const mv of gap.moves) {
        const li = document.createElement("li");
        li.textContent = fmt(T.moveUpRow, { unit: mv.callsign, from: names[mv.from_point] || mv.from_point, to: names[mv.to_point] || mv.to_point, eta: (mv.eta_s / 60).toFixed(1) });
        ul.appendChild(li);
      }
      body.appendChild(ul);
    } catch (e) {
      body.textContent = T.moveUpError;
    }
  }

  for (const node of document.querySelectorAll("b.rate")) node.textContent = pct(node.dataset.value);
  volumeChart();
  histogramChart("chart-hist-ack", "dispatch_to_acknowledge", T.histogramAck, COLORS[4]);
  histogramChart("chart-hist-arrival", "dispatch_to_arrival", T.histogramArrival, COLORS[3]);
  complianceChart();
  categoryChart();
  heatMap();
  moveUp();
  setInterval(moveUp, 30000);
})();
