// The unit's incident, reloaded from the server when it may have moved on without this phone.
import { CLOSED } from "../common/lifecycle.js";
import { hideAlert } from "./alert.js";
import { api } from "./api.js";
import { renderAll } from "./screens.js";
import { S, myAssignment, pendingFor, saveIncident } from "./state.js";

export async function reloadIncident(id) {
  try {
    const incident = await api(`/api/incidents/${id}/`);
    const mine = myAssignment(incident);
    if (!S.incident || S.incident.id === id) {
      // Closed, or this unit no longer on it (a released backup): nothing left to work.
      const done = CLOSED.has(incident.status) || !mine;
      saveIncident(done && !pendingFor(incident) ? null : incident);
    }
    // Taken off the unit, acknowledged elsewhere or cancelled while the alert was showing:
    // withdraw the card.
    if (S.alert && S.alert.incident.id === id && (!mine || mine.status !== "dispatched")) {
      hideAlert();
    }
  } catch {
    /* keep what we have */
  }
  renderAll();
}
