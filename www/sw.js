// Service worker: the shell, the wasm package and the catalog stay available offline.
// Shell and package: cache first (versioned by CACHE). Catalog: network first, cache as fallback.
// Orders (POST) are never cached: the page queues them itself while offline.
const CACHE = "wasm-cart-demo-v1";
const SHELL = ["./", "index.html", "style.css", "app.js", "format.js", "products.js", "cart-view.js",
  "manifest.webmanifest", "../pkg/wasm_cart.js", "../pkg/wasm_cart_bg.wasm"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/v1/catalog")) {
    event.respondWith(fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    }).catch(() => caches.match(request).then((hit) => hit || Response.error())));
    return;
  }
  if (url.pathname.startsWith("/api/")) return;
  event.respondWith(caches.match(request, { ignoreSearch: true }).then((hit) => hit || fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  })));
});
