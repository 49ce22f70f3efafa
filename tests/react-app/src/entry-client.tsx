import { StrictMode } from "react";
import { hydrateRoot } from "react-dom/client";
import type { CartView } from "wasm-cart";
import { CartProvider } from "wasm-cart/react";
import { App } from "./App";
import { cartOptions } from "./catalog";

const embedded = document.getElementById("cart-view")?.textContent;
const serverView = embedded ? (JSON.parse(embedded) as CartView) : null;
const root = document.getElementById("root");
if (root) {
  hydrateRoot(
    root,
    <StrictMode>
      <CartProvider options={cartOptions} serverView={serverView}>
        <App />
      </CartProvider>
    </StrictMode>,
  );
}
