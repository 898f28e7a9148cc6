// The outbox: the crew's actions, kept in IndexedDB in the order they were tapped and sent in
// that order with their Idempotency-Key, so an action tapped offline (or whose answer was lost)
// is applied once when the network is back. The screen shows their effect at once.
import { actionUrl, CLOSED } from "../common/lifecycle.js";
import { ApiError, api, errorText, newKey } from "./api.js";
import { actionLabel, t } from "./i18n.js";
import { reloadIncident } from "./incident.js";
import { renderAll, showLogin, toast } from "./screens.js";
import { S, pendingFor, refreshQueue, saveIncident } from "./state.js";
import { queue } from "./store.js";

export async function enqueue(action, body = {}) {
  const inc = S.incident;
  if (!inc) return;
  // When the crew tapped, not when the request gets through: the server keeps it as the time of
  // the step (within its bounds), so a tap in a dead zone is not stamped late.
  const tapped = new Date().toISOString();
  await queue.add({
    incident: inc.id,
    action,
    path: actionUrl(inc.id, action),
    body: { occurred_at: tapped, ...body },
    key: newKey(),
    created_at: tapped,
    label: `${inc.number} ${actionLabel(action)}`,
  });
  await refreshQueue();
  renderAll();
  flushQueue();
}

let flushing = false;
export async function flushQueue() {
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
          toast(t("refused", { m: errorText(error) }));
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
