// The patrol app: login, live alerts over /ws/unit/, one-tap status, offline queue, map.
// This module wires the others: alert.js (the alert card), outbox.js (the offline queue),
// live.js (the websocket), map.js, screens.js, device.js (GPS, heartbeat), update.js.
import { $ } from "../common/dom.js";
import { hideAlert, renderAlert, unlockAlerts } from "./alert.js";
import { ApiError, api } from "./api.js";
import { heartbeat, keepAwake, startGeolocation } from "./device.js";
import { getLang, setLang, t, translatePage } from "./i18n.js";
import { reloadIncident } from "./incident.js";
import { connect, disconnect, drop, kick } from "./live.js";
import { initMap, resizeMap } from "./map.js";
import { clearQueue, enqueue, enqueuePhoto, flushQueue } from "./outbox.js";
import {
  dialogAction,
  dialogBody,
  needsInput,
  openDialog,
  renderAll,
  renderBar,
  showList,
  showLogin,
  showMain,
  toast,
} from "./screens.js";
import { S, refreshQueue, saveIncident } from "./state.js";
import { kv } from "./store.js";
import { registerServiceWorker } from "./update.js";

const HEARTBEAT_MS = 30000;
const RETRY_QUEUE_MS = 5000;
// The emergency button fires on a long press only: a pocket or a glove must not raise it.
const SOS_HOLD_MS = 2000;

let ticker = null;
let timers = [];

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("login-error").textContent = "";
  unlockAlerts();
  try {
    const res = await api("/api/auth/token/", {
      method: "POST",
      body: {
        username: form.username.value.trim(),
        password: form.password.value,
        device: navigator.userAgent.slice(0, 100),
      },
    });
    kv.set("token", res.token);
    const me = await api("/api/me/");
    if (!me.unit) {
      kv.del("token");
      showLogin(t("noUnit"));
      return;
    }
    if (S.me && S.me.unit && S.me.unit.id !== me.unit.id) saveIncident(null);
    S.me = me;
    kv.set("me", me);
    form.password.value = "";
    start();
  } catch (error) {
    showLogin(error instanceof ApiError ? t("loginFailed") : t("networkError"));
  }
}

async function refreshMe() {
  try {
    const me = await api("/api/me/");
    if (me.unit) {
      S.me = me;
      kv.set("me", me);
      if (me.unit.current_incident && (!S.incident || S.incident.id !== me.unit.current_incident)) {
        await reloadIncident(me.unit.current_incident);
      }
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      kv.del("token");
      showLogin();
    }
  }
  renderAll();
}

function start() {
  showMain();
  initMap();
  resizeMap();
  refreshQueue().then(renderAll);
  connect();
  startGeolocation();
  keepAwake();
  refreshMe();
  timers.forEach(clearInterval);
  timers = [
    setInterval(heartbeat, HEARTBEAT_MS),
    setInterval(() => S.queued.length && navigator.onLine && flushQueue(), RETRY_QUEUE_MS),
  ];
  heartbeat();
  clearInterval(ticker);
  ticker = setInterval(() => {
    if (S.alert) renderAlert();
    renderBar();
  }, 1000);
  flushQueue();
}

async function logout() {
  await refreshQueue();
  if (S.queued.length && !confirm(t("queued", { n: S.queued.length }))) return;
  disconnect();
  timers.forEach(clearInterval);
  kv.del("token");
  kv.del("me");
  saveIncident(null);
  await clearQueue();
  S.me = null;
  showLogin();
}

function onClick(event) {
  const target = event.target.closest("[data-action], [data-do], [data-duty]");
  if (!target) return;
  const action = target.dataset.do;
  if (action === "photo") $("camera").click();
  else if (action && needsInput(action)) openDialog(action);
  else if (action) enqueue(action);
  const duty = target.dataset.duty;
  if (duty === "out_of_service") openDialog("out_of_service");
  else if (duty) enqueue("duty", { status: duty });
  switch (target.dataset.action) {
    case "lang":
      setLang(getLang() === "en" ? "zh-hans" : "en");
      translatePage();
      renderAll();
      break;
    case "contrast":
      document.body.classList.toggle("hc");
      kv.set("hc", document.body.classList.contains("hc"));
      break;
    case "logout":
      logout();
      break;
    case "shift-list":
      showList("shift");
      break;
    case "queue-list":
      showList("queue");
      break;
    case "close-list":
      $("list").hidden = true;
      break;
    case "close-dialog":
      $("dialog").hidden = true;
      break;
    default:
      break;
  }
}

function onDialogSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const body = dialogBody(form);
  if (!body) {
    // Only spaces pass the browser's own check of a required field: say what is missing.
    toast(t("required"));
    form.querySelector("textarea, input").focus();
    return;
  }
  $("dialog").hidden = true;
  enqueue(dialogAction(form), body);
}

// The emergency button (一键求助): held for SOS_HOLD_MS, it sends the unit's position to the
// command centre through the outbox (queued like any action when there is no network).
function wireEmergency() {
  const button = $("sos");
  let timer = null;
  const cancel = () => {
    clearTimeout(timer);
    timer = null;
    button.classList.remove("holding");
  };
  button.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    button.classList.add("holding");
    timer = setTimeout(() => {
      cancel();
      if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
      const p = S.position;
      S.emergency = { at: new Date().toISOString(), acknowledged: false };
      kv.set("emergency", S.emergency);
      enqueue(
        "emergency",
        p ? { lat: p.lat, lon: p.lon, accuracy_m: Math.round(p.accuracy || 0) } : {},
      );
    }, SOS_HOLD_MS);
  });
  for (const type of ["pointerup", "pointerleave", "pointercancel"]) {
    button.addEventListener(type, cancel);
  }
  button.addEventListener("contextmenu", (event) => event.preventDefault());
  $("sos-state").addEventListener("click", () => {
    if (S.emergency && S.emergency.acknowledged) {
      S.emergency = null;
      kv.del("emergency");
      renderAll();
    }
  });
}

function boot() {
  setLang(getLang());
  if (kv.get("hc")) document.body.classList.add("hc");
  document.addEventListener("click", onClick);
  $("login-form").addEventListener("submit", login);
  $("dialog-form").addEventListener("submit", onDialogSubmit);
  $("accept").addEventListener("click", () => {
    hideAlert();
    enqueue("acknowledge");
  });
  $("menu-btn").addEventListener("click", () => ($("menu").hidden = !$("menu").hidden));
  wireEmergency();
  $("camera").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    enqueuePhoto(file);
  });
  window.addEventListener("online", () => {
    kick();
    flushQueue();
    renderBar();
  });
  window.addEventListener("offline", () => {
    drop();
    renderBar();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      keepAwake();
      kick();
    }
  });
  registerServiceWorker();
  translatePage();
  if (kv.get("token") && S.me && S.me.unit) start();
  else showLogin();
}

boot();
