// Keeps the console's pages loadable with no network: the shell is cached at install, pages and
// assets are fetched network-first (so a deployment reaches staff at once) and fall back to the
// cache when the network is gone or slow. API calls are never cached here: the scanner keeps its
// own data (offline pack, queue) in IndexedDB.
// Every module of both pages is listed (tests/api/test_console_api.py holds the list to the files):
// one missing would leave the page without it offline. A new name for the cache drops files gone.
const CACHE = "micromall-console-v7";
const SHELL = [
  "./", "./scanner", "./assets/console.css", "./assets/api.js", "./assets/console.js", "./assets/charts.js",
  "./assets/widgets.js", "./assets/pages/dashboard.js", "./assets/pages/products.js", "./assets/pages/inventory.js",
  "./assets/pages/orders.js", "./assets/pages/refunds.js", "./assets/pages/after-sales.js",
  "./assets/after-sales-words.js", "./assets/pages/alerts.js", "./assets/pages/reports.js",
  "./assets/pages/reconciliation.js", "./assets/pages/audit.js", "./assets/pages/staff.js",
  "./assets/pages/coupons.js", "./assets/pages/coupon-form.js", "./assets/pages/promotions.js",
  "./assets/pages/member-tiers.js", "./assets/pages/sessions.js", "./assets/pages/notifications.js",
  "./assets/message-words.js", "./assets/money.js", "./assets/offers.js",
  "./assets/scanner.js", "./assets/gate-rule.js", "./assets/gate-codes.js", "./assets/gate-store.js",
  "./assets/gate-sync.js", "./assets/gate-camera.js", "./assets/gate-conflicts.js", "./assets/venue-time.js",
  "./assets/noble-ed25519-2.3.0.js", "./assets/jsqr-1.4.0.js", "./assets/echarts-5.6.0.common.min.js",
];
const SCOPE = new URL("./", self.location).pathname;     // /<stage>/console/
const NETWORK_WAIT_MS = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function fromNetwork(request) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("slow network")), NETWORK_WAIT_MS);
    fetch(request).then((response) => { clearTimeout(timer); resolve(response); },
                        (error) => { clearTimeout(timer); reject(error); });
  });
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!(url.pathname === SCOPE.slice(0, -1) || url.pathname.startsWith(SCOPE))) return;
  event.respondWith((async () => {
    try {
      const response = await fromNetwork(event.request);
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(event.request, copy));
      }
      return response;
    } catch (error) {
      const cached = await caches.match(event.request, { ignoreSearch: true });
      if (cached) return cached;
      throw error;
    }
  })());
});
