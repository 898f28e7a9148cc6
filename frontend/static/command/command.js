// The live command map: units by status, open incidents against the 1-3-5 targets, layers,
// live updates over /ws/command/ (session cookie), the call-taker's console (console.js), the
// incident panel with every action of the command centre, and the alarms (alarm.js).
import { apiClient, errorText, newKey } from "../common/api.js";
import { baseMap, displayGeoJSON, drawVectorBase, hasTiles, ll } from "../common/basemap.js";
import { CONFIG } from "../common/config.js";
import { $, esc } from "../common/dom.js";
import { formatDistance, formatDuration, haversineM } from "../common/geo.js";
import { OPEN, actionUrl, actionsFrom, allowed } from "../common/lifecycle.js";
import { Socket, wsUrl } from "../common/socket.js";
import { TARGETS, arrivalTarget } from "../common/targets.js";
import { alarm, alarms, initAlarm } from "./alarm.js";
import { createConsole } from "./console.js";

const T = JSON.parse(document.getElementById("cad-strings").textContent);
const COLOURS = {
  available: "#0a7d2c",
  patrolling: "#1e88e5",
  dispatched: "#f9a825",
  en_route: "#ef6c00",
  on_scene: "#8e24aa",
  out_of_service: "#616161",
};
const POLL_MS = 10000;

const state = {
  units: new Map(),
  incidents: new Map(),
  flags: new Map(),
  transfers: new Map(), // handed over to a station, waiting for its receipt
  stationNames: new Map(),
  health: new Map(),
  points: new Map(), // staging point id → [lat, lon]
  selected: null,
  seq: 0,
};
const markers = new Map(); // unit id → circleMarker
const incMarkers = new Map(); // incident id → circleMarker
let map;
let socket;
let poller = null;
let desk = null; // the call-taker's console

// The admin's session cookie; writes carry its CSRF token (sent in the page config).
const api = apiClient({
  credentials: "same-origin",
  authorize(headers, hasBody) {
    if (hasBody) headers["X-CSRFToken"] = CONFIG.csrfToken;
  },
});

function positionAge(unit) {
  if (unit.position_at) return (Date.now() - Date.parse(unit.position_at)) / 1000;
  if (unit.position_age_s != null && unit._loadedAt) {
    return unit.position_age_s + (Date.now() - unit._loadedAt) / 1000;
  }
  return null;
}

// --- units -------------------------------------------------------------------------------------

function upsertUnit(data) {
  const prev = state.units.get(data.id) || {};
  const unit = { ...prev, ...data };
  if ("position_age_s" in data && !("position_at" in data)) unit._loadedAt = Date.now();
  state.units.set(unit.id, unit);
  drawUnit(unit);
}

function unitLabel(unit) {
  const age = positionAge(unit);
  const ageText = age == null ? T.noPosition : `${formatDuration(age)} ${T.ago}`;
  return `${unit.callsign} · ${T.unitStatus[unit.status] || unit.status} · ${ageText}`;
}

function drawUnit(unit) {
  let marker = markers.get(unit.id);
  const pos = unit.position;
  if (!pos) {
    if (marker) marker.remove();
    markers.delete(unit.id);
    return;
  }
  const p = ll(pos.lat, pos.lon);
  const colour = COLOURS[unit.status] || "#000";
  if (!marker) {
    marker = L.circleMarker(p, { radius: 10, weight: 3, color: "#fff", fillOpacity: 1 }).addTo(map);
    marker.bindTooltip("", { permanent: true, direction: "right", offset: [10, 0] });
    markers.set(unit.id, marker);
  }
  marker.setLatLng(p);
  marker.setStyle({ fillColor: colour });
  marker.setTooltipContent(unitLabel(unit));
}

// The phones' heartbeats (GET /api/units/health/): battery, queue, GPS age, app version.
function healthText(unitId) {
  const row = state.health.get(unitId);
  if (!row || !row.health) return T.noHeartbeat;
  const h = row.health;
  const parts = [`${T.heartbeat} ${formatDuration(row.age_s)} ${T.ago}`];
  if (h.battery_level != null) parts.push(`🔋${Math.round(h.battery_level * 100)}%`);
  if (h.queue_length) parts.push(`${T.queued} ${h.queue_length}`);
  if (h.gps_fix_age_s != null) parts.push(`GPS ${formatDuration(h.gps_fix_age_s)}`);
  if (h.notification_permission !== "granted") parts.push(`🔕`);
  parts.push(`v${h.app_version}`);
  return parts.join(" · ");
}

async function loadHealth() {
  try {
    const rows = await api("/api/units/health/");
    state.health = new Map(rows.map((r) => [r.unit, r]));
  } catch {
    /* keep the last */
  }
}

function renderUnits() {
  const rows = [...state.units.values()].sort((a, b) => a.callsign.localeCompare(b.callsign));
  $("units").innerHTML = rows
    .map(
      (u) =>
        `<li data-unit="${u.id}" data-lat="${u.position ? u.position.lat : ""}" data-lon="${u.position ? u.position.lon : ""}"><span class="dot" style="background:${COLOURS[u.status] || "#000"}"></span>${esc(unitLabel(u))}<br><small class="health">${esc(healthText(u.id))}</small></li>`,
    )
    .join("");
}

// --- incidents ---------------------------------------------------------------------------------

// Websocket frames carry a brief incident (grid, unit, station as ids); the REST API nests
// objects. Keep the richer object when a brief says the same id.
function merge(prev, data) {
  const out = { ...prev, ...data };
  for (const key of ["grid", "unit", "station"]) {
    const old = prev[key];
    if (typeof data[key] === "number" && old && typeof old === "object" && old.id === data[key]) {
      out[key] = old;
    }
  }
  return out;
}

function unitCallsign(inc) {
  if (inc.unit && typeof inc.unit === "object") return inc.unit.callsign;
  return inc.unit ? state.units.get(inc.unit)?.callsign || "" : "";
}

function upsertIncident(data) {
  const prev = state.incidents.get(data.id) || state.transfers.get(data.id) || {};
  const inc = merge(prev, data);
  // Handed over, waiting for the station's receipt (the table's receive_transfer): listed apart
  // until the station confirms.
  if (allowed("receive_transfer", inc.status)) state.transfers.set(inc.id, inc);
  else state.transfers.delete(inc.id);
  if (!OPEN.has(inc.status)) {
    state.incidents.delete(inc.id);
    incMarkers.get(inc.id)?.remove();
    incMarkers.delete(inc.id);
    return;
  }
  state.incidents.set(inc.id, inc);
  drawIncident(inc);
}

// The running target of an open incident: acknowledge (from dispatch), then arrival.
function countdown(inc) {
  if (inc.status === "received") {
    return { text: formatDuration((Date.now() - Date.parse(inc.received_at)) / 1000), missed: false };
  }
  if (inc.status === "on_scene") return { text: "✓", missed: Boolean(inc.arrival_breached_at) };
  const start = Date.parse(inc.dispatched_at || inc.received_at);
  const limit = inc.status === "dispatched" ? TARGETS.acknowledge_s : arrivalTarget(inc);
  const left = limit - (Date.now() - start) / 1000;
  return {
    text: left >= 0 ? `${formatDuration(left)} ${T.remaining}` : `${formatDuration(-left)} ${T.overdue}`,
    missed: left < 0,
  };
}

function flagsOf(inc) {
  const flags = state.flags.get(inc.id) || {};
  return {
    escalated: Boolean(flags.escalated || inc.escalated_at),
    breach: Boolean(flags.breach || inc.arrival_breached_at),
  };
}

function drawIncident(inc) {
  if (!inc.location) return;
  const p = ll(inc.location.lat, inc.location.lon);
  const { escalated, breach } = flagsOf(inc);
  let marker = incMarkers.get(inc.id);
  if (!marker) {
    marker = L.circleMarker(p, { radius: 12, weight: 3, color: "#000", fillOpacity: 0.9 }).addTo(map);
    marker.on("click", () => select(inc.id));
    incMarkers.set(inc.id, marker);
  }
  marker.setLatLng(p);
  marker.setStyle({ fillColor: escalated || breach ? "#c40018" : "#ff7043" });
  const el = marker.getElement();
  if (el) el.classList.toggle("pulse", escalated || breach);
  marker.bindTooltip(`${inc.number} ${T.category[inc.category] || ""}`);
}

function renderIncidents() {
  const rows = [...state.incidents.values()].sort((a, b) =>
    String(a.received_at).localeCompare(String(b.received_at)),
  );
  $("incidents").innerHTML = rows
    .map((inc) => {
      const { escalated, breach } = flagsOf(inc);
      const cd = countdown(inc);
      const cls = [escalated ? "escalated" : "", breach ? "breach" : ""].join(" ");
      const unit = unitCallsign(inc);
      const notes = [escalated ? T.escalated : "", breach ? T.breach : ""].filter(Boolean).join(" · ");
      return `<li class="${cls}" data-incident="${inc.id}"><strong>${esc(inc.number)}</strong>
        ${esc(T.incidentStatus[inc.status] || inc.status)} ${esc(unit)}<br>${esc(inc.address)}<br>
        <span class="countdown ${cd.missed ? "missed" : ""}">${esc(cd.text)}</span> ${esc(notes)}</li>`;
    })
    .join("");
  $("counts").textContent = `${state.units.size} ${T.units} · ${state.incidents.size} ${T.incidents}`;
  const waiting = [...state.transfers.values()].sort((a, b) =>
    String(a.handed_over_at || a.received_at).localeCompare(String(b.handed_over_at || b.received_at)),
  );
  $("transfers").innerHTML = waiting.length
    ? waiting
        .map((inc) => {
          const at = inc.handed_over_at || inc.closed_at;
          const since = at ? formatDuration((Date.now() - Date.parse(at)) / 1000) : "";
          const ts = inc.transfer_station;
          const station = ts && typeof ts === "object" ? ts.name : state.stationNames.get(ts) || "";
          return `<li data-incident="${inc.id}"><strong>${esc(inc.number)}</strong> → ${esc(station)} · ${esc(since)}<br>${esc(inc.address)}</li>`;
        })
        .join("")
    : `<li class="muted">${esc(T.noTransfers)}</li>`;
}

async function refreshIncident(id) {
  try {
    upsertIncident(await api(`/api/incidents/${id}/`));
  } catch {
    /* not visible any more */
  }
  renderIncidents();
  if (state.selected === id) select(id);
}

// --- dispatch panel ----------------------------------------------------------------------------

async function select(id) {
  state.selected = id;
  const box = $("detail");
  let inc;
  try {
    // Masked: the full number is one deliberate click away (and that click is logged).
    inc = await api(`/api/incidents/${id}/?caller=masked`);
  } catch {
    box.hidden = true;
    return;
  }
  if (state.selected !== id) return;
  const unit = inc.unit ? inc.unit.callsign : "";
  const head = `<strong>${esc(inc.number)}</strong> ${esc(T.category[inc.category] || inc.category)}
    · P${esc(inc.priority)} · ${esc(T.incidentStatus[inc.status] || inc.status)} ${esc(unit)}<br>${esc(inc.address)}<br>${esc(inc.description)}
    ${inc.caller_phone ? `<br>☎ <span id="detail-phone">${esc(inc.caller_phone)}</span> ${esc(inc.caller_name)}
      <button type="button" data-reveal>${esc(T.showNumber)}</button>` : ""}`;
  let body = "";
  if (allowed("dispatch", inc.status)) body += await dispatchOptions(inc);
  // The command centre's other actions from this status, as the transition table says.
  const actions = actionsFrom(inc.status, "command").filter((tr) => tr.action !== "dispatch");
  if (actions.length) {
    body += `<div class="actions">${actions
      .map((tr) => `<button type="button" data-act="${tr.action}">${esc(tr.label)}</button>`)
      .join(" ")}</div>`;
  }
  body += `<form id="act-form" hidden><label><span id="act-label"></span><input id="act-text" maxlength="1000" required></label>
    <button type="submit">${esc(T.send)}</button></form>`;
  body += `<button type="button" data-note>${esc(T.addNote)}</button>`;
  const events = (inc.events || []).slice(-8);
  body += `<details open><summary>${esc(T.timeline)}</summary><ol class="timeline">${events
    .map((e) => {
      const when = new Date(e.at).toLocaleTimeString(CONFIG.language, { timeZone: CONFIG.timeZone });
      const what = T.eventKind[e.kind] || T.incidentStatus[e.to_state] || e.kind;
      const text = e.kind === "note" ? e.payload.text : e.reason;
      return `<li data-kind="${esc(e.kind)}">${esc(when)} ${esc(what)}${e.actor ? ` · ${esc(e.actor)}` : ""}${text ? `<br><small>${esc(text)}</small>` : ""}</li>`;
    })
    .join("")}</ol></details>`;
  box.innerHTML = `${head}${body}<p id="detail-msg"></p><button type="button" data-close>${esc(T.close)}</button>`;
  box.hidden = false;
  box.dataset.incident = id;
  box.dataset.status = inc.status;
}

async function dispatchOptions(inc) {
  let options;
  let title;
  // The server's ranking (estimated travel time); if it cannot be had, the free units by
  // straight-line distance as a hint.
  let ranked = null;
  try {
    ranked = await api(`/api/incidents/${inc.id}/recommendations/`);
  } catch {
    ranked = null;
  }
  if (Array.isArray(ranked)) {
    title = inc.dispatched_at ? T.sendAnother : T.recommended;
    options = ranked.map((r) => ({
      id: r.unit,
      text: `${r.callsign} · ${formatDistance(r.distance_m)} · ${formatDuration(r.eta_s)}`,
    }));
  } else {
    title = T.freeUnits;
    options = [...state.units.values()]
      .filter((u) => (u.status === "available" || u.status === "patrolling") && !u.current_incident)
      .map((u) => {
        // Like the server: the unit's position, else its staging point.
        const sp = u.staging_point && state.points.get(u.staging_point.id);
        const from = u.position ? [u.position.lat, u.position.lon] : sp;
        const d = from ? haversineM(from[0], from[1], inc.location.lat, inc.location.lon) : null;
        return { id: u.id, d, text: `${u.callsign} · ${formatDistance(d)}` };
      })
      .sort((a, b) => (a.d ?? Infinity) - (b.d ?? Infinity));
  }
  return (
    `<p>${esc(title)}</p>` +
    options
      .map((o) => `<div><button type="button" data-dispatch="${o.id}">${esc(T.dispatch)}</button> ${esc(o.text)}</div>`)
      .join("")
  );
}

async function dispatch(incidentId, unitId) {
  try {
    const inc = await api(actionUrl(incidentId, "dispatch"), {
      method: "POST",
      body: { unit: unitId },
    });
    upsertIncident(inc);
    renderIncidents();
    $("detail-msg").textContent = T.dispatched;
    select(incidentId);
  } catch (error) {
    $("detail-msg").textContent = `${T.refused}: ${errorText(error)}`;
  }
}

// Cancel, take the unit off (both with a reason) and notes share one small inline form.
function askText(kind) {
  const form = $("act-form");
  form.hidden = false;
  form.dataset.kind = kind;
  $("act-label").textContent = kind === "note" ? T.notePrompt : T.reasonPrompt;
  $("act-text").value = "";
  $("act-text").focus();
}

async function sendText(incidentId, kind, text) {
  const url = kind === "note" ? `/api/incidents/${incidentId}/notes/` : actionUrl(incidentId, kind);
  const body = kind === "note" ? { text } : { reason: text };
  try {
    const inc = await api(url, { method: "POST", body, key: newKey() });
    upsertIncident(inc);
    renderIncidents();
    select(incidentId);
  } catch (error) {
    $("detail-msg").textContent = `${T.refused}: ${errorText(error)}`;
  }
}

async function revealNumber(incidentId) {
  try {
    const inc = await api(`/api/incidents/${incidentId}/`);
    $("detail-phone").textContent = inc.caller_phone;
  } catch (error) {
    $("detail-msg").textContent = `${T.refused}: ${errorText(error)}`;
  }
}

// A line under the ringing calls for what the console just did (and the incident selected).
function consoleDone(incidentId, text) {
  $("flash-msg").textContent = text;
  refreshIncident(incidentId);
  select(incidentId);
}

// --- live updates ------------------------------------------------------------------------------

function onFrame(frame) {
  if (typeof frame.seq === "number" && frame.type !== "snapshot") {
    state.seq = Math.max(state.seq, frame.seq);
  }
  switch (frame.type) {
    case "snapshot":
      state.seq = frame.seq;
      (frame.units || []).forEach(upsertUnit);
      (frame.incidents || []).forEach(upsertIncident);
      desk.snapshot(frame.calls);
      break;
    case "snapshot.part": // a large snapshot's further units and incidents
      (frame.units || []).forEach(upsertUnit);
      (frame.incidents || []).forEach(upsertIncident);
      desk.snapshot(frame.calls, { more: true });
      break;
    case "call.ringing":
    case "call.updated":
      desk.frame(frame);
      break;
    case "unit.position":
      upsertUnit({
        id: frame.unit_id,
        callsign: frame.callsign,
        status: frame.status,
        position: frame.position,
        position_at: frame.position_at,
      });
      break;
    case "unit.updated": {
      const unit = { id: frame.unit_id, status: frame.status };
      if (frame.callsign) unit.callsign = frame.callsign;
      if ("current_incident_id" in frame) unit.current_incident = frame.current_incident_id;
      upsertUnit(unit);
      coverageSoon();
      break;
    }
    case "incident.updated":
      if (frame.incident) {
        upsertIncident(frame.incident);
        if (state.selected === frame.incident_id) select(frame.incident_id);
      } else refreshIncident(frame.incident_id);
      break;
    case "incident.escalated":
    case "incident.breach": {
      const flags = state.flags.get(frame.incident_id) || {};
      const kind = frame.type === "incident.escalated" ? "escalated" : "breach";
      if (!flags[kind]) alarm(kind);
      flags[kind] = true;
      state.flags.set(frame.incident_id, flags);
      refreshIncident(frame.incident_id);
      break;
    }
    default:
      break;
  }
  renderUnits();
  renderIncidents();
}

function onSocketState(s) {
  const el = $("conn");
  el.dataset.state = s === "online" ? "online" : s === "denied" ? "offline" : "reconnecting";
  el.textContent = T[el.dataset.state];
  // While the live link is down, poll the board so the map never silently freezes.
  clearInterval(poller);
  if (s !== "online") poller = setInterval(loadState, POLL_MS);
}

async function loadState() {
  const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
  const [units, incidents] = await Promise.all([
    api("/api/units/"),
    api(`/api/incidents/?since=${encodeURIComponent(since)}&page_size=200`),
  ]);
  units.forEach(upsertUnit);
  (incidents.results || incidents).forEach(upsertIncident);
  renderUnits();
  renderIncidents();
}

async function loadLayers() {
  const layers = await api("/api/map/layers/");
  for (const f of layers.staging_points.features) {
    state.points.set(f.properties.id, [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
  }
  for (const f of layers.stations.features) state.stationNames.set(f.properties.id, f.properties.name);
  const stations = L.geoJSON(displayGeoJSON(layers.stations), {
    style: { color: "#0b3d91", weight: 2, fill: false, dashArray: "6 4" },
    onEachFeature: (f, l) => l.bindTooltip(f.properties.name),
  });
  const cells = L.geoJSON(displayGeoJSON(layers.grid_cells), {
    style: (f) => ({
      color: f.properties.priority_zone ? "#c40018" : "#555",
      weight: 1,
      fillOpacity: f.properties.priority_zone ? 0.12 : 0.03,
    }),
    onEachFeature: (f, l) => l.bindTooltip(f.properties.code),
  });
  const points = L.geoJSON(displayGeoJSON(layers.staging_points), {
    pointToLayer: (f, latlng) =>
      L.circleMarker(latlng, { radius: 6, color: "#0b3d91", fillColor: "#fff", fillOpacity: 1 }),
    onEachFeature: (f, l) => {
      l.bindTooltip(f.properties.name);
      pointMarkers.set(f.properties.code, { layer: l, name: f.properties.name });
    },
  });
  [stations, cells, points].forEach((l) => l.addTo(map));
  L.control
    .layers(null, { [T.layerCells]: cells, [T.layerPoints]: points, [T.layerStations]: stations })
    .addTo(map);
  const bounds = cells.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
}

// --- coverage gap and move-up (a busy staging point's area, who should cover it) ------------

const pointMarkers = new Map(); // staging point code → {layer, name}
let coverageTimer = null;

async function loadCoverage() {
  const box = $("moveup");
  let gap;
  try {
    gap = await api("/api/stats/coverage-gap/");
  } catch {
    return; // keep the last answer; the next round retries
  }
  const name = (code) => pointMarkers.get(code)?.name || code;
  const uncovered = new Set(gap.uncovered_points);
  pointMarkers.forEach(({ layer }, code) =>
    layer.setStyle({ fillColor: uncovered.has(code) ? "#c40018" : "#fff" }),
  );
  const pct = (x) => (x == null ? "–" : `${(100 * x).toFixed(1)}%`);
  const parts = [
    `<p>${esc(T.coverageNow.replace("%(now)s", pct(gap.share)).replace("%(after)s", pct(gap.share_after_moves)))}</p>`,
  ];
  if (gap.uncovered_points.length) {
    const names = gap.uncovered_points.map(name).join(T.listSeparator);
    parts.push(`<p class="gap">${esc(T.uncovered.replace("%(points)s", names))}</p>`);
  }
  if (!gap.moves.length) {
    parts.push(`<p>${esc(gap.uncovered_points.length ? T.noMoveUpPossible : T.noMoveUp)}</p>`);
  } else {
    parts.push(
      "<ul>" +
        gap.moves
          .map((m) =>
            `<li>${esc(
              T.moveUp
                .replace("%(unit)s", m.callsign)
                .replace("%(from)s", name(m.from_point))
                .replace("%(to)s", name(m.to_point))
                .replace("%(eta)s", (m.eta_s / 60).toFixed(1)),
            )}</li>`,
          )
          .join("") +
        "</ul>",
    );
  }
  box.innerHTML = parts.join("");
}

// Unit status changes move the gap: refresh soon after them, at most every 2 s.
function coverageSoon() {
  if (coverageTimer) return;
  coverageTimer = setTimeout(() => {
    coverageTimer = null;
    loadCoverage();
  }, 2000);
}

function boot() {
  map = baseMap("map");
  document.addEventListener("click", (event) => {
    const t = event.target;
    const li = t.closest("[data-incident]");
    if (li && li.closest("#incidents")) select(Number(li.dataset.incident));
    if (li && li.closest("#transfers")) select(Number(li.dataset.incident));
    const current = Number($("detail").dataset.incident);
    if (t.dataset.dispatch) dispatch(current, Number(t.dataset.dispatch));
    if (t.dataset.act) askText(t.dataset.act);
    if ("note" in t.dataset) askText("note");
    if ("reveal" in t.dataset) revealNumber(current);
    if ("close" in t.dataset) {
      $("detail").hidden = true;
      state.selected = null;
    }
  });
  document.addEventListener("submit", (event) => {
    if (event.target.id !== "act-form") return;
    event.preventDefault();
    const text = $("act-text").value.trim();
    if (text) sendText(Number($("detail").dataset.incident), event.target.dataset.kind, text);
  });
  initAlarm(T);
  desk = createConsole({ api, map, T, onDone: consoleDone });
  loadLayers().catch(() => {});
  if (!hasTiles()) api("/api/map/base/").then((base) => drawVectorBase(map, base), () => {});
  loadHealth();
  setInterval(loadHealth, 30000);
  loadCoverage();
  setInterval(loadCoverage, 30000);
  loadState()
    .catch(() => {})
    .finally(() => {
      socket = new Socket({
        url: () => wsUrl("/ws/command/"),
        lastSeq: () => state.seq,
        onFrame,
        onState: onSocketState,
      });
      socket.start();
    });
  setInterval(() => {
    state.units.forEach((u) => markers.get(u.id)?.setTooltipContent(unitLabel(u)));
    renderUnits();
    renderIncidents();
  }, 1000);
  // For the browser tests and for debugging in the console.
  window.cadCommand = { state, markers, incMarkers, desk, alarms };
}

boot();
