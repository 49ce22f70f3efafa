// wasm-cart/react: the cart in React, with server rendering and hydration that match.
//
//   <CartProvider options={{ catalog, currency: "EUR" }} serverView={viewFromTheServer}>
//     <App />
//   </CartProvider>
//   const total = useCart((view) => view?.totals.total);
//   const cart = useCartInstance(); // cart?.addItem({ productId, quantity: 1 })
//
// The provider opens the cart in an effect, after the first render: the server and the hydrating
// client both render `serverView` (or `null`), so their HTML is the same; then the live cart (from
// localStorage) takes over. `useCart` is `useSyncExternalStore` over `cart.subscribe` / `cart.view()`,
// whose views are frozen and keep the objects of unchanged lines, so selectors and `React.memo` can
// compare by identity. React is a peer dependency; the package's main entry never imports it.
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import init, { Cart } from "wasm-cart";

export { formatMoney } from "./format.js";

const Context = createContext(null);

/**
 * Gives its children a cart: `cart` (one you opened and free yourself), or `options` (opened here with
 * `Cart.open(options)` once mounted — after `init()`, which it awaits itself — and freed when
 * unmounted; the options are read when the cart opens, later changes are ignored). `serverView` is
 * what the server rendered (see `serializeView`); `null` without one. An error opening the cart
 * (`INVALID_CATALOG`, …) is thrown from the provider's render, for an error boundary to catch.
 */
export function CartProvider({ cart = null, options, serverView = null, children }) {
  const [opened, setOpened] = useState(null);
  const [, setFailure] = useState(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const wanted = !cart && options !== undefined;
  useEffect(() => {
    if (!wanted) return undefined;
    let own = null;
    let mounted = true;
    init()
      .then(() => {
        if (!mounted) return;
        own = Cart.open(optionsRef.current);
        setOpened(own);
      })
      .catch((error) => mounted && setFailure(() => { throw error; }));
    return () => {
      mounted = false;
      setOpened(null);
      own?.free();
    };
  }, [wanted]);
  // The same object while nothing changed, so that memoised consumers are not re-rendered by it.
  const live = cart ?? opened;
  const value = useMemo(() => ({ cart: live, serverView }), [live, serverView]);
  return createElement(Context.Provider, { value }, children);
}

function useCartContext(hook) {
  const context = useContext(Context);
  if (!context) throw new Error(`${hook} must be used inside <CartProvider>`);
  return context;
}

const identity = (view) => view;
const nothing = () => () => {};

/**
 * The cart's view, or what `selector(view)` picks from it; re-renders when that changes. Before the
 * cart is open (on the server, while hydrating) the view is the provider's `serverView` or `null`.
 * A selector may build a new object: its result is kept for as long as the view is the same.
 */
export function useCart(selector = identity) {
  const { cart, serverView } = useCartContext("useCart");
  const memo = useRef({ view: undefined, selector: undefined, selected: undefined });
  const select = (view) => {
    const m = memo.current;
    if (m.view !== view || m.selector !== selector) {
      memo.current = { view, selector, selected: selector(view) };
    }
    return memo.current.selected;
  };
  const subscribe = useCallback((onChange) => (cart ? cart.subscribe(() => onChange()) : nothing()), [cart]);
  const live = () => select(cart ? cart.view() : serverView);
  return useSyncExternalStore(subscribe, live, () => select(serverView));
}

/** The open `Cart` (to call `addItem`, `applyCode`, `checkout`…), or `null` before it is open. */
export function useCartInstance() {
  return useCartContext("useCartInstance").cart;
}

/**
 * The view (or `null`) as JSON for the page the server sends (a `<script type="application/json">` element, or your
 * framework's props): `<` is escaped so that the text cannot close the element.
 */
export function serializeView(view) {
  return JSON.stringify(view).replace(/</g, "\\u003c");
}
