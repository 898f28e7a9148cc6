// The screens: login, the status bar, the incident card with its action buttons, the dialogs
// for actions that need input, the lists (this shift, the queue), and the toast.
import { $, esc } from "../common/dom.js";
import { formatDistance } from "../common/geo.js";
import { CLOSED, actionsFrom, transition, unitStatusOf } from "../common/lifecycle.js";
import { renderAlert } from "./alert.js";
import { api } from "./api.js";
import { actionLabel, t, translatePage } from "./i18n.js";
import { renderMap } from "./map.js";
import {
  S,
  effectiveStatus,
  incidentDistance,
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

export function renderIncident() {
  const box = $("incident");
  const actions = $("actions");
  const inc = S.incident;
  if (!inc) {
    box.innerHTML = `<p>${esc(t("noIncident"))}</p>`;
    actions.innerHTML = "";
    renderMap();
    return;
  }
  const status = effectiveStatus(inc);
  const pending = pendingFor(inc);
  const dist = incidentDistance(inc);
  box.innerHTML = `
    <div class="num">${esc(inc.number)} · ${esc(t("priority", { n: inc.priority }))}</div>
    <div class="addr">${esc(t("cat_" + inc.category))} · ${esc(inc.address)}</div>
    <div class="meta"><span id="inc-status" data-status="${esc(status)}">${esc(t("is_" + status))}</span>
      ${pending ? `<span class="pending">(${esc(t("queue"))})</span>` : ""}
      <span>${esc(formatDistance(dist))}</span></div>
    <div class="targets">${targetsHtml(inc, status)}</div>`;
  // The crew's transitions from this status, in the table's order: the first is the next step.
  const buttons = actionsFrom(status, "crew").map(
    ({ action }, i) =>
      `<button type="button" class="${i === 0 ? "primary" : ""}" data-do="${esc(action)}">${esc(actionLabel(action))}</button>`,
  );
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

export function renderAll() {
  renderBar();
  renderIncident();
  if (S.alert) renderAlert();
}

// --- dialogs: the fields a transition's request must carry (its `fields` in the table) ---------

const FIELD_INPUTS = {
  summary: () =>
    `<label>${esc(t("summary"))}<textarea name="summary" required maxlength="2000"></textarea></label>`,
  reason: () =>
    `<label>${esc(t("reason"))}<textarea name="reason" required maxlength="1000"></textarea></label>`,
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
  return transition(action).fields.length > 0;
}

export function openDialog(action) {
  const form = $("dialog-form");
  const extra = EXTRA_INPUTS[action];
  form.innerHTML =
    (extra ? extra() : "") + transition(action).fields.map((field) => FIELD_INPUTS[field]()).join("");
  form.insertAdjacentHTML(
    "beforeend",
    `<button type="submit" class="big primary">${esc(actionLabel(action))}</button>
     <button type="button" class="big" data-action="close-dialog">${esc(t("cancel"))}</button>`,
  );
  form.dataset.action = action;
  $("dialog").hidden = false;
  form.querySelector("textarea").focus();
}

// The request body the dialog's form makes, or null while a required field is empty.
export function dialogBody(form) {
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
          .map((q) => `<li>${esc(q.label)}<br><small>${esc(new Date(q.created_at).toLocaleTimeString())}</small></li>`)
          .join("")
      : `<li>${esc(t("queueEmpty"))}</li>`;
  } else {
    ul.innerHTML = `<li>…</li>`;
    try {
      // The crew sees only its own unit's incidents: "since the shift began" is this shift's.
      const since = encodeURIComponent(S.me.shift.start);
      const page = await api(`/api/incidents/?since=${since}&page_size=50`);
      const rows = page.results || page;
      let html = rows.length
        ? rows
            .map(
              (i) =>
                `<li><strong>${esc(i.number)}</strong> ${esc(t("cat_" + i.category))}<br>${esc(i.address)}<br><small>${esc(t("is_" + i.status))} · ${esc(new Date(i.received_at).toLocaleTimeString())}</small></li>`,
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
              `<li>${esc(x.title || x.type_display)}<br><small>${esc(new Date(x.starts_at).toLocaleString())} · ${esc(x.place || "")}</small></li>`,
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
