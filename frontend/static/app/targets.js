// The 1-3-5 target chips of the incident card and the alert card: met, running or missed,
// counted from the dispatch time.
import { esc } from "../common/dom.js";
import { CLOSED } from "../common/lifecycle.js";
import { TARGETS, arrivalTarget } from "../common/targets.js";
import { t } from "./i18n.js";

export function targetsHtml(incident, status) {
  const start = Date.parse(incident.dispatched_at || incident.received_at);
  if (!start) return "";
  const now = Date.now();
  const acked = incident.acknowledged_at ? Date.parse(incident.acknowledged_at) : null;
  const arrived = incident.arrived_at ? Date.parse(incident.arrived_at) : null;
  const ackDone = acked || (status !== "dispatched" ? now : null);
  const arrDone = arrived || (status === "on_scene" || CLOSED.has(status) ? now : null);
  const zone = arrivalTarget(incident) === TARGETS.arrival_priority_zone_s;
  const chip = (label, limit, done, applies = true) => {
    if (!applies) return ""; // 3 minutes in priority zones, 5 elsewhere
    const at = done || now;
    const cls = at - start > limit * 1000 ? "missed" : done ? "met" : "";
    return `<span class="${cls}">${esc(t(label))}</span>`;
  };
  return (
    chip("t1", TARGETS.acknowledge_s, ackDone) +
    chip("t3", TARGETS.arrival_priority_zone_s, arrDone, zone) +
    chip("t5", TARGETS.arrival_s, arrDone, !zone)
  );
}
