// DOM helpers shared by the patrol app and the command map.
export const $ = (id) => document.getElementById(id);

// For text put into innerHTML: every page builds its lists and cards from strings.
export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
