// Loaded as a module by platform.html (no inline script: cart-server's CSP forbids it).
// A storefront page of tests/e2e/platforms.test.mjs: the package checks out browser-direct to a platform
// on another origin, so every request goes through the browser's real CORS checks.
import init, { Cart } from "/pkg/wasm_cart.js";

await init();
window.checkout = async ({ catalog, items, customer, address, code, options }) => {
  const cart = Cart.open({ catalog, storageKey: `platform-${Date.now()}`, currency: "EUR", country: "DE" });
  for (const item of items) cart.addItem(item);
  cart.setCustomer(customer);
  let shown = cart.setShippingAddress(address);
  if (code) shown = cart.applyCode(code);
  try {
    const order = await cart.checkout(options);
    return { ok: true, order, total: shown.totals.total };
  } catch (e) {
    return { ok: false, code: e.code, message: e.message, details: e.details, total: shown.totals.total };
  }
};
document.getElementById("state").textContent = "ready";
