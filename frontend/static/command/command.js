// The live command map: units by status, open incidents against the 1-3-5 targets, layers,
// live updates over /ws/command/ (session cookie), the call-taker's console (console.js), the
// incident panel with every action of the command centre and the units on the incident (primary
// and backups), the crews' backup requests and emergencies, and the alarms (alarm.js).
import { apiClient, errorText, newKey } from "../common/api.js";
import { baseMap, displayGeoJSON, drawVectorBase, hasTiles, ll } from "../common/basemap.js";
import { CONFIG } from "../common/config.js";
import { $, esc } from "../common/dom.js";
import { formatDistance, formatDuration, haversineM } from "../common/geo.js";
import { OPEN, actionUrl, actionsFrom, allowed, unitStatusOf } from "../common/lifecycle.js";
import { Socket, wsUrl } from "../common/socket.js";
import { TARGETS, arrivalTarget } from "../common/targets.js";
import { alarm, alarms, initAlarm, keepSounding } from "./alarm.js";
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
const FREE = new Set(["available", "patrolling"]);

const state = {
  units: new Map(),
  incidents: new Map(),
  alarmed: new Map(), // incident → the targets whose alarm already sounded
  transfers: new Map(), // handed over to a station, waiting for its receipt
  stationNames: new Map(),
  health: new Map(),
  points: new Map(), // staging point id → [lat, lon]
  requests: new Map(), // incident id → the crew's latest backup request, until answered or closed
  emergencies: new Map(), // emergency id → its unit.emergency frame, until a commander acknowledges
  selected: null,
  moreFor: null, // the incident whose free units for a backup are open in the panel
  seq: 0,
};
const markers = new Map(); // unit id → circleMarker
const incMarkers = new Map(); // incident id → circleMarker
const sosLayers = new Map(); // emergency id → layer group (accuracy circle, marker)
const dismissedRequests = new Set(); // "incident@at": closed on this console, not shown again
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

// The server's strings name their blanks "%(name)s".
function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (all, key) => (key in values ? String(values[key]) : all));
}

function positionAge(unit) {
  if (unit.position_at) return (Date.now() - Date.parse(unit.position_at)) / 1000;
  if (unit.position_age_s != null && unit._loadedAt) {
    return unit.position_age_s + (Date.now() - unit._loadedAt) / 1000;
  }
  return null;
}

// --- units -------------------------------------------------------------------------------------

function freeUnit(unit) {
  return FREE.has(unit.status) && !unit.current_incident;
}

// A unit offered in a frame may have been sent elsewhere since: its live status decides.
function isFree(unitId) {
  const unit = state.units.get(unitId);
  return !unit || freeUnit(unit);
}

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
    // An elite squad group: larger, with a dark ring (it is sent, not the nearest by default).
    const squad = unit.kind === "squad";
    marker = L.circleMarker(p, {
      radius: squad ? 13 : 10,
      weight: squad ? 4 : 3,
      color: squad ? "#111" : "#fff",
      fillOpacity: 1,
      className: squad ? "squad-marker" : "",
    }).addTo(map);
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
  const row = (u) =>
    `<li data-unit="${u.id}" data-kind="${esc(u.kind || "patrol")}" data-lat="${u.position ? u.position.lat : ""}" data-lon="${u.position ? u.position.lon : ""}"><span class="dot" style="background:${COLOURS[u.status] || "#000"}"></span>${esc(unitLabel(u))}<br><small class="health">${esc(healthText(u.id))}</small></li>`;
  // The patrol units first; the elite squad's groups apart under their own heading.
  const patrol = rows.filter((u) => u.kind !== "squad");
  const squads = rows.filter((u) => u.kind === "squad");
  $("units").innerHTML =
    patrol.map(row).join("") +
    (squads.length ? `<li class="group">${esc(T.eliteSquadUnits)}</li>${squads.map(row).join("")}` : "");
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

// The primary's callsign, then the backups' (the detail also lists the released ones).
function unitCallsign(inc) {
  const working = (inc.assignments || []).filter((a) => a.status !== "cleared");
  if (working.length) return working.map((a) => a.callsign).join(" + ");
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
    if (state.requests.delete(inc.id)) renderRequests();
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

// The incident's own marks, as the server keeps them: set when its primary unit misses a
// target, cleared when a late report shows the target was met. A backup's missed target sounds
// the alarm but does not mark the incident (its figures are the primary's).
function flagsOf(inc) {
  return { escalated: Boolean(inc.escalated_at), breach: Boolean(inc.arrival_breached_at) };
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
  // Priority 1 (紧急) first, then by when the call came in.
  const rows = [...state.incidents.values()].sort(
    (a, b) =>
      (a.priority || 3) - (b.priority || 3) || String(a.received_at).localeCompare(String(b.received_at)),
  );
  $("incidents").innerHTML = rows
    .map((inc) => {
      const { escalated, breach } = flagsOf(inc);
      const cd = countdown(inc);
      const cls = [escalated ? "escalated" : "", breach ? "breach" : ""].join(" ");
      const unit = unitCallsign(inc);
      const notes = [escalated ? T.escalated : "", breach ? T.breach : ""].filter(Boolean).join(" · ");
      const urgent = inc.priority === 1 ? ` <span class="p1">${esc(T.urgent)}</span>` : "";
      return `<li class="${cls}" data-incident="${inc.id}" data-priority="${inc.priority}"><strong>${esc(inc.number)}</strong>${urgent}
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
  let body = crewList(inc);
  if (allowed("dispatch", inc.status)) {
    body += await dispatchOptions(inc);
    if (inc.priority === 1) body += await divertOptions(inc);
  } else if (unitStatusOf(inc.status)) {
    // A unit works it: a further one goes as a backup (增援); its list opens on demand, so
    // the panel's re-render on every frame does not ask the server for a ranking each time.
    body +=
      state.moreFor === id
        ? await dispatchOptions(inc, T.backupRanked)
        : `<button type="button" data-more>${esc(T.sendBackup)}</button>`;
  }
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
  if ((inc.events || []).some((e) => e.kind === "photo")) body += await photoStrip(inc);
  const events = (inc.events || []).slice(-8);
  body += `<details open><summary>${esc(T.timeline)}</summary><ol class="timeline">${events
    .map((e) => {
      const when = new Date(e.at).toLocaleTimeString(CONFIG.language, { timeZone: CONFIG.timeZone });
      const what = T.eventKind[e.kind] || T.incidentStatus[e.to_state] || e.kind;
      // Which unit, for the steps of a backup (the primary's are the incident's).
      const who = e.kind.startsWith("backup_") && e.payload?.callsign ? ` ${e.payload.callsign}` : "";
      const text = e.kind === "note" ? e.payload.text : e.reason;
      return `<li data-kind="${esc(e.kind)}">${esc(when)} ${esc(what + who)}${e.actor ? ` · ${esc(e.actor)}` : ""}${text ? `<br><small>${esc(text)}</small>` : ""}</li>`;
    })
    .join("")}</ol></details>`;
  // A frame about this incident renders the panel again: keep what the dispatcher is typing and
  // the last message.
  const kept = Number(box.dataset.incident) === id && !box.hidden ? panelInput() : null;
  box.innerHTML = `${head}${body}<p id="detail-msg"></p><button type="button" data-close>${esc(T.close)}</button>`;
  box.hidden = false;
  box.dataset.incident = id;
  box.dataset.status = inc.status;
  if (kept) restorePanelInput(kept);
}

function panelInput() {
  const form = $("act-form");
  return {
    message: $("detail-msg")?.textContent || "",
    form: form && !form.hidden ? { kind: form.dataset.kind, unit: form.dataset.unit } : null,
    text: $("act-text")?.value || "",
    focused: document.activeElement === $("act-text"),
  };
}

function restorePanelInput(kept) {
  $("detail-msg").textContent = kept.message;
  if (!kept.form) return;
  openForm(kept.form.kind, kept.form.unit);
  $("act-text").value = kept.text;
  if (kept.focused) $("act-text").focus();
}

// The units sent to the incident, primary first, the released ones last. A backup is released
// (收队) from here; the primary is not: it resolves, transfers, or is taken off.
function crewList(inc) {
  const order = (a) => [a.status === "cleared" ? 1 : 0, a.role === "primary" ? 0 : 1];
  const rows = [...(inc.assignments || [])].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] - y[0] || x[1] - y[1] || String(a.dispatched_at).localeCompare(String(b.dispatched_at));
  });
  if (!rows.length) return "";
  return `<p>${esc(T.unitsOnIncident)}</p><ul class="crew">${rows.map(crewRow).join("")}</ul>`;
}

function crewRow(a) {
  const cleared = a.status === "cleared";
  const release =
    a.role === "backup" && !cleared
      ? ` <button type="button" data-release="${a.unit}">${esc(T.release)}</button>`
      : "";
  // The server keeps the crew's reason, or the step that released it ("resolved", …); a plain
  // release says nothing the status does not.
  const reason = cleared && a.clear_reason !== "released" ? a.clear_reason : "";
  const why = reason ? ` <small>${esc(T.eventKind[reason] || reason)}</small>` : "";
  const role = T.assignmentRole[a.role] || a.role;
  const status = T.assignmentStatus[a.status] || a.status;
  return `<li class="${cleared ? "cleared" : ""}" data-crew="${a.unit}" data-role="${esc(a.role)}" data-status="${esc(a.status)}">
    <strong>${esc(a.callsign)}</strong> · ${esc(role)} · ${esc(status)}${why}${release}</li>`;
}

async function dispatchOptions(inc, backupTitle = null) {
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
    title = backupTitle || (inc.dispatched_at ? T.sendAnother : T.recommended);
    options = ranked.map((r) => ({ id: r.unit, text: rankedText(r) }));
  } else {
    title = T.freeUnits;
    options = [...state.units.values()]
      .filter(freeUnit)
      .map((u) => {
        // Like the server: the unit's position, else its staging point.
        const sp = u.staging_point && state.points.get(u.staging_point.id);
        const from = u.position ? [u.position.lat, u.position.lon] : sp;
        const d = from ? haversineM(from[0], from[1], inc.location.lat, inc.location.lon) : null;
        return { id: u.id, d, text: `${u.callsign} · ${formatDistance(d)}` };
      })
      .sort((a, b) => (a.d ?? Infinity) - (b.d ?? Infinity));
  }
  const button = (o) =>
    `<div><button type="button" data-dispatch="${o.id}">${esc(T.dispatch)}</button> ${esc(o.text)}</div>`;
  const rows = options.map(button).join("");
  // The elite squad's groups are ranked apart: sent deliberately, never the default answer.
  let squads = [];
  try {
    squads = await api(`/api/incidents/${inc.id}/recommendations/?kind=squad`);
  } catch {
    squads = [];
  }
  const squadRows = squads.length
    ? `<p class="squads">${esc(T.eliteSquad)}</p>` +
      squads.map((r) => button({ id: r.unit, text: rankedText(r) })).join("")
    : "";
  return `<p>${esc(title)}</p>${rows || `<p class="muted">${esc(T.noneFree)}</p>`}${squadRows}`;
}

// The crews' photos (续报), as thumbnails that open the photo; both come through the API, which
// checks that this user may read the incident.
async function photoStrip(inc) {
  let photos = [];
  try {
    photos = await api(`/api/incidents/${inc.id}/attachments/`);
  } catch {
    return "";
  }
  const items = photos
    .map(
      (p) =>
        `<a href="${esc(p.url)}" target="_blank" rel="noopener" data-photo="${p.id}"><img src="${esc(p.thumbnail_url)}" alt="${esc(p.caption || T.photo)}" loading="lazy"></a>`,
    )
    .join("");
  return items ? `<p>${esc(T.photos)}</p><div class="photos">${items}</div>` : "";
}

// A priority-1 incident may take a unit on its way to a priority-3 one: listed with the incident
// it would leave; the dispatcher confirms with a reason (the other incident goes back to the queue).
async function divertOptions(inc) {
  let rows = [];
  try {
    rows = await api(`/api/incidents/${inc.id}/divert/`);
  } catch {
    rows = [];
  }
  if (!rows.length) return "";
  const items = rows
    .map(
      (r) =>
        `<div><button type="button" data-divert="${r.unit}">${esc(T.divert)}</button> ${esc(rankedText(r))} · ${esc(fill(T.divertFrom, { number: r.incident_number }))}</div>`,
    )
    .join("");
  return `<p class="divert">${esc(T.divertTitle)}</p>${items}`;
}

function rankedText(r) {
  return `${r.callsign} · ${formatDistance(r.distance_m)} · ${formatDuration(r.eta_s)}`;
}

// A double click sends a unit once (the second would be refused: the unit is no longer free).
const dispatching = new Set();

async function dispatch(incidentId, unitId) {
  const key = `${incidentId}:${unitId}`;
  if (dispatching.has(key)) return;
  dispatching.add(key);
  try {
    const inc = await api(actionUrl(incidentId, "dispatch"), {
      method: "POST",
      body: { unit: unitId },
    });
    upsertIncident(inc);
    renderIncidents();
    state.moreFor = null;
    $("detail-msg").textContent = T.dispatched;
    select(incidentId);
  } catch (error) {
    $("detail-msg").textContent = `${T.refused}: ${errorText(error)}`;
  } finally {
    dispatching.delete(key);
  }
}

// Cancel, take the unit off (both with a reason), release a backup (reason optional) and notes
// share one small inline form.
function askText(kind, unitId = "") {
  openForm(kind, unitId);
  $("act-text").value = "";
  $("act-text").focus();
}

function openForm(kind, unitId) {
  const form = $("act-form");
  form.hidden = false;
  form.dataset.kind = kind;
  form.dataset.unit = unitId;
  const optional = kind === "release";
  const label = { note: T.notePrompt, release: T.releasePrompt, divert: T.divertPrompt }[kind];
  $("act-label").textContent = label || T.reasonPrompt;
  $("act-text").required = !optional;
}

function textUrl(incidentId, kind, unitId) {
  if (kind === "note") return `/api/incidents/${incidentId}/notes/`;
  if (kind === "release") return `/api/incidents/${incidentId}/units/${unitId}/clear/`;
  if (kind === "divert") return `/api/incidents/${incidentId}/divert/`;
  return actionUrl(incidentId, kind);
}

async function sendText(incidentId, kind, text, unitId) {
  const url = textUrl(incidentId, kind, unitId);
  const body = kind === "note" ? { text } : { reason: text };
  if (kind === "divert") body.unit = Number(unitId);
  try {
    const inc = await api(url, { method: "POST", body, key: newKey() });
    upsertIncident(inc);
    renderIncidents();
    $("act-form").hidden = true;
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

// --- backup requests and emergencies ----------------------------------------------------------

// One free unit offered with a request or an emergency: sent with one click (as a backup of the
// incident), unless it is busy by now. Without an incident to join it is only listed.
function offerRow(incidentId, r, sent) {
  const text = rankedText(r);
  if (sent.includes(r.unit)) return `<div class="offer">✓ ${esc(text)} · ${esc(T.sent)}</div>`;
  if (!isFree(r.unit)) {
    const status = state.units.get(r.unit).status;
    return `<div class="offer muted">${esc(text)} · ${esc(T.unitStatus[status] || status)}</div>`;
  }
  if (!incidentId) return `<div class="offer">${esc(text)}</div>`;
  return `<div class="offer"><button type="button" data-send="${r.unit}" data-to="${incidentId}">${esc(T.dispatch)}</button> ${esc(text)}</div>`;
}

function offers(incidentId, ranked, sent) {
  const rows = ranked.map((r) => offerRow(incidentId, r, sent)).join("");
  return rows || `<div class="muted">${esc(T.noneFree)}</div>`;
}

// Lists redrawn on frames keep their nodes when nothing changed: a button does not vanish from
// under the pointer between press and release.
const drawn = new WeakMap(); // element → the HTML last put in it

function setHtml(el, html) {
  if (drawn.get(el) === html) return;
  el.innerHTML = html;
  drawn.set(el, html);
}

// The backups sent to an incident since a moment (a request, an emergency), from any command
// map: every map sees the same answer.
function sentSince(incidentId, at) {
  const since = Date.parse(at);
  const inc = state.incidents.get(incidentId);
  return (inc?.assignments || [])
    .filter((a) => a.role === "backup" && Date.parse(a.dispatched_at) >= since)
    .map((a) => a.unit);
}

// A snapshot names every open item of a kind (an emergency, a backup request), maybe over several
// parts: one it does not name was closed meanwhile, and goes once the last part is in. One that a
// live frame brings while the parts arrive is named too, and stays.
function snapshotSync(known, drop) {
  let stale = null; // while a snapshot arrives: the ids it has not named yet
  return {
    begin(frame) {
      if (frame.type === "snapshot") stale = new Set(known.keys());
    },
    named(id) {
      stale?.delete(id);
    },
    end(frame) {
      if ((frame.part || 1) < (frame.parts || 1) || !stale) return;
      stale.forEach(drop);
      stale = null;
    },
  };
}

const requestSync = snapshotSync(state.requests, (incidentId) => state.requests.delete(incidentId));

function onBackupRequested(frame) {
  requestSync.named(frame.incident_id);
  state.requests.set(frame.incident_id, { ...frame, nearest: frame.nearest || [], msg: "" });
  alarm("backup");
  renderRequests();
}

// A snapshot names every backup request still waiting for units (a reloaded map shows them
// again): one it does not name was answered meanwhile, from here or another command map.
function snapshotRequests(frame) {
  requestSync.begin(frame);
  for (const r of frame.backup_requests || []) {
    requestSync.named(r.incident_id);
    if (dismissedRequests.has(`${r.incident_id}@${r.at}`)) continue;
    const known = state.requests.get(r.incident_id);
    state.requests.set(r.incident_id, { ...r, nearest: r.nearest || [], msg: known?.at === r.at ? known.msg : "" });
  }
  requestSync.end(frame);
  renderRequests();
}

function renderRequests() {
  // Answered once as many units went as the crew asked for.
  for (const r of [...state.requests.values()]) {
    if (sentSince(r.incident_id, r.at).length >= r.count) state.requests.delete(r.incident_id);
  }
  const rows = [...state.requests.values()].sort((a, b) => String(a.at).localeCompare(String(b.at)));
  $("requests-head").hidden = !rows.length;
  const html = rows
    .map((r) => {
      const ask = fill(T.backupAsk, { unit: r.callsign || T.commandCentre, count: r.count });
      const sent = sentSince(r.incident_id, r.at);
      return `<li class="request" data-request="${r.incident_id}"><strong data-open="${r.incident_id}">${esc(r.number)}</strong>
        ${esc(ask)}<br><small>${esc(r.reason)}</small>${offers(r.incident_id, r.nearest, sent)}
        <small class="msg" role="status">${esc(r.msg)}</small>
        <button type="button" data-dismiss="${r.incident_id}">${esc(T.close)}</button></li>`;
    })
    .join("");
  setHtml($("requests"), html);
}

// The incident an emergency's unit works, if a backup can join it.
// The incident help is sent to: the one the crew was working, or the one opened for the
// emergency ("立警派援"), while it is open.
function emergencyIncident(e) {
  const inc = e.incident_id && state.incidents.get(e.incident_id);
  return inc && OPEN.has(inc.status) ? inc.id : null;
}

function emergencyOffers(e) {
  const incidentId = emergencyIncident(e);
  return offers(incidentId, e.nearest, incidentId ? sentSince(incidentId, e.raised_at) : []);
}

function emergencyCard(e) {
  const time = new Date(e.raised_at).toLocaleTimeString(CONFIG.language, { timeZone: CONFIG.timeZone });
  const parts = [fill(T.emergencyText, { unit: e.callsign, time })];
  if (e.presses > 1) parts.push(fill(T.presses, { n: e.presses }));
  if (e.incident_number) parts.push(fill(T.working, { number: e.incident_number }));
  const pos = e.position;
  const accuracy = e.accuracy_m != null ? ` ±${formatDistance(e.accuracy_m)}` : "";
  parts.push(pos ? `${pos.lat.toFixed(5)}, ${pos.lon.toFixed(5)}${accuracy}` : T.positionUnknown);
  return `<div class="sos" data-emergency="${e.emergency_id}">
    <strong>🆘 ${esc(T.emergency)}</strong> ${esc(parts.join(" · "))}${e.note ? `<br>${esc(e.note)}` : ""}
    <div class="sos-units"><span>${esc(T.nearestFree)}:</span>${emergencyOffers(e)}</div>
    <div class="sos-actions">${pos ? `<button type="button" data-locate="${e.emergency_id}">${esc(T.showOnMap)}</button>` : ""}
      ${pos && !emergencyIncident(e) ? `<button type="button" data-sos-incident="${e.emergency_id}">${esc(T.openEmergencyIncident)}</button>` : ""}
      ${
        CONFIG.canAcknowledgeEmergency
          ? `<button type="button" class="ack" data-ack="${e.emergency_id}">${esc(T.acknowledgeEmergency)}</button>`
          : `<span class="ack-wait">${esc(T.waitingForCommander)}</span>`
      }
      <span class="msg" role="status">${esc(e.msg)}</span></div></div>`;
}

function renderEmergencies() {
  const list = [...state.emergencies.values()].sort((a, b) =>
    String(a.raised_at).localeCompare(String(b.raised_at)),
  );
  const box = $("emergencies");
  box.hidden = !list.length;
  setHtml(box, list.map(emergencyCard).join(""));
  // Sounding until the last one is acknowledged: not a beep that a busy desk may miss.
  keepSounding("emergency", list.length > 0);
}

function drawEmergency(e) {
  sosLayers.get(e.emergency_id)?.remove();
  sosLayers.delete(e.emergency_id);
  if (!e.position) return;
  const p = ll(e.position.lat, e.position.lon);
  const dot = L.circleMarker(p, {
    radius: 14,
    weight: 4,
    color: "#fff",
    fillColor: "#c40018",
    fillOpacity: 1,
    className: "pulse",
  }).bindTooltip(`🆘 ${e.callsign}`, { permanent: true, direction: "top", className: "sos-label" });
  const reach = L.circle(p, { radius: Math.max(e.accuracy_m || 0, 25), color: "#c40018", weight: 2, fillOpacity: 0.15 });
  sosLayers.set(e.emergency_id, L.layerGroup([reach, dot]).addTo(map));
}

function locate(emergencyId) {
  const e = state.emergencies.get(emergencyId);
  if (e?.position) map.setView(ll(e.position.lat, e.position.lon), Math.max(map.getZoom(), 16));
}

// A raised emergency (a live frame, or one still open in a snapshot). A further press moves it
// and sounds again; a new one takes the map to it.
function upsertEmergency(frame, { live }) {
  const known = state.emergencies.get(frame.emergency_id);
  emergencySync.named(frame.emergency_id);
  const e = {
    ...known,
    ...frame,
    // The snapshot's emergencies come without the nearest units: keep or fetch them.
    nearest: frame.nearest?.length ? frame.nearest : known?.nearest || [],
    msg: known?.msg || "",
  };
  state.emergencies.set(e.emergency_id, e);
  drawEmergency(e);
  if (!e.nearest.length) loadNearest(e);
  if (!known) locate(e.emergency_id);
  else if (live && frame.presses !== known.presses) alarm("emergency");
}

async function loadNearest(e) {
  if (!e.position) return;
  let ranked;
  try {
    ranked = await api(`/api/incidents/recommendations/?lat=${e.position.lat}&lon=${e.position.lon}`);
  } catch {
    return; // the banner and the map still show where; the unit list shows who is free
  }
  const current = state.emergencies.get(e.emergency_id);
  if (!current || current.nearest.length) return;
  current.nearest = ranked.filter((r) => r.unit !== e.unit_id);
  renderEmergencies();
}

function dropEmergency(emergencyId) {
  state.emergencies.delete(emergencyId);
  sosLayers.get(emergencyId)?.remove();
  sosLayers.delete(emergencyId);
}

// An emergency a snapshot does not name was acknowledged meanwhile.
const emergencySync = snapshotSync(state.emergencies, dropEmergency);

function snapshotEmergencies(frame) {
  emergencySync.begin(frame);
  (frame.emergencies || []).forEach((e) => upsertEmergency(e, { live: false }));
  emergencySync.end(frame);
  renderEmergencies();
}

function onEmergencyAcknowledged(frame) {
  const e = state.emergencies.get(frame.emergency_id);
  const callsign = e?.callsign || state.units.get(frame.unit_id)?.callsign || "";
  dropEmergency(frame.emergency_id);
  renderEmergencies();
  $("flash-msg").textContent = fill(T.emergencyAcknowledged, { unit: callsign, user: frame.acknowledged_by });
}

// No incident to send help to: open one at the press's position (priority 1); the server sends
// the emergency's frame again naming it, and its nearest units become one click each.
async function openEmergencyIncident(emergencyId, button) {
  button.disabled = true;
  const e = state.emergencies.get(emergencyId);
  try {
    const inc = await api(`/api/emergencies/${emergencyId}/incident/`, { method: "POST", body: {} });
    upsertIncident(inc);
    renderIncidents();
    if (e) {
      e.incident_id = inc.id;
      e.incident_number = inc.number;
    }
    renderEmergencies();
  } catch (error) {
    if (e) e.msg = `${T.refused}: ${errorText(error)}`;
    button.disabled = false;
    renderEmergencies();
  }
}

async function acknowledgeEmergency(emergencyId, button) {
  button.disabled = true;
  try {
    // A body, so that the CSRF token goes with it.
    await api(`/api/emergencies/${emergencyId}/acknowledge/`, { method: "POST", body: {} });
  } catch (error) {
    // A dispatcher is refused (commanders acknowledge): the banner stays, and says why.
    const e = state.emergencies.get(emergencyId);
    if (e) e.msg = `${T.refused}: ${errorText(error)}`;
    button.disabled = false;
    renderEmergencies();
    return;
  }
  // Every map (this one too) is cleared by the frame that follows, which also says who took
  // charge; this one need not wait for it (its live link may be down).
  dropEmergency(emergencyId);
  renderEmergencies();
}

// One click from a request's or an emergency's list: the unit goes as a backup of the incident
// (the request is answered, on every map, by the incident's assignments: renderRequests).
async function sendUnit(incidentId, unitId, button) {
  const holder =
    state.requests.get(Number(button.closest("[data-request]")?.dataset.request)) ||
    state.emergencies.get(Number(button.closest("[data-emergency]")?.dataset.emergency));
  button.disabled = true;
  try {
    const inc = await api(actionUrl(incidentId, "dispatch"), { method: "POST", body: { unit: unitId } });
    upsertIncident(inc);
    renderIncidents();
    if (holder) holder.msg = "";
    const callsign = state.units.get(unitId)?.callsign || "";
    $("flash-msg").textContent = `${T.dispatched}: ${callsign} → ${inc.number}`;
    select(incidentId);
  } catch (error) {
    button.disabled = false;
    if (holder) holder.msg = `${T.refused}: ${errorText(error)}`;
    else $("flash-msg").textContent = `${T.refused}: ${errorText(error)}`;
  }
  renderRequests();
  renderEmergencies();
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
      snapshotEmergencies(frame);
      snapshotRequests(frame);
      break;
    case "snapshot.part": // a large snapshot's further units and incidents
      (frame.units || []).forEach(upsertUnit);
      (frame.incidents || []).forEach(upsertIncident);
      desk.snapshot(frame.calls, { more: true });
      snapshotEmergencies(frame);
      snapshotRequests(frame);
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
      renderAlerts(); // a unit offered there may be busy now, or free again
      break;
    }
    case "incident.updated":
      if (frame.incident) {
        upsertIncident(frame.incident);
        if (state.selected === frame.incident_id) select(frame.incident_id);
      } else refreshIncident(frame.incident_id);
      renderAlerts();
      break;
    case "incident.backup_requested":
      onBackupRequested(frame);
      break;
    case "unit.emergency":
      upsertEmergency(frame, { live: true });
      renderEmergencies();
      break;
    case "unit.emergency_acknowledged":
      onEmergencyAcknowledged(frame);
      break;
    case "incident.escalated":
    case "incident.breach": {
      const sounded = state.alarmed.get(frame.incident_id) || {};
      const kind = frame.type === "incident.escalated" ? "escalated" : "breach";
      if (!sounded[kind]) alarm(kind); // once per incident and target
      sounded[kind] = true;
      state.alarmed.set(frame.incident_id, sounded);
      // Whether the incident is marked is the server's to say (a backup's miss does not mark it).
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

// The requests' and emergencies' lists are drawn when they or the units change, not every
// second: their buttons stay put under the dispatcher's pointer.
function renderAlerts() {
  renderRequests();
  renderEmergencies();
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
  const control = L.control
    .layers(null, { [T.layerCells]: cells, [T.layerPoints]: points, [T.layerStations]: stations })
    .addTo(map);
  const toggle = control.getContainer().querySelector(".leaflet-control-layers-toggle");
  if (toggle) toggle.title = T.layersTitle;
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
    if ("more" in t.dataset) {
      state.moreFor = current;
      select(current);
    }
    if (t.dataset.release) askText("release", t.dataset.release);
    if (t.dataset.divert) askText("divert", t.dataset.divert);
    if (t.dataset.send && t.dataset.to) sendUnit(Number(t.dataset.to), Number(t.dataset.send), t);
    if (t.dataset.open) select(Number(t.dataset.open));
    if (t.dataset.dismiss) {
      const request = state.requests.get(Number(t.dataset.dismiss));
      if (request) dismissedRequests.add(`${request.incident_id}@${request.at}`);
      state.requests.delete(Number(t.dataset.dismiss));
      renderRequests();
    }
    if (t.dataset.ack) acknowledgeEmergency(Number(t.dataset.ack), t);
    if (t.dataset.sosIncident) openEmergencyIncident(Number(t.dataset.sosIncident), t);
    if (t.dataset.locate) locate(Number(t.dataset.locate));
    if ("reveal" in t.dataset) revealNumber(current);
    if ("close" in t.dataset) {
      $("detail").hidden = true;
      state.selected = null;
      state.moreFor = null;
    }
  });
  document.addEventListener("submit", (event) => {
    if (event.target.id !== "act-form") return;
    event.preventDefault();
    const text = $("act-text").value.trim();
    const { kind, unit } = event.target.dataset;
    if (text || !$("act-text").required) sendText(Number($("detail").dataset.incident), kind, text, unit);
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
  window.cadCommand = { state, markers, incMarkers, sosLayers, desk, alarms };
}

boot();
