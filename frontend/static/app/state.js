// The app's state, shared by its modules: who is logged in, the unit's incident, the showing
// alert, the mirror of the offline queue, the link and the last GPS fix.
import { haversineM } from "../common/geo.js";
import { CLOSED, transition } from "../common/lifecycle.js";
import { kv, queue } from "./store.js";

export const S = {
  me: kv.get("me"),
  incident: kv.get("incident"),
  alert: null,
  queued: [],
  conn: "offline",
  position: null, // {lat, lon, accuracy, at}
  lastPostAt: 0,
  seen: new Set(kv.get("alerts", [])),
};

export function unitId() {
  return S.me && S.me.unit ? S.me.unit.id : null;
}

export function saveIncident(incident) {
  S.incident = incident;
  if (incident) kv.set("incident", incident);
  else kv.del("incident");
}

// The incident status the crew sees: the server's, advanced by the actions still queued.
export function effectiveStatus(incident) {
  let status = incident.status;
  for (const item of S.queued) {
    if (item.incident === incident.id) status = transition(item.action)?.to ?? status;
  }
  return status;
}

// S.queued mirrors the offline queue (outbox.js) so that rendering need not wait on IndexedDB.
export async function refreshQueue() {
  S.queued = await queue.all();
}

export function pendingFor(incident) {
  return S.queued.some((item) => item.incident === incident.id);
}

// The incident as the crew still works it: null once it is closed (queued actions counted).
export function openIncident() {
  return S.incident && !CLOSED.has(effectiveStatus(S.incident)) ? S.incident : null;
}

// Websocket frames carry ids where the REST API nests objects ({id, …}).
export function refId(value) {
  return value && typeof value === "object" ? value.id : value;
}

export function incidentDistance(incident) {
  if (!incident || !incident.location || !S.position) return null;
  return haversineM(S.position.lat, S.position.lon, incident.location.lat, incident.location.lon);
}
