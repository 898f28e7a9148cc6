// The outbox: the crew's actions, kept in IndexedDB in the order they were tapped and sent in
// that order with their Idempotency-Key, so an action tapped offline (or whose answer was lost)
// is applied once when the network is back. The screen shows their effect at once.
import { actionUrl, CLOSED } from "../common/lifecycle.js";
import { ApiError, api, errorText, newKey } from "./api.js";
import { actionLabel, t } from "./i18n.js";
import { reloadIncident } from "./incident.js";
import { renderAll, showLogin, toast } from "./screens.js";
import { S, pendingFor, refreshQueue, saveIncident, unitId } from "./state.js";
import { kv, queue } from "./store.js";

// The requests of the crew's reports that are not steps of the transition table: where each
// goes (for the incident `inc`, or with none), and whether it carries the tap's time.
const REPORTS = {
  note: { path: (inc) => `/api/incidents/${inc.id}/notes/` },
  backup: { path: (inc) => `/api/incidents/${inc.id}/request-backup/` },
  release: { path: (inc) => `/api/incidents/${inc.id}/units/${unitId()}/clear/` },
  emergency: { path: () => `/api/units/${unitId()}/emergency/`, free: true, timed: true },
  duty: { path: () => `/api/units/${unitId()}/status/`, free: true },
  raise: { path: () => "/api/incidents/", free: true },
};

export async function enqueue(action, body = {}) {
  const report = REPORTS[action];
  const inc = report && report.free ? null : S.incident;
  if (!inc && !(report && report.free)) return;
  // When the crew tapped, not when the request gets through: the server keeps it as the time of
  // the step (within its bounds), so a tap in a dead zone is not stamped late.
  const tapped = new Date().toISOString();
  const timed = !report || report.timed;
  await queue.add({
    incident: inc ? inc.id : null,
    action,
    path: report ? report.path(inc) : actionUrl(inc.id, action),
    body: timed ? { occurred_at: tapped, ...body } : body,
    key: newKey(),
    created_at: tapped,
    label: `${inc ? inc.number + " " : ""}${actionLabel(action)}`,
  });
  await refreshQueue();
  renderAll();
  flushQueue();
}

// What an answer means for the screen: the unit's incident as it is now, the new incident a
// crew raised, the unit's duty status, the emergency sent.
function applyAnswer(item, answer) {
  if (!answer) return;
  if (item.action === "raise") saveIncident(answer);
  else if (item.action === "duty") S.me.unit = { ...S.me.unit, status: answer.status };
  else if (item.action === "emergency") {
    S.emergency = { id: answer.id, at: answer.raised_at, acknowledged: false };
    kv.set("emergency", S.emergency);
  } else if (answer.number && S.incident && S.incident.id === answer.id) saveIncident(answer);
}

let flushing = false;
export async function flushQueue() {
  if (flushing) return;
  flushing = true;
  try {
    await refreshQueue();
    for (const item of S.queued) {
      try {
        const answer = await api(item.path, { method: "POST", body: item.body, key: item.key });
        await queue.remove(item.id);
        await refreshQueue();
        applyAnswer(item, answer);
        if (item.action === "release") saveIncident(null);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          showLogin(t("loginFailed"));
          break;
        }
        if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
          // Refused for good (e.g. 409: the state moved on): drop it, say so, resync.
          await queue.remove(item.id);
          await refreshQueue();
          toast(t("refused", { m: errorText(error) }));
          if (item.incident) await reloadIncident(item.incident);
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

// The incident left this unit: what was queued for it can no longer be applied.
export async function dropQueuedFor(incidentId) {
  await refreshQueue();
  for (const item of S.queued) if (item.incident === incidentId) await queue.remove(item.id);
  await refreshQueue();
}

// Logging out drops what was not sent (the crew confirmed it).
export function clearQueue() {
  return queue.clear();
}
