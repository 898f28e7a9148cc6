// The live link: /ws/unit/ with the crew's token. It resumes from the last sequence number the
// phone saw, brings alerts and incident updates, and carries the alerts' receipts back.
import { Socket, wsUrl } from "../common/socket.js";
import { firstSight, hideAlert, receipt, showAlert } from "./alert.js";
import { t } from "./i18n.js";
import { reloadIncident } from "./incident.js";
import { dropQueuedFor, flushQueue } from "./outbox.js";
import { renderAll, renderBar, showLogin, toast } from "./screens.js";
import { S, myAssignment, saveIncident, unitId } from "./state.js";
import { kv } from "./store.js";

let socket = null;

function seqKey() {
  return `seq:${unitId()}`;
}

function lastSeq() {
  return kv.get(seqKey(), 0);
}

export function connect() {
  socket?.stop();
  socket = new Socket({
    url: () => `${wsUrl("/ws/unit/")}?token=${encodeURIComponent(kv.get("token") || "")}`,
    lastSeq,
    onFrame,
    onState,
  });
  socket.start();
}

export function disconnect() {
  socket?.stop();
}

// The network came back: reconnect now rather than after the backoff.
export function kick() {
  socket?.kick();
}

// The network is gone: drop the link rather than wait for it to time out.
export function drop() {
  socket?.drop();
}

function onFrame(frame) {
  if (frame.type === "dispatch.alert") socket.send(receipt(frame));
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
    case "dispatch.withdrawn":
      onWithdrawn(frame);
      break;
    case "incident.updated":
      if (frame.unit_id === unitId() || (S.incident && S.incident.id === frame.incident_id)) {
        reloadIncident(frame.incident_id);
        if (frame.kind === "note") toast(t("newNote", { n: frame.number }));
      }
      break;
    case "unit.emergency_acknowledged":
      S.emergency = { ...(S.emergency || {}), acknowledged: true };
      kv.set("emergency", S.emergency);
      toast(t("emergencyAcked", { by: frame.acknowledged_by }));
      renderAll();
      break;
    case "error":
      console.warn("server:", frame.code, frame.message);
      break;
    default:
      break;
  }
}

function onAlert(frame) {
  if (!firstSight(frame)) return;
  const inc = frame.incident;
  // A backup's alert comes for an incident that is already further on: its own part counts.
  const mine = myAssignment(inc);
  const status = mine ? mine.status : inc && inc.status;
  if (!inc || (status && status !== "dispatched")) return;
  saveIncident(inc);
  renderAll();
  showAlert(frame);
  reloadIncident(inc.id); // the full record: grid (priority zone), station for a transfer
}

// What the crew is told when the incident leaves this unit, by why.
const WITHDRAWN_TEXT = {
  released: "releasedNote",
  resolved: "closedByPrimary",
  transferred: "closedByPrimary",
  cancelled: "cancelledNote",
};

// The incident was taken off this unit (sent to another, cancelled, this backup released or the
// incident closed by its primary): the card comes down and nothing more is sent for it. Told
// even when a reload already took the incident off the screen (its answer may come first).
async function onWithdrawn(frame) {
  if (S.alert && S.alert.incident.id === frame.incident_id) hideAlert();
  await dropQueuedFor(frame.incident_id);
  if (S.incident && S.incident.id === frame.incident_id) saveIncident(null);
  // A cancel says so, and why (a false call, a duplicate): the crew stops looking for it.
  const why = frame.reason ? `${t("reasonSep")}${frame.reason}` : "";
  toast(t(WITHDRAWN_TEXT[frame.kind] || "withdrawn", { n: frame.number }) + why);
  renderAll();
}

function onState(state, code) {
  S.conn = state;
  if (state === "online") flushQueue();
  if (state === "denied" && code === 4401) showLogin(t("loginFailed"));
  renderBar();
}
