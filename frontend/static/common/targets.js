// The 1-3-5 targets: acknowledge within 1 minute, arrive within 3 in priority zones, 5 elsewhere.
import { CONFIG } from "./config.js";

export const TARGETS = CONFIG.targets;

// Seconds allowed from dispatch to arrival: less where the incident's grid cell is a priority
// zone, and for the priorities the server names (apps/incidents/deadlines.py arrival_target_s).
export function arrivalTarget(incident) {
  const zone = incident.grid && typeof incident.grid === "object" && incident.grid.priority_zone;
  const short = zone || TARGETS.short_priorities.includes(incident.priority);
  return short ? TARGETS.arrival_priority_zone_s : TARGETS.arrival_s;
}
