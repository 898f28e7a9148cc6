// The app's map: the unit's own position (with its accuracy), the incident it works, and the
// straight line between them with the distance.
import { $ } from "../common/dom.js";
import { baseMap, drawVectorBase, hasTiles, ll } from "../common/basemap.js";
import { api } from "./api.js";
import { formatDistance } from "../common/geo.js";
import { S, incidentDistance, openIncident } from "./state.js";

let map = null;
let layers = {};
let sheetHeight = 0;

export function initMap() {
  if (map || typeof L === "undefined") return;
  let loaded = 0;
  let failed = 0;
  map = baseMap(
    "map",
    { zoomControl: false },
    {
      tileload: () => {
        loaded += 1;
        $("tiles-failed").hidden = true;
      },
      tileerror: () => {
        failed += 1;
        if (failed >= 2 && loaded === 0) $("tiles-failed").hidden = false;
      },
    },
  );
  if (!hasTiles()) loadVectorBase();
}

// No tile source on this network: the gazetteer's roads and places are the base map. The last
// copy is kept on the phone, so the map is readable when the app starts in a dead zone.
const BASE_KEY = "cad-map-base";

async function loadVectorBase() {
  let base = null;
  try {
    base = await api("/api/map/base/");
    try {
      localStorage.setItem(BASE_KEY, JSON.stringify(base));
    } catch {
      /* storage full: draw without keeping a copy */
    }
  } catch {
    try {
      base = JSON.parse(localStorage.getItem(BASE_KEY) || "null");
    } catch {
      base = null;
    }
  }
  if (base) drawVectorBase(map, base);
}

// The map's container changes size when the app screen is shown.
export function resizeMap() {
  map.invalidateSize();
}

export function renderMap() {
  if (!map) return;
  // The sheet grows and shrinks with the incident: keep Leaflet's idea of the map size right.
  const h = $("sheet").offsetHeight;
  if (h !== sheetHeight) {
    sheetHeight = h;
    map.invalidateSize();
    layers.fitted = false;
  }
  const me = S.position;
  const inc = openIncident();
  if (me) {
    const p = ll(me.lat, me.lon);
    if (!layers.me) {
      layers.me = L.circleMarker(p, { radius: 9, color: "#fff", weight: 3, fillColor: "#1565ff", fillOpacity: 1 }).addTo(map);
      layers.acc = L.circle(p, { radius: me.accuracy || 0, weight: 1, color: "#1565ff", fillOpacity: 0.1 }).addTo(map);
    }
    layers.me.setLatLng(p);
    layers.acc.setLatLng(p).setRadius(me.accuracy || 0);
  }
  const incId = inc ? inc.id : null;
  if (layers.incId !== incId) {
    for (const name of ["inc", "line"]) if (layers[name]) layers[name].remove();
    layers.inc = layers.line = null;
    layers.incId = incId;
    layers.fitted = false;
  }
  if (inc && inc.location) {
    const p = ll(inc.location.lat, inc.location.lon);
    if (!layers.inc) {
      layers.inc = L.circleMarker(p, { radius: 13, color: "#fff", weight: 3, fillColor: "#d00018", fillOpacity: 1 }).addTo(map);
    }
    if (me) {
      const pts = [ll(me.lat, me.lon), p];
      const label = formatDistance(incidentDistance(inc));
      if (!layers.line) {
        layers.line = L.polyline(pts, { color: "#d00018", weight: 4, dashArray: "8 8" }).addTo(map);
        layers.line.bindTooltip(label, { permanent: true, direction: "center" });
      }
      layers.line.setLatLngs(pts).setTooltipContent(label);
      if (!layers.fitted) {
        map.fitBounds(L.latLngBounds(pts), { padding: [40, 40], maxZoom: 17 });
        layers.fitted = true;
      }
    } else if (!layers.fitted) {
      map.setView(p, 16);
      layers.fitted = true;
    }
  } else if (me && !layers.centred) {
    map.setView(ll(me.lat, me.lon), 16);
    layers.centred = true;
  }
}
