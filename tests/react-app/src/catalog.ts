// The test shop: two products, a 19 % rate, a code. Shared by the server render and the browser.
import type { Catalog, CartOptions } from "wasm-cart";

export const catalog: Catalog = {
  version: "react-app#1",
  taxCategories: [{ id: "std", rates: [{ country: "DE", rate: "0.19", name: "MwSt 19%" }] }],
  products: [
    { id: "mug", sku: "MUG", name: "Mug", taxCategory: "std", prices: [{ currency: "EUR", amount: "9.99" }] },
    { id: "tea", sku: "TEA", name: "Tea", taxCategory: "std", prices: [{ currency: "EUR", amount: "4.50" }] },
  ],
  promotions: [
    { id: "save1", code: "SAVE1", currency: "EUR", target: { type: "items" }, value: { type: "absolute", amount: "1.00" } },
  ],
};

export const cartOptions: CartOptions = { catalog, storageKey: "react-app", currency: "EUR", country: "DE", locale: "de-DE" };
