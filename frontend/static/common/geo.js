// Small geometry helpers shared by the patrol app and the command map.
import { wgs84ToGcj02 } from "./gcj02.js";

const R = 6371008.8;

export function haversineM(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const dp = (lat2 - lat1) * rad;
  const dl = (lon2 - lon1) * rad;
  const a =
    Math.sin(dp / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

export function formatDistance(m) {
  if (m == null || !isFinite(m)) return "–";
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(m < 10000 ? 1 : 0)} km`;
}

export function formatDuration(s) {
  const sign = s < 0 ? "-" : "";
  s = Math.abs(Math.floor(s));
  const m = Math.floor(s / 60);
  return `${sign}${m}:${String(s % 60).padStart(2, "0")}`;
}

// Positions are WGS-84; on GCJ-02 tiles they are shifted for display only.
export function displayLatLng(crs, lat, lon) {
  return crs === "gcj02" ? wgs84ToGcj02(lat, lon) : [lat, lon];
}

// The inverse of displayLatLng: a point picked on the map (display coordinates) as WGS-84.
// On GCJ-02 tiles a few fixed-point steps bring the error far below a metre.
export function wgs84FromDisplay(crs, lat, lon) {
  if (crs !== "gcj02") return [lat, lon];
  let [wLat, wLon] = [lat, lon];
  for (let i = 0; i < 4; i += 1) {
    const [gLat, gLon] = wgs84ToGcj02(wLat, wLon);
    wLat -= gLat - lat;
    wLon -= gLon - lon;
  }
  return [wLat, wLon];
}
