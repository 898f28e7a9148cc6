// The service worker and its update flow: a new version waits until the crew taps the banner,
// then takes over and the page reloads (see sw.js).
import { CONFIG } from "../common/config.js";
import { $ } from "../common/dom.js";
import { t } from "./i18n.js";

export function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  let updating = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Reload only for the update the crew asked for; a first install just takes control.
    if (!updating) return;
    updating = false;
    location.reload();
  });
  navigator.serviceWorker
    .register(CONFIG.swUrl, { scope: "/app/" })
    .then((reg) => {
      const offer = (worker) => {
        if (!worker || !navigator.serviceWorker.controller) return;
        const banner = $("update");
        banner.textContent = t("updateReady");
        banner.hidden = false;
        banner.onclick = () => {
          updating = true;
          worker.postMessage({ type: "SKIP_WAITING" });
        };
      };
      if (reg.waiting) offer(reg.waiting);
      reg.addEventListener("updatefound", () => {
        const worker = reg.installing;
        worker?.addEventListener("statechange", () => {
          if (worker.state === "installed") offer(worker);
        });
      });
      setInterval(() => reg.update().catch(() => {}), 30 * 60 * 1000);
    })
    .catch(() => {});
}
