// Service worker: the page, its files, the wasm package and the catalog stay available offline.
//
// cart-server serves the page's files under a content version (`/v/<version>/www/…`, immutable, see
// docs/server.md "Caching"); the page registers this worker with the folder its own files came from
// (`sw.js?assets=…`), so a deploy installs a new worker with a new cache and the old cache goes when it
// activates. A shopper never runs an engine older than the page the server sends.
// - navigations: network first (a deploy shows at the next load), the cached page when offline;
// - versioned files: cache first (what is under a version never changes);
// - other files and the catalog: network first, the cached copy when offline;
// - orders (POST) are never cached: the page queues them itself while offline.
const asked = new URL(new URL(location.href).searchParams.get("assets") || "./", location.href);
const ASSETS = asked.origin === location.origin ? asked : new URL("./", location.href);
const PREFIX = "wasm-cart-demo:";
const CACHE = PREFIX + ASSETS.pathname;
const FILES = ["style.css", "app.js", "format.js", "products.js", "cart-view.js", "confirmation.js", "manifest.webmanifest",
  "../pkg/wasm_cart.js", "../pkg/wasm_cart_bg.wasm"];
const PAGE = new URL("./", location.href).href;
const SHELL = [PAGE, ...FILES.map((file) => new URL(file, ASSETS).href)];

const PACKAGE = new URL("../pkg/wasm_cart.js", ASSETS).href;
const CATALOG = new URL("/api/v1/catalog", location.href).href;

// The first visit is not controlled by the worker yet: everything an offline start needs is fetched
// here — the shell, the modules the package's script imports (a content-hashed `snippets/` path), the
// catalog and the product pictures it names.
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL).then(() => Promise.all([packageImports(cache), catalogPictures(cache)])))
    .then(() => self.skipWaiting()));
});

/** The relative imports of the package's script (wasm-bindgen's snippets), cached beside it. */
async function packageImports(cache) {
  const script = await (await cache.match(PACKAGE)).text();
  const paths = [...script.matchAll(/^import [^;]*? from '(\.\/[^']+)';/gm)].map((m) => new URL(m[1], PACKAGE).href);
  await cache.addAll(paths);
}

/** The catalog, and each `metadata.image` it names (relative to the storefront's files). */
async function catalogPictures(cache) {
  const response = await fetch(CATALOG, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  await cache.put(CATALOG, response.clone());
  const catalog = await response.json();
  const pictures = new Set((catalog.products || []).map((p) => p.metadata && p.metadata.image)
    .filter((src) => typeof src === "string" && /^img\/[a-z0-9-]+\.svg$/.test(src)));
  await cache.addAll([...pictures].map((src) => new URL(src, ASSETS).href));
}

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  // What is kept for later is written inside waitUntil, so the worker is not stopped halfway.
  const keep = (response) => event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, response)));
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, keep, PAGE));
  } else if (url.pathname.startsWith("/v/")) {
    event.respondWith(cacheFirst(request, keep));
  } else if (url.pathname.startsWith("/api/v1/catalog") || !url.pathname.startsWith("/api/")) {
    event.respondWith(networkFirst(request, keep));
  }
});

/** The network's answer (kept for later), else the cached one (or `fallback`'s) when offline. */
function networkFirst(request, keep, fallback) {
  return fetch(request).then((response) => {
    if (response.ok) keep(response.clone());
    return response;
  }).catch(() => caches.match(request, { ignoreSearch: true })
    .then((hit) => hit || (fallback && caches.match(fallback)))
    .then((hit) => hit || Response.error()));
}

function cacheFirst(request, keep) {
  return caches.match(request).then((hit) => hit || fetch(request).then((response) => {
    if (response.ok) keep(response.clone());
    return response;
  }));
}
