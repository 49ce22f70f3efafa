// A module Worker using the package as a bundler or a page would (the `default` export condition:
// `init()` fetches the .wasm next to the glue). Workers have no localStorage: the cart is opened with
// the default options, then with memory storage, and the answers go back to the page.
import init, { Cart, isCartError } from "/pkg/wasm_cart.js";

const catalog = {
  taxCategories: [{ id: "std", rates: [{ country: "DE", rate: "0.19", name: "MwSt 19%" }] }],
  products: [{ id: "mug", sku: "MUG", name: "Mug", taxCategory: "std", prices: [{ currency: "EUR", amount: "9.99" }] }],
};

self.onmessage = async ({ data }) => {
  await init();
  const answer = {};
  try {
    const cart = Cart.open({ catalog, currency: "EUR", country: "DE" });
    answer.defaultOptions = { total: cart.addItem(data).totals.total, persistence: cart.persistence };
  } catch (e) {
    answer.defaultOptions = { code: isCartError(e) ? e.code : String(e) };
  }
  const cart = Cart.open({ catalog, storage: "memory", currency: "EUR", country: "DE" });
  const view = cart.addItem(data);
  answer.memory = { total: view.totals.total, lines: view.lineItems.length, frozen: Object.isFrozen(view.lineItems[0]) };
  try {
    cart.changeQuantity(view.lineItems[0].id, -1);
  } catch (e) {
    answer.memory.error = isCartError(e) ? e.code : String(e);
  }
  self.postMessage(answer);
};
