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
  // The emergency this phone raised and no commander has acknowledged yet: {at, acknowledged}.
  emergency: kv.get("emergency"),
};

export function unitId() {
  return S.me && S.me.unit ? S.me.unit.id : null;
}

export function saveIncident(incident) {
  S.incident = incident;
  if (incident) kv.set("incident", incident);
  else kv.del("incident");
}

// This unit's part in an incident: its assignment (the primary, or a backup sent to help), or
// null when it no longer works it.
export function myAssignment(incident) {
  const id = unitId();
  const list = (incident && incident.assignments) || [];
  return list.find((a) => a.unit === id && a.status !== "cleared") || null;
}

export function isBackup(incident) {
  const mine = myAssignment(incident);
  return Boolean(mine && mine.role === "backup");
}

// What the crew works from: the incident's own status (the primary's steps), or a backup's own.
export function ownStatus(incident) {
  const mine = myAssignment(incident);
  return mine && mine.role === "backup" ? mine.status : incident.status;
}

// The incident status the crew sees: its own, advanced by the actions still queued. A backup
// released by its crew is "cleared" at once.
export function effectiveStatus(incident) {
  let status = ownStatus(incident);
  for (const item of S.queued) {
    if (item.incident !== incident.id) continue;
    if (item.action === "release") status = "cleared";
    else status = transition(item.action)?.to ?? status;
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

// The incident as the crew still works it: null once it is closed or this unit released
// (queued actions counted).
export function openIncident() {
  if (!S.incident) return null;
  const status = effectiveStatus(S.incident);
  return CLOSED.has(status) || status === "cleared" ? null : S.incident;
}

// Websocket frames carry ids where the REST API nests objects ({id, …}).
export function refId(value) {
  return value && typeof value === "object" ? value.id : value;
}

export function incidentDistance(incident) {
  if (!incident || !incident.location || !S.position) return null;
  return haversineM(S.position.lat, S.position.lon, incident.location.lat, incident.location.lon);
}
