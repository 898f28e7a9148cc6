// The unit's incident, reloaded from the server when it may have moved on without this phone.
import { CLOSED } from "../common/lifecycle.js";
import { hideAlert } from "./alert.js";
import { api } from "./api.js";
import { renderAll } from "./screens.js";
import { S, pendingFor, refId, saveIncident, unitId } from "./state.js";

export async function reloadIncident(id) {
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
