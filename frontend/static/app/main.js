// The patrol app: login, live alerts over /ws/unit/, one-tap status, offline queue, map.
import { displayLatLng, formatDistance, formatDuration, haversineM } from "../common/geo.js";
import { ApiError, api, newKey } from "./api.js";
import { getLang, setLang, t } from "./i18n.js";
import { Socket } from "../common/socket.js";
import { kv, queue } from "./store.js";

const CONFIG = JSON.parse(document.getElementById("cad-config").textContent);
const $ = (id) => document.getElementById(id);
const POSITION_EVERY_MS = 15000;
const HEARTBEAT_MS = 30000;
const RETRY_QUEUE_MS = 5000;

// Which crew actions the lifecycle allows from each incident status, and where each leads.
const ACTIONS = {
  dispatched: ["acknowledge"],
  acknowledged: ["en_route"],
  en_route: ["arrive"],
  on_scene: ["resolve", "transfer"],
};
const PATHS = {
  acknowledge: "acknowledge",
  en_route: "en-route",
  arrive: "arrive",
  resolve: "resolve",
  transfer: "transfer",
};
const NEXT = {
  acknowledge: "acknowledged",
  en_route: "en_route",
  arrive: "on_scene",
  resolve: "resolved_on_scene",
  transfer: "transfer_pending",
};
const CLOSED = new Set(["resolved_on_scene", "transfer_pending", "transfer_received", "cancelled"]);
const UNIT_STATUS_OF = {
  dispatched: "dispatched",
  acknowledged: "dispatched",
  en_route: "en_route",
  on_scene: "on_scene",
};

const S = {
  me: kv.get("me"),
  incident: kv.get("incident"),
  alert: null,
  queued: [],
  conn: "offline",
  position: null, // {lat, lon, accuracy, at}
  lastPostAt: 0,
  seen: new Set(kv.get("alerts", [])),
};

let socket = null;
let map = null;
let layers = {};
let audio = null;
let beeper = null;
let wakeLock = null;
let ticker = null;
let timers = [];

// --- helpers ---------------------------------------------------------------------------------

function unitId() {
  return S.me && S.me.unit ? S.me.unit.id : null;
}

function seqKey() {
  return `seq:${unitId()}`;
}

function lastSeq() {
  return kv.get(seqKey(), 0);
}

function toast(message) {
  const el = $("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 4000);
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function translatePage() {
  document.querySelectorAll("[data-t]").forEach((el) => (el.textContent = t(el.dataset.t)));
  document.querySelectorAll('[data-action="lang"]').forEach((el) => (el.textContent = t("lang")));
}

// The incident status the crew sees: the server's, advanced by the actions still queued.
function effectiveStatus(incident) {
  let status = incident.status;
  for (const item of S.queued) if (item.incident === incident.id) status = NEXT[item.action];
  return status;
}

function pendingFor(incident) {
  return S.queued.some((item) => item.incident === incident.id);
}

// Websocket frames carry ids where the REST API nests objects ({id, …}).
function refId(value) {
  return value && typeof value === "object" ? value.id : value;
}

function saveIncident(incident) {
  S.incident = incident;
  if (incident) kv.set("incident", incident);
  else kv.del("incident");
}

function incidentDistance(incident) {
  if (!incident || !incident.location || !S.position) return null;
  return haversineM(S.position.lat, S.position.lon, incident.location.lat, incident.location.lon);
}

function arrivalTarget(incident) {
  const zone = incident.grid && typeof incident.grid === "object" && incident.grid.priority_zone;
  return zone ? CONFIG.targets.arrival_priority_zone_s : CONFIG.targets.arrival_s;
}

// Chips for the 1-3-5 minute targets: met, running or missed, from the dispatch time.
function targetsHtml(incident, status) {
  const start = Date.parse(incident.dispatched_at || incident.received_at);
  if (!start) return "";
  const now = Date.now();
  const acked = incident.acknowledged_at ? Date.parse(incident.acknowledged_at) : null;
  const arrived = incident.arrived_at ? Date.parse(incident.arrived_at) : null;
  const ackDone = acked || (status !== "dispatched" ? now : null);
  const arrDone = arrived || (status === "on_scene" || CLOSED.has(status) ? now : null);
  const zone = arrivalTarget(incident) === CONFIG.targets.arrival_priority_zone_s;
  const chip = (label, limit, done, applies = true) => {
    if (!applies) return ""; // 3 minutes in priority zones, 5 elsewhere
    const at = done || now;
    const cls = at - start > limit * 1000 ? "missed" : done ? "met" : "";
    return `<span class="${cls}">${esc(t(label))}</span>`;
  };
  return (
    chip("t1", CONFIG.targets.acknowledge_s, ackDone) +
    chip("t3", CONFIG.targets.arrival_priority_zone_s, arrDone, zone) +
    chip("t5", CONFIG.targets.arrival_s, arrDone, !zone)
  );
}

// --- screens -----------------------------------------------------------------------------------

function showLogin(message = "") {
  $("main").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  translatePage();
}

function renderBar() {
  const me = S.me;
  if (!me || !me.unit) return;
  $("callsign").textContent = me.unit.callsign;
  $("shift").textContent = me.shift ? t("shift", { n: me.shift.number }) : "";
  $("who").textContent = me.person ? me.person.name : me.user.username;
  const inc = S.incident;
  const status = inc && !CLOSED.has(effectiveStatus(inc)) ? effectiveStatus(inc) : null;
  const unitStatus = (status && UNIT_STATUS_OF[status]) || me.unit.status || "available";
  $("unit-status").textContent = t("st_" + unitStatus);
  const offline = !navigator.onLine;
  const state = offline ? "offline" : S.conn === "online" ? "online" : "reconnecting";
  const conn = $("conn");
  conn.dataset.state = state;
  let text = t(state);
  if (S.queued.length) text += " · " + t("queued", { n: S.queued.length });
  conn.textContent = text;
  $("queue-btn").textContent = `${t("queue")} (${S.queued.length})`;
  const gps = S.position
    ? t("gpsAge", { s: Math.round((Date.now() - S.position.at) / 1000) })
    : t("gpsOff");
  $("gps").textContent = gps;
}

function renderIncident() {
  const box = $("incident");
  const actions = $("actions");
  const inc = S.incident;
  if (!inc) {
    box.innerHTML = `<p>${esc(t("noIncident"))}</p>`;
    actions.innerHTML = "";
    renderMap();
    return;
  }
  const status = effectiveStatus(inc);
  const pending = pendingFor(inc);
  const dist = incidentDistance(inc);
  box.innerHTML = `
    <div class="num">${esc(inc.number)} · ${esc(t("priority", { n: inc.priority }))}</div>
    <div class="addr">${esc(t("cat_" + inc.category))} · ${esc(inc.address)}</div>
    <div class="meta"><span id="inc-status" data-status="${esc(status)}">${esc(t("is_" + status))}</span>
      ${pending ? `<span class="pending">(${esc(t("queue"))})</span>` : ""}
      <span>${esc(formatDistance(dist))}</span></div>
    <div class="targets">${targetsHtml(inc, status)}</div>`;
  const allowed = ACTIONS[status] || [];
  const buttons = allowed.map(
    (a, i) =>
      `<button type="button" class="${i === 0 ? "primary" : ""}" data-do="${a}">${esc(t("a_" + a))}</button>`,
  );
  const { lat, lon } = inc.location || {};
  if (lat != null && !CLOSED.has(status) && status !== "on_scene") {
    const name = encodeURIComponent(inc.address || inc.number);
    buttons.push(
      `<a class="nav" href="geo:${lat},${lon}?q=${lat},${lon}(${name})">${esc(t("navSystem"))}</a>`,
      `<a class="nav" target="_blank" rel="noopener" href="https://uri.amap.com/navigation?to=${lon},${lat},${name}&mode=car&coordinate=wgs84&callnative=1">${esc(t("navAmap"))}</a>`,
      `<a class="nav" href="baidumap://map/direction?destination=latlng:${lat},${lon}|name:${name}&coord_type=wgs84&mode=driving&src=simao.cad.patrol">${esc(t("navBaidu"))}</a>`,
    );
  }
  actions.innerHTML = buttons.join("");
  renderMap();
}

function renderAll() {
  renderBar();
  renderIncident();
  if (S.alert) renderAlert();
}

// --- the alert card --------------------------------------------------------------------------

function renderAlert() {
  const brief = S.alert.incident;
  const inc = S.incident && S.incident.id === brief.id ? S.incident : brief;
  $("alert-number").textContent = inc.number || "";
  $("alert-category").textContent = `${t("cat_" + inc.category)} · ${t("priority", { n: inc.priority })}`;
  $("alert-address").textContent = inc.address || "";
  $("alert-desc").textContent = inc.description || "";
  $("alert-distance").textContent = formatDistance(incidentDistance(inc));
  const start = Date.parse(inc.dispatched_at || inc.received_at) || Date.now();
  $("alert-elapsed").textContent = formatDuration((Date.now() - start) / 1000);
  $("alert-targets").innerHTML = targetsHtml(inc, "dispatched");
}

function showAlert(frame) {
  S.alert = frame;
  translatePage();
  renderAlert();
  $("alert").hidden = false;
  if (navigator.vibrate) navigator.vibrate([600, 200, 600, 200, 600]);
  beep();
  clearInterval(beeper);
  beeper = setInterval(beep, 2000);
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    navigator.serviceWorker?.ready
      .then((reg) =>
        reg.showNotification(t("newAlert"), {
          body: `${t("cat_" + frame.incident.category)} · ${frame.incident.address}`,
          tag: "alert-" + frame.alert_id,
          requireInteraction: true,
        }),
      )
      .catch(() => {});
  }
}

function hideAlert() {
  S.alert = null;
  $("alert").hidden = true;
  clearInterval(beeper);
  if (navigator.vibrate) navigator.vibrate(0);
}

function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = 880;
    gain.gain.value = 0.25;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.frequency.setValueAtTime(660, audio.currentTime + 0.25);
    osc.stop(audio.currentTime + 0.5);
  } catch {
    /* no audio on this device */
  }
}

// --- actions and the offline queue -----------------------------------------------------------

async function refreshQueue() {
  S.queued = await queue.all();
}

async function enqueue(action, body = {}) {
  const inc = S.incident;
  if (!inc) return;
  await queue.add({
    incident: inc.id,
    action,
    path: `/api/incidents/${inc.id}/${PATHS[action]}/`,
    body,
    key: newKey(),
    created_at: new Date().toISOString(),
    label: `${inc.number} ${t("a_" + action)}`,
  });
  await refreshQueue();
  renderAll();
  flushQueue();
}

let flushing = false;
async function flushQueue() {
  if (flushing) return;
  flushing = true;
  try {
    await refreshQueue();
    for (const item of S.queued) {
      try {
        const incident = await api(item.path, { method: "POST", body: item.body, key: item.key });
        await queue.remove(item.id);
        await refreshQueue();
        if (S.incident && S.incident.id === incident.id) saveIncident(incident);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          showLogin(t("loginFailed"));
          break;
        }
        if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
          // Refused for good (e.g. 409: the state moved on): drop it, say so, resync.
          await queue.remove(item.id);
          await refreshQueue();
          toast(t("refused", { m: (error.body && error.body.detail) || error.status }));
          await reloadIncident(item.incident);
          continue;
        }
        break; // offline or server trouble: keep the rest, in order, for the next try
      }
    }
  } finally {
    flushing = false;
    if (S.incident && CLOSED.has(S.incident.status) && !pendingFor(S.incident)) saveIncident(null);
    renderAll();
  }
}

async function reloadIncident(id) {
  try {
    const incident = await api(`/api/incidents/${id}/`);
    if (!S.incident || S.incident.id === id) {
      saveIncident(CLOSED.has(incident.status) && !pendingFor(incident) ? null : incident);
    }
    // Taken off the unit or cancelled while the alert was showing: withdraw the card.
    const unitOf = refId(incident.unit);
    if (S.alert && S.alert.incident.id === id && (incident.status !== "dispatched" || unitOf !== unitId())) {
      hideAlert();
    }
  } catch {
    /* keep what we have */
  }
  renderAll();
}

function openDialog(action) {
  const form = $("dialog-form");
  const inc = S.incident;
  if (action === "resolve") {
    form.innerHTML = `<label>${esc(t("summary"))}<textarea name="summary" required maxlength="2000"></textarea></label>`;
  } else {
    const stations = (S.me.stations || [])
      .map((s) => {
        const sel = refId(inc.station) === s.id ? " selected" : "";
        return `<option value="${s.id}"${sel}>${esc(s.name)}</option>`;
      })
      .join("");
    form.innerHTML = `<label>${esc(t("station"))}<select name="station">${stations}</select></label>
      <label>${esc(t("reason"))}<textarea name="reason" required maxlength="1000"></textarea></label>`;
  }
  form.insertAdjacentHTML(
    "beforeend",
    `<button type="submit" class="big primary">${esc(t("a_" + action))}</button>
     <button type="button" class="big" data-action="close-dialog">${esc(t("cancel"))}</button>`,
  );
  form.dataset.action = action;
  $("dialog").hidden = false;
  form.querySelector("textarea").focus();
}

async function showList(kind) {
  $("list-title").textContent = kind === "queue" ? t("queue") : t("myShift");
  const ul = $("list-items");
  if (kind === "queue") {
    await refreshQueue();
    ul.innerHTML = S.queued.length
      ? S.queued
          .map((q) => `<li>${esc(q.label)}<br><small>${esc(new Date(q.created_at).toLocaleTimeString())}</small></li>`)
          .join("")
      : `<li>${esc(t("queueEmpty"))}</li>`;
  } else {
    ul.innerHTML = `<li>…</li>`;
    try {
      // The crew sees only its own unit's incidents: "since the shift began" is this shift's.
      const since = encodeURIComponent(S.me.shift.start);
      const page = await api(`/api/incidents/?since=${since}&page_size=50`);
      const rows = page.results || page;
      let html = rows.length
        ? rows
            .map(
              (i) =>
                `<li><strong>${esc(i.number)}</strong> ${esc(t("cat_" + i.category))}<br>${esc(i.address)}<br><small>${esc(t("is_" + i.status))} · ${esc(new Date(i.received_at).toLocaleTimeString())}</small></li>`,
            )
            .join("")
        : `<li>${esc(t("none"))}</li>`;
      const training = await api("/api/me/training/").catch(() => null);
      const upcoming = ((training && training.sessions) || []).filter(
        (x) => Date.parse(x.starts_at) > Date.now(),
      );
      if (upcoming.length) {
        html += `<li><strong>${esc(t("training"))}</strong></li>`;
        html += upcoming
          .map(
            (x) =>
              `<li>${esc(x.title || x.type_display)}<br><small>${esc(new Date(x.starts_at).toLocaleString())} · ${esc(x.place || "")}</small></li>`,
          )
          .join("");
      }
      ul.innerHTML = html;
    } catch {
      ul.innerHTML = `<li>${esc(t("networkError"))}</li>`;
    }
  }
  $("list").hidden = false;
}

// --- realtime --------------------------------------------------------------------------------

function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}?token=${encodeURIComponent(kv.get("token") || "")}`;
}

function onFrame(frame) {
  if (frame.type === "dispatch.alert") {
    // Receipt for every copy; show each alert once.
    socket.send({ type: "alert.received", alert_id: frame.alert_id });
  }
  if (typeof frame.seq === "number") {
    if (frame.type === "snapshot") kv.set(seqKey(), frame.seq);
    else if (frame.seq > lastSeq()) kv.set(seqKey(), frame.seq);
  }
  switch (frame.type) {
    case "snapshot":
      if (frame.unit) S.me.unit = { ...S.me.unit, ...frame.unit };
      kv.set("me", S.me);
      if (frame.incident) saveIncident({ ...(S.incident || {}), ...frame.incident });
      else if (!S.queued.length) saveIncident(null);
      renderAll();
      break;
    case "dispatch.alert":
      onAlert(frame);
      break;
    case "incident.updated":
      if (frame.unit_id === unitId() || (S.incident && S.incident.id === frame.incident_id)) {
        reloadIncident(frame.incident_id);
      }
      break;
    case "error":
      console.warn("server:", frame.code, frame.message);
      break;
    default:
      break;
  }
}

function onAlert(frame) {
  if (!frame.alert_id || S.seen.has(frame.alert_id)) return;
  S.seen.add(frame.alert_id);
  kv.set("alerts", [...S.seen].slice(-50));
  const inc = frame.incident;
  if (!inc || (inc.status && inc.status !== "dispatched")) return;
  saveIncident(inc);
  renderAll();
  showAlert(frame);
  reloadIncident(inc.id); // the full record: grid (priority zone), station for a transfer
}

function onSocketState(state, code) {
  S.conn = state;
  if (state === "online") flushQueue();
  if (state === "denied" && code === 4401) showLogin(t("loginFailed"));
  renderBar();
}

// --- map -------------------------------------------------------------------------------------

function ll(lat, lon) {
  return displayLatLng(CONFIG.tileCrs, lat, lon);
}

function initMap() {
  if (map || typeof L === "undefined") return;
  map = L.map("map", { zoomControl: false }).setView(ll(...CONFIG.center), CONFIG.zoom);
  let loaded = 0;
  let failed = 0;
  const tiles = L.tileLayer(CONFIG.tileUrl, {
    attribution: CONFIG.tileAttribution,
    maxZoom: CONFIG.maxZoom,
  });
  tiles.on("tileload", () => {
    loaded += 1;
    $("tiles-failed").hidden = true;
  });
  tiles.on("tileerror", () => {
    failed += 1;
    if (failed >= 2 && loaded === 0) $("tiles-failed").hidden = false;
  });
  tiles.addTo(map);
  map.attributionControl.setPrefix(false);
}

let sheetHeight = 0;

function renderMap() {
  if (!map) return;
  // The sheet grows and shrinks with the incident: keep Leaflet's idea of the map size right.
  const h = $("sheet").offsetHeight;
  if (h !== sheetHeight) {
    sheetHeight = h;
    map.invalidateSize();
    layers.fitted = false;
  }
  const me = S.position;
  const inc = S.incident && !CLOSED.has(effectiveStatus(S.incident)) ? S.incident : null;
  if (me) {
    const p = ll(me.lat, me.lon);
    if (!layers.me) {
      layers.me = L.circleMarker(p, { radius: 9, color: "#fff", weight: 3, fillColor: "#1565ff", fillOpacity: 1 }).addTo(map);
      layers.acc = L.circle(p, { radius: me.accuracy || 0, weight: 1, color: "#1565ff", fillOpacity: 0.1 }).addTo(map);
    }
    layers.me.setLatLng(p);
    layers.acc.setLatLng(p).setRadius(me.accuracy || 0);
  }
  const incId = inc ? inc.id : null;
  if (layers.incId !== incId) {
    for (const name of ["inc", "line"]) if (layers[name]) layers[name].remove();
    layers.inc = layers.line = null;
    layers.incId = incId;
    layers.fitted = false;
  }
  if (inc && inc.location) {
    const p = ll(inc.location.lat, inc.location.lon);
    if (!layers.inc) {
      layers.inc = L.circleMarker(p, { radius: 13, color: "#fff", weight: 3, fillColor: "#d00018", fillOpacity: 1 }).addTo(map);
    }
    if (me) {
      const pts = [ll(me.lat, me.lon), p];
      const label = formatDistance(incidentDistance(inc));
      if (!layers.line) {
        layers.line = L.polyline(pts, { color: "#d00018", weight: 4, dashArray: "8 8" }).addTo(map);
        layers.line.bindTooltip(label, { permanent: true, direction: "center" });
      }
      layers.line.setLatLngs(pts).setTooltipContent(label);
      if (!layers.fitted) {
        map.fitBounds(L.latLngBounds(pts), { padding: [40, 40], maxZoom: 17 });
        layers.fitted = true;
      }
    } else if (!layers.fitted) {
      map.setView(p, 16);
      layers.fitted = true;
    }
  } else if (me && !layers.centred) {
    map.setView(ll(me.lat, me.lon), 16);
    layers.centred = true;
  }
}

// --- device: position, heartbeat, wake lock ----------------------------------------------------

function startGeolocation() {
  if (!("geolocation" in navigator)) return;
  navigator.geolocation.watchPosition(
    (pos) => {
      S.position = {
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        accuracy: pos.coords.accuracy,
        at: pos.timestamp || Date.now(),
      };
      renderBar();
      renderIncident();
      if (S.alert) renderAlert();
      maybeSendPosition();
    },
    () => renderBar(),
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 },
  );
}

async function maybeSendPosition(force = false) {
  const p = S.position;
  if (!p || !unitId() || !navigator.onLine) return;
  if (!force && Date.now() - S.lastPostAt < POSITION_EVERY_MS) return;
  S.lastPostAt = Date.now();
  try {
    await api(`/api/units/${unitId()}/position/`, {
      method: "POST",
      body: {
        lat: p.lat,
        lon: p.lon,
        accuracy_m: p.accuracy ?? null,
        recorded_at: new Date(p.at).toISOString(),
      },
    });
  } catch {
    /* positions are not queued: the next fix supersedes this one */
  }
}

async function heartbeat() {
  if (!unitId() || !navigator.onLine) return;
  let battery = null;
  try {
    if (navigator.getBattery) battery = (await navigator.getBattery()).level;
  } catch {
    battery = null;
  }
  await refreshQueue();
  try {
    await api(`/api/units/${unitId()}/health/`, {
      method: "POST",
      body: {
        app_version: CONFIG.version,
        notification_permission: "Notification" in window ? Notification.permission : "unsupported",
        battery_level: battery,
        gps_fix_age_s: S.position ? Math.round((Date.now() - S.position.at) / 1000) : null,
        queue_length: S.queued.length,
      },
    });
  } catch {
    /* the next beat will do */
  }
}

async function keepAwake() {
  if (!("wakeLock" in navigator) || document.visibilityState !== "visible") return;
  if (wakeLock && !wakeLock.released) return;
  try {
    wakeLock = await navigator.wakeLock.request("screen");
  } catch {
    wakeLock = null;
  }
}

// --- service worker update flow ------------------------------------------------------------

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  let updating = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Reload only for the update the crew asked for; a first install just takes control.
    if (!updating) return;
    updating = false;
    location.reload();
  });
  navigator.serviceWorker
    .register(CONFIG.swUrl, { scope: "/app/" })
    .then((reg) => {
      const offer = (worker) => {
        if (!worker || !navigator.serviceWorker.controller) return;
        const banner = $("update");
        banner.textContent = t("updateReady");
        banner.hidden = false;
        banner.onclick = () => {
          updating = true;
          worker.postMessage({ type: "SKIP_WAITING" });
        };
      };
      if (reg.waiting) offer(reg.waiting);
      reg.addEventListener("updatefound", () => {
        const worker = reg.installing;
        worker?.addEventListener("statechange", () => {
          if (worker.state === "installed") offer(worker);
        });
      });
      setInterval(() => reg.update().catch(() => {}), 30 * 60 * 1000);
    })
    .catch(() => {});
}

// --- start -------------------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("login-error").textContent = "";
  // A tap is the gesture browsers require before sound and notifications.
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
  } catch {
    audio = null;
  }
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
  try {
    const res = await api("/api/auth/token/", {
      method: "POST",
      body: {
        username: form.username.value.trim(),
        password: form.password.value,
        device: navigator.userAgent.slice(0, 100),
      },
    });
    kv.set("token", res.token);
    const me = await api("/api/me/");
    if (!me.unit) {
      kv.del("token");
      showLogin(t("noUnit"));
      return;
    }
    if (S.me && S.me.unit && S.me.unit.id !== me.unit.id) saveIncident(null);
    S.me = me;
    kv.set("me", me);
    form.password.value = "";
    start();
  } catch (error) {
    showLogin(error instanceof ApiError ? t("loginFailed") : t("networkError"));
  }
}

async function refreshMe() {
  try {
    const me = await api("/api/me/");
    if (me.unit) {
      S.me = me;
      kv.set("me", me);
      if (me.unit.current_incident && (!S.incident || S.incident.id !== me.unit.current_incident)) {
        await reloadIncident(me.unit.current_incident);
      }
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      kv.del("token");
      showLogin();
    }
  }
  renderAll();
}

function start() {
  $("login").hidden = true;
  $("main").hidden = false;
  translatePage();
  initMap();
  map.invalidateSize();
  refreshQueue().then(renderAll);
  socket?.stop();
  socket = new Socket({
    url: () => wsUrl("/ws/unit/"),
    lastSeq,
    onFrame,
    onState: onSocketState,
  });
  socket.start();
  startGeolocation();
  keepAwake();
  refreshMe();
  timers.forEach(clearInterval);
  timers = [
    setInterval(heartbeat, HEARTBEAT_MS),
    setInterval(() => S.queued.length && navigator.onLine && flushQueue(), RETRY_QUEUE_MS),
  ];
  heartbeat();
  clearInterval(ticker);
  ticker = setInterval(() => {
    if (S.alert) renderAlert();
    renderBar();
  }, 1000);
  flushQueue();
}

async function logout() {
  await refreshQueue();
  if (S.queued.length && !confirm(t("queued", { n: S.queued.length }))) return;
  socket?.stop();
  timers.forEach(clearInterval);
  kv.del("token");
  kv.del("me");
  saveIncident(null);
  await queue.clear();
  S.me = null;
  showLogin();
}

function onClick(event) {
  const target = event.target.closest("[data-action], [data-do]");
  if (!target) return;
  const action = target.dataset.do;
  if (action === "resolve" || action === "transfer") openDialog(action);
  else if (action) enqueue(action);
  switch (target.dataset.action) {
    case "lang":
      setLang(getLang() === "en" ? "zh-hans" : "en");
      translatePage();
      renderAll();
      break;
    case "contrast":
      document.body.classList.toggle("hc");
      kv.set("hc", document.body.classList.contains("hc"));
      break;
    case "logout":
      logout();
      break;
    case "shift-list":
      showList("shift");
      break;
    case "queue-list":
      showList("queue");
      break;
    case "close-list":
      $("list").hidden = true;
      break;
    case "close-dialog":
      $("dialog").hidden = true;
      break;
    default:
      break;
  }
}

function onDialogSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const action = form.dataset.action;
  const body = {};
  if (action === "resolve") body.summary = form.summary.value.trim();
  else {
    body.reason = form.reason.value.trim();
    if (form.station.value) body.station = Number(form.station.value);
  }
  if (!(body.summary || body.reason)) return;
  $("dialog").hidden = true;
  enqueue(action, body);
}

function boot() {
  setLang(getLang());
  if (kv.get("hc")) document.body.classList.add("hc");
  document.addEventListener("click", onClick);
  $("login-form").addEventListener("submit", login);
  $("dialog-form").addEventListener("submit", onDialogSubmit);
  $("accept").addEventListener("click", () => {
    hideAlert();
    enqueue("acknowledge");
  });
  $("menu-btn").addEventListener("click", () => ($("menu").hidden = !$("menu").hidden));
  window.addEventListener("online", () => {
    socket?.kick();
    flushQueue();
    renderBar();
  });
  window.addEventListener("offline", () => {
    socket?.drop();
    renderBar();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      keepAwake();
      socket?.kick();
    }
  });
  registerServiceWorker();
  translatePage();
  if (kv.get("token") && S.me && S.me.unit) start();
  else showLogin();
}

boot();
