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
  photo: { path: (inc) => `/api/incidents/${inc.id}/attachments/`, timed: true },
};

// A photo larger than this is scaled down on the phone before it is queued (a 4G uplink in a
// dead zone's edge; the server keeps at most ATTACHMENT_MAX_BYTES).
const PHOTO_SHRINK_BYTES = 4 * 1024 * 1024;
const PHOTO_MAX_PX = 2560;

async function shrink(file) {
  if (file.size <= PHOTO_SHRINK_BYTES || !("createImageBitmap" in window)) return file;
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, PHOTO_MAX_PX / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    return blob || file;
  } catch {
    return file; // the server checks it either way
  }
}

// A photo of the incident, kept in the outbox (IndexedDB holds the file itself) until sent.
export async function enqueuePhoto(file) {
  const inc = S.incident;
  if (!inc || !file) return;
  const tapped = new Date().toISOString();
  await queue.add({
    incident: inc.id,
    action: "photo",
    path: REPORTS.photo.path(inc),
    body: { occurred_at: tapped },
    file: await shrink(file),
    filename: file.name || "photo.jpg",
    key: newKey(),
    created_at: tapped,
    label: `${inc.number} ${actionLabel("photo")}`,
  });
  await refreshQueue();
  renderAll();
  flushQueue();
}

function requestBody(item) {
  if (!item.file) return item.body;
  const form = new FormData();
  form.append("file", item.file, item.filename);
  for (const [name, value] of Object.entries(item.body)) form.append(name, value);
  return form;
}

// The lifecycle steps waiting to be sent, as `incident:action`: a second tap on the same step
// before the first got through (a double tap, or again while offline) is the same report, sent
// once; the server would refuse the copy (409) and the crew would see a false refusal.
const stepsWaiting = new Set();
const stepOf = (item) => (REPORTS[item.action] ? null : `${item.incident}:${item.action}`);

export async function enqueue(action, body = {}) {
  const report = REPORTS[action];
  const inc = report && report.free ? null : S.incident;
  if (!inc && !(report && report.free)) return;
  const step = stepOf({ incident: inc && inc.id, action });
  if (step) {
    if (stepsWaiting.has(step) || S.queued.some((q) => stepOf(q) === step)) return;
    stepsWaiting.add(step);
  }
  // When the crew tapped, not when the request gets through: the server keeps it as the time of
  // the step (within its bounds), so a tap in a dead zone is not stamped late.
  const tapped = new Date().toISOString();
  const timed = !report || report.timed;
  try {
    await queue.add({
      incident: inc ? inc.id : null,
      action,
      path: report ? report.path(inc) : actionUrl(inc.id, action),
      body: timed ? { occurred_at: tapped, ...body } : body,
      key: newKey(),
      created_at: tapped,
      label: `${inc ? inc.number + " " : ""}${actionLabel(action)}`,
    });
  } catch (error) {
    if (step) stepsWaiting.delete(step); // not queued: a later tap must get through
    throw error;
  }
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
  else if (item.action === "photo") toast(t("photoSent"));
  else if (item.action === "emergency") {
    S.emergency = { id: answer.id, at: answer.raised_at, acknowledged: false };
    kv.set("emergency", S.emergency);
  } else if (answer.number && S.incident && S.incident.id === answer.id) {
    // The answer is the incident without its timeline; the full record (reloaded when the
    // server's push arrives, which may come first) keeps its notes.
    saveIncident({ ...S.incident, ...answer });
  }
}

let flushing = false;
export async function flushQueue() {
  if (flushing) return;
  flushing = true;
  try {
    await refreshQueue();
    for (const item of S.queued) {
      try {
        const answer = await api(item.path, {
          method: "POST",
          body: requestBody(item),
          key: item.key,
        });
        await queue.remove(item.id);
        stepsWaiting.delete(stepOf(item));
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
          stepsWaiting.delete(stepOf(item));
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
  for (const step of [...stepsWaiting]) if (step.startsWith(`${incidentId}:`)) stepsWaiting.delete(step);
  await refreshQueue();
}

// Logging out drops what was not sent (the crew confirmed it).
export function clearQueue() {
  stepsWaiting.clear();
  return queue.clear();
}
