// Prints what frontend/static/common/lifecycle.js derives from a page config read on stdin:
// run by tests/frontend/test_lifecycle_js.py, which compares it with the server's table.
import fs from "node:fs";

const config = fs.readFileSync(0, "utf8");
globalThis.document = { getElementById: () => ({ textContent: config }) };
const lc = await import("../../frontend/static/common/lifecycle.js");
const { transitions, unitStatusOf } = JSON.parse(config);
const statuses = [...new Set(transitions.flatMap((tr) => [...tr.from, tr.to]))];
const actors = [...new Set(transitions.map((tr) => tr.actor))];
const out = { open: [...lc.OPEN], closed: [...lc.CLOSED], from: {}, allowed: {}, urls: {}, unit: {} };
for (const status of statuses) {
  out.from[status] = Object.fromEntries(
    actors.map((actor) => [actor, lc.actionsFrom(status, actor).map((tr) => tr.action)]),
  );
  out.allowed[status] = transitions.filter((tr) => lc.allowed(tr.action, status)).map((tr) => tr.action);
  out.unit[status] = lc.unitStatusOf(status) ?? null;
}
for (const tr of transitions) out.urls[tr.action] = lc.actionUrl(7, tr.action);
console.log(JSON.stringify(out));
