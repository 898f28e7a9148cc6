// Commanders' dashboard. The page answers at once with the filters and a notice of what is being
// computed; this script loads the figures (the page's URL with format=fragment: cards, charts'
// figures and tables as HTML), puts them in place, and draws the SVG charts, the heat layer on a
// Leaflet map and the live move-up panel; a failed load says so, with a retry. Charts are drawn at
// their on-screen width (and again when it changes), so text keeps its size on a phone and the
// axis labels are thinned to what fits. Plain script, no build step, no chart library.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#c62828", "#ef6c00", "#f9a825", "#2e7d32", "#1565c0", "#6a1b9a"];
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const T = read("dashboard-strings");
  const root = document.getElementById("dashboard");
  const loading = document.getElementById("loading");
  let figures = null;
  let mapConfig = null;

  const pct = (v) => (v === null || v === undefined || v === "" ? "—" : (Number(v) * 100).toFixed(1) + "%");
  const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));

  function el(name, attrs, parent, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // A chart drawn at the width it takes on screen (1 SVG unit = 1 CSS pixel).
  function frame(target, caption, height) {
    const fig = document.getElementById(target);
    fig.textContent = "";
    const cap = document.createElement("figcaption");
    cap.textContent = caption;
    fig.appendChild(cap);
    const svg = el("svg", { role: "img", "aria-label": caption }, fig);
    const width = Math.max(200, Math.floor(svg.getBoundingClientRect().width));
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    return { fig, svg, W: width, H: height };
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

  // Count axes: whole, evenly spaced ticks with a "nice" step (1, 2 or 5 × 10^k), from 0 to the
  // first tick at or above the largest value, at most about `most` of them.
  function countTicks(max, most) {
    const raw = Math.max(max, 1) / (most || 5);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / p;
    const step = Math.max(1, Math.round((f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p));
    const top = Math.max(step, Math.ceil(max / step) * step);
    const ticks = [];
    for (let v = 0; v <= top; v += step) ticks.push(v);
    return { top, ticks };
  }

  const RATE_TICKS = { top: 1, ticks: [0, 0.25, 0.5, 0.75, 1] };

  function axisY(svg, m, w, h, scale, asRate) {
    for (const v of scale.ticks) {
      const y = m.top + h - (h * v) / scale.top;
      el("line", { x1: m.left, x2: m.left + w, y1: y, y2: y, stroke: "#eef1f4" }, svg);
      el("text", { x: m.left - 4, y: y + 4, "text-anchor": "end", class: "y-tick", "data-value": v }, svg,
        asRate ? Math.round(v * 100) + "%" : String(v));
    }
  }

  function textWidth(svg, text) {
    const probe = el("text", { x: 0, y: -100 }, svg, text);
    const width = probe.getComputedTextLength();
    probe.remove();
    return width;
  }

  // Labels under evenly spaced positions: every n-th, n the smallest that keeps neighbours apart.
  function xLabels(svg, labels, x0, spacing, y) {
    if (!labels.length) return;
    const widest = Math.max(...labels.map((t) => t.length));
    const width = textWidth(svg, labels.find((t) => t.length === widest));
    const every = spacing > 0 ? Math.max(1, Math.ceil((width + 8) / spacing)) : 1;
    labels.forEach((text, i) => {
      if (i % every === 0) el("text", { x: x0 + i * spacing, y, "text-anchor": "middle", class: "x-label" }, svg, text);
    });
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
    const m = { top: 10, right: 10, bottom: 30, left: 40 };
    const { fig, svg, W, H } = frame("chart-volume", T.volume, 260);
    const byDay = Object.fromEntries(figures.days.map((d) => [d.day, d]));
    const days = allDays();
    const cats = figures.categories;
    const totals = days.map((d) => cats.reduce((s, c) => s + ((byDay[d] && byDay[d].by_category[c.code]) || 0), 0));
    const scale = countTicks(Math.max(0, ...totals));
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, w, h, scale, false);
    const bw = w / days.length;
    days.forEach((day, i) => {
      let y = m.top + h;
      cats.forEach((c, ci) => {
        const n = (byDay[day] && byDay[day].by_category[c.code]) || 0;
        if (!n) return;
        const bh = (n / scale.top) * h;
        y -= bh;
        const r = el("rect", { x: m.left + i * bw + Math.min(1, bw / 4), y, width: Math.max(1, bw - Math.min(2, bw / 2)), height: bh, fill: COLORS[ci] }, svg);
        el("title", {}, r, `${day} ${c.label}: ${n}`);
      });
    });
    xLabels(svg, days.map((d) => d.slice(5)), m.left + bw / 2, bw, H - 12);
    legend(fig, cats.map((c, i) => [c.label, COLORS[i]]));
  }

  function histogramChart(target, name, caption, color) {
    const m = { top: 10, right: 10, bottom: 44, left: 40 };
    const { svg, W, H } = frame(target, caption, 220);
    const hist = figures.histograms[name];
    // Up to 1 hour: later buckets are folded into the last bar.
    let last = hist.edges_s.findIndex((e) => e >= 3600);
    if (last < 0) last = hist.edges_s.length - 1;
    const counts = hist.counts.slice(0, last);
    counts.push(hist.counts.slice(last).reduce((a, b) => a + b, 0));
    const scale = countTicks(Math.max(0, ...counts));
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, w, h, scale, false);
    const bw = w / counts.length;
    // The labels are turned 45°: neighbours stay apart when their distance across the slant
    // (bw · sin 45°) exceeds the text's height. Counted back from the last ("≥3600"), always shown.
    const every = Math.max(1, Math.ceil(16 / (bw * Math.SQRT1_2)));
    counts.forEach((n, i) => {
      const bh = (n / scale.top) * h;
      const label = i === counts.length - 1 ? `≥${hist.edges_s[last]}` : `${hist.edges_s[i]}`;
      const r = el("rect", { x: m.left + i * bw + 1, y: m.top + h - bh, width: Math.max(1, bw - 2), height: bh, fill: color }, svg);
      el("title", {}, r, `${label}${T.seconds}: ${n} ${T.calls}`);
      if ((counts.length - 1 - i) % every === 0) {
        const x = m.left + i * bw + bw / 2;
        el("text", { x, y: H - 28, "text-anchor": "end", transform: `rotate(-45 ${x} ${H - 28})` }, svg, label);
      }
    });
  }

  function complianceChart() {
    const m = { top: 10, right: 24, bottom: 30, left: 44 };
    const { fig, svg, W, H } = frame("chart-compliance", T.compliance, 240);
    const byDay = Object.fromEntries(figures.days.map((d) => [d.day, d]));
    const days = allDays();
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, w, h, RATE_TICKS, true);
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
    xLabels(svg, days.map((d) => d.slice(5)), m.left, step, H - 12);
    legend(fig, series.map(([label, color]) => [label, color]));
  }

  function categoryChart() {
    const m = { top: 10, right: 10, bottom: 34, left: 44 };
    const { fig, svg, W, H } = frame("chart-categories", T.byCategory, 240);
    const cats = figures.categories;
    const w = W - m.left - m.right, h = H - m.top - m.bottom;
    axisY(svg, m, w, h, RATE_TICKS, true);
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
        const r = el("rect", { x: m.left + i * gw + 6 + si * bw, y: m.top + h - v * h, width: Math.max(1, bw - 2), height: v * h, fill: color }, svg);
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

  function drawCharts() {
    volumeChart();
    histogramChart("chart-hist-ack", "dispatch_to_acknowledge", T.histogramAck, COLORS[4]);
    histogramChart("chart-hist-arrival", "dispatch_to_arrival", T.histogramArrival, COLORS[3]);
    complianceChart();
    categoryChart();
  }

  const pointMarkers = {};

  function heatMap() {
    if (typeof L === "undefined") return;
    const map = L.map("map", { zoomControl: false }).setView(mapConfig.center, mapConfig.zoom);
    L.control
      .zoom({ zoomInTitle: mapConfig.zoomInTitle, zoomOutTitle: mapConfig.zoomOutTitle })
      .addTo(map);
    // Tiles only from a local source (MAP_TILES_FILE or an intranet service); without one the
    // cells and staging points stand on a plain ground.
    if (mapConfig.tileUrl) {
      L.tileLayer(mapConfig.tileUrl, { attribution: mapConfig.tileAttribution, maxZoom: mapConfig.maxZoom }).addTo(map);
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

  function failed(reason) {
    root.removeAttribute("aria-busy");
    const box = document.createElement("div");
    box.id = "load-error";
    box.className = "status failed";
    box.setAttribute("role", "alert");
    const p = document.createElement("p");
    p.textContent = fmt(T.loadError, { reason });
    const retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = T.retry;
    retry.addEventListener("click", load);
    box.append(p, retry);
    root.replaceChildren(box);
  }

  function show(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    root.replaceChildren(template.content);
    root.removeAttribute("aria-busy");
    figures = read("dashboard-figures");
    mapConfig = read("dashboard-map");
    for (const node of document.querySelectorAll("b.rate")) node.textContent = pct(node.dataset.value);
    drawCharts();
    let drawnAt = window.innerWidth;
    let pending = 0;
    window.addEventListener("resize", () => {
      if (window.innerWidth === drawnAt) return;
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => { drawnAt = window.innerWidth; drawCharts(); });
    });
    heatMap();
    moveUp();
    setInterval(moveUp, 30000);
  }

  async function load() {
    root.setAttribute("aria-busy", "true");
    root.replaceChildren(loading);
    let res;
    let html;
    try {
      res = await fetch(root.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (res.ok) html = await res.text();
    } catch (e) {
      failed(T.networkError);
      return;
    }
    if (!res.ok) {
      failed(fmt(T.httpError, { status: res.status }));
      return;
    }
    try {
      show(html);
    } catch (e) {
      // Not the figures (a login page after the session ended, a proxy's page): say so.
      failed(e.message);
    }
  }

  load();
})();
