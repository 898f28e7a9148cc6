// The screens: login, the status bar, the incident card with its action buttons, the dialogs
// for actions that need input, the lists (this shift, the queue), and the toast.
import { $, esc } from "../common/dom.js";
import { formatDistance } from "../common/geo.js";
import { CLOSED, actionsFrom, transition, unitStatusOf } from "../common/lifecycle.js";
import { renderAlert } from "./alert.js";
import { api } from "./api.js";
import { actionLabel, formatWhen, t, translatePage } from "./i18n.js";
import { renderMap } from "./map.js";
import {
  S,
  effectiveStatus,
  incidentDistance,
  isBackup,
  myAssignment,
  openIncident,
  pendingFor,
  refId,
  refreshQueue,
} from "./state.js";
import { targetsHtml } from "./targets.js";

export function toast(message) {
  const el = $("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 4000);
}

export function showLogin(message = "") {
  $("main").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  translatePage();
}

export function showMain() {
  $("login").hidden = true;
  $("main").hidden = false;
  translatePage();
}

export function renderBar() {
  const me = S.me;
  if (!me || !me.unit) return;
  $("callsign").textContent = me.unit.callsign;
  $("shift").textContent = me.shift ? t("shift", { n: me.shift.number }) : "";
  $("who").textContent = me.person ? me.person.name : me.user.username;
  const inc = openIncident();
  const status = inc ? effectiveStatus(inc) : null;
  const unitStatus = (status && unitStatusOf(status)) || me.unit.status || "available";
  $("unit-status").textContent = t("st_" + unitStatus);
  const offline = !navigator.onLine;
  const state = offline ? "offline" : S.conn === "online" ? "online" : "reconnecting";
  const conn = $("conn");
  conn.dataset.state = state;
  let text = t(state);
  if (S.queued.length) text += " · " + t("queued", { n: S.queued.length });
  conn.textContent = text;
  $("queue-btn").textContent = `${t("queue")} (${S.queued.length})`;
  const gps = S.position
    ? t("gpsAge", { s: Math.round((Date.now() - S.position.at) / 1000) })
    : t("gpsOff");
  $("gps").textContent = gps;
}

// Between incidents: the duty status (at post, patrolling, out of service) and raising an
// incident the crew came upon (以巡待接).
const DUTY = ["available", "patrolling", "out_of_service"];

function renderIdle(box, actions) {
  const current = S.me && S.me.unit ? S.me.unit.status : "";
  box.innerHTML = `<p>${esc(t("noIncident"))}</p>`;
  actions.innerHTML =
    `<button type="button" class="primary" data-do="raise">${esc(t("a_raise"))}</button>` +
    DUTY.map(
      (status) =>
        `<button type="button" data-duty="${status}" aria-pressed="${status === current}">${esc(t("st_" + status))}</button>`,
    ).join("");
}

// The timeline's notes and further calls (续报), newest first: what the command centre and the
// other crews on the incident added.
function notesHtml(inc) {
  const notes = (inc.events || [])
    .filter((e) => ["note", "call_linked", "backup_requested", "photo"].includes(e.kind))
    .slice(-5)
    .reverse();
  if (!notes.length) return "";
  const rows = notes.map((e) => {
    const text = e.kind === "note" ? e.payload.text : e.reason || t("ev_" + e.kind);
    // (a photo's caption, else its kind)
    const time = formatWhen(e.at, { seconds: false });
    return `<li><small>${esc(time)} ${esc(e.actor || "")}</small> ${esc(text)}</li>`;
  });
  return `<ul id="notes" class="notes">${rows.join("")}</ul>`;
}

// Who else is on the incident: the primary and the backups.
function crewsHtml(inc) {
  const list = (inc.assignments || []).filter((a) => a.status !== "cleared");
  if (list.length < 2) return "";
  const names = list.map((a) => `${a.callsign}${a.role === "backup" ? t("asBackup") : t("asPrimary")}`);
  return `<div class="crews">${esc(names.join(" · "))}</div>`;
}

// The crew's steps: a backup acknowledges, sets off and arrives like the primary, then is
// released (收队); the primary closes the incident (resolve or transfer).
function stepButtons(inc, status) {
  if (isBackup(inc)) {
    if (status === "on_scene") return [{ action: "release" }];
    return actionsFrom(status, "crew").filter((tr) => !["resolve", "transfer"].includes(tr.action));
  }
  return actionsFrom(status, "crew");
}

export function renderIncident() {
  const box = $("incident");
  const actions = $("actions");
  const inc = S.incident;
  if (!inc) {
    renderIdle(box, actions);
    renderMap();
    return;
  }
  const status = effectiveStatus(inc);
  const pending = pendingFor(inc);
  const dist = incidentDistance(inc);
  const mine = myAssignment(inc);
  // A backup's targets run from its own dispatch.
  const timed = mine && mine.role === "backup" ? { ...inc, ...pick(mine) } : inc;
  box.innerHTML = `
    <div class="num">${esc(inc.number)} · ${esc(t("priority", { n: inc.priority }))}${isBackup(inc) ? ` · <strong>${esc(t("backupRole"))}</strong>` : ""}</div>
    <div class="addr">${esc(t("cat_" + inc.category))} · ${esc(inc.address)}</div>
    <div class="meta"><span id="inc-status" data-status="${esc(status)}">${esc(t("is_" + status))}</span>
      ${pending ? `<span class="pending">(${esc(t("queue"))})</span>` : ""}
      <span>${esc(formatDistance(dist))}</span></div>
    ${crewsHtml(inc)}
    <div class="targets">${targetsHtml(timed, status)}</div>
    ${notesHtml(inc)}`;
  // The crew's transitions from this status, in the table's order: the first is the next step.
  const buttons = stepButtons(inc, status).map(
    ({ action }, i) =>
      `<button type="button" class="${i === 0 ? "primary" : ""}" data-do="${esc(action)}">${esc(actionLabel(action))}</button>`,
  );
  if (!CLOSED.has(status) && status !== "cleared") {
    buttons.push(
      `<button type="button" data-do="note">${esc(t("a_note"))}</button>`,
      `<button type="button" data-do="photo">${esc(t("a_photo"))}</button>`,
      `<button type="button" data-do="backup">${esc(t("a_backup"))}</button>`,
    );
  }
  const { lat, lon } = inc.location || {};
  if (lat != null && !CLOSED.has(status) && status !== "on_scene") {
    const name = encodeURIComponent(inc.address || inc.number);
    buttons.push(
      `<a class="nav" href="geo:${lat},${lon}?q=${lat},${lon}(${name})">${esc(t("navSystem"))}</a>`,
      `<a class="nav" target="_blank" rel="noopener" href="https://uri.amap.com/navigation?to=${lon},${lat},${name}&mode=car&coordinate=wgs84&callnative=1">${esc(t("navAmap"))}</a>`,
      `<a class="nav" href="baidumap://map/direction?destination=latlng:${lat},${lon}|name:${name}&coord_type=wgs84&mode=driving&src=simao.cad.patrol">${esc(t("navBaidu"))}</a>`,
    );
  }
  actions.innerHTML = buttons.join("");
  renderMap();
}

function pick(assignment) {
  const { dispatched_at, acknowledged_at, arrived_at } = assignment;
  return { dispatched_at, acknowledged_at, arrived_at };
}

// The emergency button's state: sent and waiting for the command centre, or acknowledged.
export function renderEmergency() {
  const el = $("sos-state");
  if (!el) return;
  const e = S.emergency;
  el.hidden = !e;
  if (e) el.textContent = e.acknowledged ? t("emergencyAckedShort") : t("emergencySent");
  el.dataset.state = e ? (e.acknowledged ? "acknowledged" : "sent") : "";
}

export function renderAll() {
  renderBar();
  renderIncident();
  renderEmergency();
  if (S.alert) renderAlert();
}

// --- dialogs: the fields a transition's request must carry (its `fields` in the table) ---------

const FIELD_INPUTS = {
  summary: () =>
    `<label>${esc(t("summary"))}<textarea name="summary" required maxlength="2000"></textarea></label>`,
  reason: () =>
    `<label>${esc(t("reason"))}<textarea name="reason" required maxlength="1000"></textarea></label>`,
};

const CATEGORIES = ["dispute", "public_order", "assistance", "criminal", "other"];

// The crew's reports that are not steps of the table: their inputs, and the request body.
const REPORT_FORMS = {
  note: {
    html: () =>
      `<label>${esc(t("noteText"))}<textarea name="text" required maxlength="2000"></textarea></label>`,
    body: (f) => (f.text.value.trim() ? { text: f.text.value.trim() } : null),
  },
  backup: {
    html: () =>
      `<label>${esc(t("backupCount"))}<select name="count"><option>1</option><option>2</option><option>3</option></select></label>
       <label>${esc(t("backupReason"))}<textarea name="reason" required maxlength="1000"></textarea></label>`,
    body: (f) =>
      f.reason.value.trim() ? { count: Number(f.count.value), reason: f.reason.value.trim() } : null,
  },
  release: {
    html: () =>
      `<label>${esc(t("releaseReason"))}<textarea name="reason" maxlength="200"></textarea></label>`,
    body: (f) => ({ reason: f.reason.value.trim() }),
  },
  out_of_service: {
    action: "duty",
    html: () =>
      `<label>${esc(t("oosReason"))}<textarea name="reason" required maxlength="200"></textarea></label>`,
    body: (f) =>
      f.reason.value.trim() ? { status: "out_of_service", reason: f.reason.value.trim() } : null,
  },
  raise: {
    html: () =>
      (S.position ? "" : `<p class="error">${esc(t("needGps"))}</p>`) +
      `<label>${esc(t("category"))}<select name="category">${CATEGORIES.map((c) => `<option value="${c}">${esc(t("cat_" + c))}</option>`).join("")}</select></label>
       <label>${esc(t("priorityLabel"))}<select name="priority"><option value="2">${esc(t("priority", { n: 2 }))}</option><option value="1">${esc(t("priority", { n: 1 }))}</option><option value="3">${esc(t("priority", { n: 3 }))}</option></select></label>
       <label>${esc(t("address"))}<input name="address" required maxlength="200"></label>
       <label>${esc(t("description"))}<textarea name="description" maxlength="2000"></textarea></label>`,
    body: (f) => {
      const address = f.address.value.trim();
      if (!address || !S.position) return null;
      return {
        origin: "patrol",
        category: f.category.value,
        priority: Number(f.priority.value),
        address,
        description: f.description.value.trim(),
        location: { lat: S.position.lat, lon: S.position.lon },
      };
    },
  },
};

// Optional inputs besides the required fields: a transfer may name another receiving station
// (the server defaults to the incident's own).
const EXTRA_INPUTS = {
  transfer: () => {
    const stations = (S.me.stations || [])
      .map((s) => {
        const sel = refId(S.incident.station) === s.id ? " selected" : "";
        return `<option value="${s.id}"${sel}>${esc(s.name)}</option>`;
      })
      .join("");
    return `<label>${esc(t("station"))}<select name="station">${stations}</select></label>`;
  },
};

export function needsInput(action) {
  return action in REPORT_FORMS || transition(action).fields.length > 0;
}

export function openDialog(action) {
  const form = $("dialog-form");
  const extra = EXTRA_INPUTS[action];
  const report = REPORT_FORMS[action];
  form.innerHTML = report
    ? report.html()
    : (extra ? extra() : "") + transition(action).fields.map((field) => FIELD_INPUTS[field]()).join("");
  form.insertAdjacentHTML(
    "beforeend",
    `<button type="submit" class="big primary">${esc(actionLabel(action))}</button>
     <button type="button" class="big" data-action="close-dialog">${esc(t("cancel"))}</button>`,
  );
  form.dataset.action = action;
  $("dialog").hidden = false;
  form.querySelector("textarea, input").focus();
}

// The action a dialog sends (a duty status goes as "duty").
export function dialogAction(form) {
  const report = REPORT_FORMS[form.dataset.action];
  return (report && report.action) || form.dataset.action;
}

// The request body the dialog's form makes, or null while a required field is empty.
export function dialogBody(form) {
  const report = REPORT_FORMS[form.dataset.action];
  if (report) return report.body(form);
  const { fields } = transition(form.dataset.action);
  const body = {};
  for (const field of fields) body[field] = form[field].value.trim();
  if (form.station && form.station.value) body.station = Number(form.station.value);
  return fields.every((field) => body[field]) ? body : null;
}

// --- lists -------------------------------------------------------------------------------------

export async function showList(kind) {
  $("list-title").textContent = kind === "queue" ? t("queue") : t("myShift");
  const ul = $("list-items");
  if (kind === "queue") {
    await refreshQueue();
    ul.innerHTML = S.queued.length
      ? S.queued
          .map((q) => `<li>${esc(q.label)}<br><small>${esc(formatWhen(q.created_at))}</small></li>`)
          .join("")
      : `<li>${esc(t("queueEmpty"))}</li>`;
  } else {
    ul.innerHTML = `<li>…</li>`;
    try {
      // The crew sees only its own unit's incidents: "since the shift began" is this shift's.
      const since = encodeURIComponent(S.me.shift.start);
      const page = await api(`/api/incidents/?since=${since}&page_size=50`);
      // Priority 1 (紧急) first; within a priority, newest first as the server lists them.
      const rows = [...(page.results || page)].sort((a, b) => a.priority - b.priority);
      let html = rows.length
        ? rows
            .map(
              (i) =>
                `<li data-priority="${i.priority}"><strong>${esc(i.number)}</strong> ${i.priority === 1 ? `<span class="p1">${esc(t("urgent"))}</span> ` : ""}${esc(t("cat_" + i.category))}<br>${esc(i.address)}<br><small>${esc(t("is_" + i.status))} · ${esc(formatWhen(i.received_at))}</small></li>`,
            )
            .join("")
        : `<li>${esc(t("none"))}</li>`;
      const training = await api("/api/me/training/").catch(() => null);
      const upcoming = ((training && training.sessions) || []).filter(
        (x) => Date.parse(x.starts_at) > Date.now(),
      );
      if (upcoming.length) {
        html += `<li><strong>${esc(t("training"))}</strong></li>`;
        html += upcoming
          .map(
            (x) =>
              `<li>${esc(x.title || x.type_display)}<br><small>${esc(formatWhen(x.starts_at, { date: true, seconds: false }))} · ${esc(x.place || "")}</small></li>`,
          )
          .join("");
      }
      ul.innerHTML = html;
    } catch {
      ul.innerHTML = `<li>${esc(t("networkError"))}</li>`;
    }
  }
  $("list").hidden = false;
}
