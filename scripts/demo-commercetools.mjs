// `make demo RELAY=commercetools`: the storefront on http://127.0.0.1:8080 with cart-server relaying every
// checkout to a commercetools emulator (@labdigital/commercetools-mock) on http://127.0.0.1:8090,
// seeded from the demo catalog. Each order that lands there is printed; the emulator's own API shows
// them too: curl http://127.0.0.1:8090/wasm-cart/orders
//
// The emulator never applies cart discounts and leaves shipping out of its totals (docs/sync.md), so
// orders with a code, an automatic promotion or shipping end in PRICE_CHANGED: plans, add-ons and
// licences go through.
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CommercetoolsMock } from "@labdigital/commercetools-mock";
import { PROJECT, seedFromCatalog, api } from "../tests/platforms/commercetools.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const catalog = JSON.parse(fs.readFileSync(path.join(root, "server/catalog/demo.json"), "utf8"));
const mock = new CommercetoolsMock({ defaultProjectKey: PROJECT, enableAuthentication: true, validateCredentials: false, silent: true });
await mock.app.listen({ port: 8090, host: "127.0.0.1" });
const ct = "http://127.0.0.1:8090";
const admin = await seedFromCatalog(ct, catalog);

const dir = path.join(root, "target/demo");
fs.mkdirSync(dir, { recursive: true });
const relay = path.join(dir, "relay-commercetools.json");
fs.writeFileSync(relay, JSON.stringify({
  protocol: "commercetools",
  endpoint: `${ct}/${PROJECT}`,
  auth: { type: "commercetools-anonymous", authUrl: ct, projectKey: PROJECT, clientId: "demo", clientSecret: "${CT_CLIENT_SECRET}" },
}, null, 2));
const server = spawn(path.join(root, "target/release/cart-server"), [
  "--addr", "127.0.0.1:8080", "--db", path.join(dir, "relay-cart.db"), "--catalog", path.join(root, "server/catalog/demo.json"),
  "--static", path.join(root, "www"), "--pkg", path.join(root, "pkg"), "--relay", relay,
], { stdio: "inherit", env: { ...process.env, CT_CLIENT_SECRET: "demo-secret" } });
console.log(`commercetools emulator on ${ct} (project ${PROJECT}); storefront on http://127.0.0.1:8080`);

const seen = new Set();
const timer = setInterval(async () => {
  const orders = await api(ct, admin, "GET", "/orders?limit=100").catch(() => ({ results: [] }));
  for (const o of orders.results.filter((o) => !seen.has(o.id))) {
    seen.add(o.id);
    const lines = o.lineItems.map((l) => `${l.quantity}x ${l.variant.sku}`).join(", ");
    console.log(`order landed in commercetools: ${o.orderNumber} ${(o.totalPrice.centAmount / 100).toFixed(2)} ${o.totalPrice.currencyCode} (${lines})`);
  }
}, 1000);
const stop = () => {
  clearInterval(timer);
  server.kill("SIGTERM");
  mock.app.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
server.on("exit", (code) => {
  clearInterval(timer);
  mock.app.close().then(() => process.exit(code ?? 0));
});
