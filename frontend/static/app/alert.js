// The dispatch alert: the full-screen card, vibration and a repeating tone until the crew
// accepts, a system notification when the app is in the background, the delivery receipt, and
// each alert shown once however many copies arrive (dedupe by alert_id).
import { $ } from "../common/dom.js";
import { formatDistance, formatDuration } from "../common/geo.js";
import { t, translatePage } from "./i18n.js";
import { S, incidentDistance } from "./state.js";
import { kv } from "./store.js";
import { targetsHtml } from "./targets.js";

const SEEN_KEPT = 50;
let audio = null;
let beeper = null;

// The receipt the server waits for: sent for every copy, so it knows this phone has the alert.
export function receipt(frame) {
  return { type: "alert.received", alert_id: frame.alert_id };
}

// True the first time an alert arrives; remembered across reloads.
export function firstSight(frame) {
  if (!frame.alert_id || S.seen.has(frame.alert_id)) return false;
  S.seen.add(frame.alert_id);
  kv.set("alerts", [...S.seen].slice(-SEEN_KEPT));
  return true;
}

export function renderAlert() {
  const brief = S.alert.incident;
  const inc = S.incident && S.incident.id === brief.id ? S.incident : brief;
  $("alert-number").textContent = inc.number || "";
  $("alert-category").textContent = `${t("cat_" + inc.category)} · ${t("priority", { n: inc.priority })}`;
  $("alert-address").textContent = inc.address || "";
  $("alert-desc").textContent = inc.description || "";
  $("alert-distance").textContent = formatDistance(incidentDistance(inc));
  const start = Date.parse(inc.dispatched_at || inc.received_at) || Date.now();
  $("alert-elapsed").textContent = formatDuration((Date.now() - start) / 1000);
  $("alert-targets").innerHTML = targetsHtml(inc, "dispatched");
}

export function showAlert(frame) {
  S.alert = frame;
  translatePage();
  renderAlert();
  $("alert").hidden = false;
  if (navigator.vibrate) navigator.vibrate([600, 200, 600, 200, 600]);
  beep();
  clearInterval(beeper);
  beeper = setInterval(beep, 2000);
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    navigator.serviceWorker?.ready
      .then((reg) =>
        reg.showNotification(t("newAlert"), {
          body: `${t("cat_" + frame.incident.category)} · ${frame.incident.address}`,
          tag: "alert-" + frame.alert_id,
          requireInteraction: true,
        }),
      )
      .catch(() => {});
  }
}

export function hideAlert() {
  S.alert = null;
  $("alert").hidden = true;
  clearInterval(beeper);
  if (navigator.vibrate) navigator.vibrate(0);
}

// Called from a tap (the login button): browsers allow sound and notifications only after a
// gesture.
export function unlockAlerts() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
  } catch {
    audio = null;
  }
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = 880;
    gain.gain.value = 0.25;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.frequency.setValueAtTime(660, audio.currentTime + 0.25);
    osc.stop(audio.currentTime + 0.5);
  } catch {
    /* no audio on this device */
  }
}
