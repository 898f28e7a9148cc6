// The Leaflet base map both pages draw on (Leaflet is the global L, loaded before the modules).
import { CONFIG } from "./config.js";
import { displayLatLng } from "./geo.js";

// WGS-84 to the tiles' display coordinates (shifted on GCJ-02 tiles).
export function ll(lat, lon) {
  return displayLatLng(CONFIG.tileCrs, lat, lon);
}

// A map centred on the configured city with the configured tiles; tileEvents are bound before
// the first tile is requested.
export function baseMap(id, options = {}, tileEvents = {}) {
  const map = L.map(id, options).setView(ll(...CONFIG.center), CONFIG.zoom);
  L.tileLayer(CONFIG.tileUrl, { attribution: CONFIG.tileAttribution, maxZoom: CONFIG.maxZoom })
    .on(tileEvents)
    .addTo(map);
  map.attributionControl.setPrefix(false);
  return map;
}
