// The patrol app's service worker, served from /app/sw.js (scope /app/) by apps/common/frontend.py,
// which fills in VERSION (a hash of the app's files) and PRECACHE (the shell, every file under
// static/app and static/common, and Leaflet): a new module needs no entry here.
//
// Update flow: a new version installs into its own cache and then WAITS; the page shows "update
// available" and, when the crew taps it, asks this worker to take over (SKIP_WAITING), then
// reloads. Until then the old worker keeps serving the old version whole from the old cache, and
// old caches are deleted only when a new worker activates: no version is ever mixed or stranded.
const VERSION = "__VERSION__";
const PRECACHE = "__PRECACHE__";
const CACHE = "cad-app-" + VERSION;
const TILE_CACHE = "cad-tiles";
const TILE_LIMIT = 400;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((k) => k.startsWith("cad-app-") && k !== CACHE).map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  // ignoreVary: the shell varies by Accept-Language, static files by Accept-Encoding.
  return cache.match(request, { ignoreSearch: request.mode === "navigate", ignoreVary: true });
}

async function tile(request) {
  const cache = await caches.open(TILE_CACHE);
  const hit = await cache.match(request);
  const fetching = fetch(request)
    .then(async (response) => {
      if (response.ok || response.type === "opaque") {
        await cache.put(request, response.clone());
        const keys = await cache.keys();
        if (keys.length > TILE_LIMIT) await cache.delete(keys[0]);
      }
      return response;
    })
    .catch(() => hit || Response.error());
  return hit || fetching;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin === self.location.origin) {
    if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/ws/")) return; // network only
    if (request.mode === "navigate" && url.pathname.startsWith("/app")) {
      // The shell of this version; the network only when it is not cached yet.
      event.respondWith(fromCache(new Request("/app/")).then((hit) => hit || fetch(request)));
      return;
    }
    event.respondWith(fromCache(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.destination === "image") event.respondWith(tile(request));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((list) => {
      for (const client of list) if ("focus" in client) return client.focus();
      return self.clients.openWindow("/app/");
    }),
  );
});
