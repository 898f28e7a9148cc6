// The incident lifecycle as the server's one transition table says it (apps/incidents/
// transitions.py, sent in the page config): which actions from which status, by whom, where to,
// at which REST path. Nothing here is written a second time.
import { CONFIG } from "./config.js";

const TRANSITIONS = CONFIG.transitions;
const BY_ACTION = new Map(TRANSITIONS.map((tr) => [tr.action, tr]));

export const CLOSED = new Set(CONFIG.closedStatuses);
// Every status the table names that is not closed: the ones the command map keeps on its board.
export const OPEN = new Set(
  TRANSITIONS.flatMap((tr) => [...tr.from, tr.to]).filter((status) => !CLOSED.has(status)),
);

export function transition(action) {
  return BY_ACTION.get(action);
}

// The transitions an actor ("command", "crew", "station") may start from a status, in table order.
export function actionsFrom(status, actor) {
  return TRANSITIONS.filter((tr) => tr.actor === actor && tr.from.includes(status));
}

export function allowed(action, status) {
  const tr = BY_ACTION.get(action);
  return Boolean(tr && tr.from.includes(status));
}

export function actionUrl(incidentId, action) {
  return `/api/incidents/${incidentId}/${BY_ACTION.get(action).path}/`;
}

// The unit's status while it owns an incident in this status (undefined: none).
export function unitStatusOf(status) {
  return CONFIG.unitStatusOf[status];
}
