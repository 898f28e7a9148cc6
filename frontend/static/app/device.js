// The phone itself: its GPS fixes (shown, and posted at most every 15 s), the heartbeat the
// command map reads (battery, queue, GPS age, app version), and keeping the screen on.
import { CONFIG } from "../common/config.js";
import { renderAlert } from "./alert.js";
import { api } from "./api.js";
import { renderBar, renderIncident } from "./screens.js";
import { S, refreshQueue, unitId } from "./state.js";

const POSITION_EVERY_MS = 15000;
let wakeLock = null;

export function startGeolocation() {
  if (!("geolocation" in navigator)) return;
  navigator.geolocation.watchPosition(
    (pos) => {
      S.position = {
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        accuracy: pos.coords.accuracy,
        at: pos.timestamp || Date.now(),
      };
      renderBar();
      renderIncident();
      if (S.alert) renderAlert();
      maybeSendPosition();
    },
    () => renderBar(),
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 },
  );
}

async function maybeSendPosition() {
  const p = S.position;
  if (!p || !unitId() || !navigator.onLine) return;
  if (Date.now() - S.lastPostAt < POSITION_EVERY_MS) return;
  S.lastPostAt = Date.now();
  try {
    await api(`/api/units/${unitId()}/position/`, {
      method: "POST",
      body: {
        lat: p.lat,
        lon: p.lon,
        accuracy_m: p.accuracy ?? null,
        recorded_at: new Date(p.at).toISOString(),
      },
    });
  } catch {
    /* positions are not queued: the next fix supersedes this one */
  }
}

export async function heartbeat() {
  if (!unitId() || !navigator.onLine) return;
  let battery = null;
  try {
    if (navigator.getBattery) battery = (await navigator.getBattery()).level;
  } catch {
    battery = null;
  }
  await refreshQueue();
  try {
    await api(`/api/units/${unitId()}/health/`, {
      method: "POST",
      body: {
        app_version: CONFIG.version,
        notification_permission: "Notification" in window ? Notification.permission : "unsupported",
        battery_level: battery,
        gps_fix_age_s: S.position ? Math.round((Date.now() - S.position.at) / 1000) : null,
        queue_length: S.queued.length,
      },
    });
  } catch {
    /* the next beat will do */
  }
}

export async function keepAwake() {
  if (!("wakeLock" in navigator) || document.visibilityState !== "visible") return;
  if (wakeLock && !wakeLock.released) return;
  try {
    wakeLock = await navigator.wakeLock.request("screen");
  } catch {
    wakeLock = null;
  }
}
