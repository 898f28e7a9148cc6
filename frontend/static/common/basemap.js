// The Leaflet base map both pages draw on (Leaflet is the global L, loaded before the modules).
//
// Tiles come from the local network only: the project's own /tiles/ (MAP_TILES_FILE) or an
// intranet tile service (MAP_TILE_URL). With neither, drawVectorBase() draws the gazetteer's
// roads and places (GET /api/map/base/) as the base map, on a plain ground.
import { CONFIG } from "./config.js";
import { displayLatLng } from "./geo.js";

// WGS-84 to the tiles' display coordinates (shifted on GCJ-02 tiles).
export function ll(lat, lon) {
  return displayLatLng(CONFIG.tileCrs, lat, lon);
}

// A map centred on the configured city with the configured tiles, if any; tileEvents are bound
// before the first tile is requested. Its zoom buttons (unless options.zoomControl is false) say
// their titles in the page's language.
export function baseMap(id, options = {}, tileEvents = {}) {
  const map = L.map(id, { ...options, zoomControl: false }).setView(ll(...CONFIG.center), CONFIG.zoom);
  if (options.zoomControl !== false) {
    L.control.zoom({ zoomInTitle: CONFIG.zoomInTitle, zoomOutTitle: CONFIG.zoomOutTitle }).addTo(map);
  }
  if (CONFIG.tileUrl) {
    L.tileLayer(CONFIG.tileUrl, { attribution: CONFIG.tileAttribution, maxZoom: CONFIG.maxZoom })
      .on(tileEvents)
      .addTo(map);
  } else {
    map.getContainer().classList.add("vector-base");
  }
  map.attributionControl.setPrefix(false);
  return map;
}

export function hasTiles() {
  return Boolean(CONFIG.tileUrl);
}

const LABEL_ZOOM = { road: 15, place: 16 };
const PLACE_COLOURS = { landmark: "#6d4c41", poi: "#5e35b1", community: "#2e7d32", building: "#455a64" };

// A GeoJSON FeatureCollection (WGS-84) in the tiles' display coordinates, for L.geoJSON.
export function displayGeoJSON(geojson) {
  if (CONFIG.tileCrs !== "gcj02") return geojson;
  const conv = (c) =>
    typeof c[0] === "number" ? ((p) => [p[1], p[0]])(ll(c[1], c[0])) : c.map(conv);
  return {
    ...geojson,
    features: geojson.features.map((f) => ({
      ...f,
      geometry: { ...f.geometry, coordinates: conv(f.geometry.coordinates) },
    })),
  };
}

function label(at, text, cls) {
  return L.marker(at, {
    interactive: false,
    keyboard: false,
    icon: L.divIcon({ className: `base-label ${cls}`, html: "<span></span>", iconSize: null }),
  }).on("add", function () {
    this.getElement().firstChild.textContent = text; // text, never HTML
  });
}

// Draw the base layer (roads with casing, named places) under everything else; labels appear
// from a zoom where they do not crowd each other.
export function drawVectorBase(map, base) {
  if (!map.getPane("base")) {
    map.createPane("base").style.zIndex = 250; // above the ground, below Leaflet's overlays
  }
  const roads = base.roads ? displayGeoJSON(base.roads).features : [];
  const places = base.places ? displayGeoJSON(base.places).features : [];
  const casing = L.layerGroup();
  const fill = L.layerGroup();
  const roadLabels = L.layerGroup();
  for (const f of roads) {
    if (!f.geometry || f.geometry.type !== "LineString") continue;
    const line = L.GeoJSON.coordsToLatLngs(f.geometry.coordinates);
    L.polyline(line, { pane: "base", className: "base-casing", color: "#b9b2a6", weight: 9, interactive: false }).addTo(casing);
    L.polyline(line, { pane: "base", className: "base-road", color: "#ffffff", weight: 6 })
      .bindTooltip(f.properties.name, { sticky: true })
      .addTo(fill);
    // The label at the middle of the line (a two-point road: between its ends).
    const at = line.length === 2 ? L.latLngBounds(line).getCenter() : line[Math.floor(line.length / 2)];
    label(at, f.properties.name, "road").addTo(roadLabels);
  }
  const dots = L.layerGroup();
  const placeLabels = L.layerGroup();
  for (const f of places) {
    const at = L.GeoJSON.coordsToLatLng(f.geometry.coordinates);
    L.circleMarker(at, {
      pane: "base",
      className: "base-place",
      radius: 4,
      weight: 1,
      color: "#fff",
      fillColor: PLACE_COLOURS[f.properties.kind] || "#555",
      fillOpacity: 1,
    })
      .bindTooltip(f.properties.name)
      .addTo(dots);
    label(at, f.properties.name, "place").addTo(placeLabels);
  }
  [casing, fill, dots].forEach((g) => g.addTo(map));
  const showLabels = () => {
    const z = map.getZoom();
    const toggle = (group, min) =>
      z >= min ? group.addTo(map) : map.removeLayer(group);
    toggle(roadLabels, LABEL_ZOOM.road);
    toggle(placeLabels, LABEL_ZOOM.place);
  };
  map.on("zoomend", showLabels);
  showLabels();
}
