// Server rendering: the view the server priced, rendered to HTML, and embedded for hydration.
import { StrictMode } from "react";
import { renderToString } from "react-dom/server";
import { Cart } from "wasm-cart";
import { CartProvider, serializeView } from "wasm-cart/react";
import { App } from "./App";
import { cartOptions } from "./catalog";

export function render(): { html: string; view: string } {
  const cart = Cart.open({ ...cartOptions, storage: "memory" });
  const view = cart.addItem({ productId: "tea", quantity: 1 });
  const html = renderToString(
    <StrictMode>
      <CartProvider serverView={view}>
        <App />
      </CartProvider>
    </StrictMode>,
  );
  cart.free();
  return { html, view: serializeView(view) };
}
