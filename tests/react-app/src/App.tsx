// The cart through wasm-cart/react only: the hook for what is shown, the instance for changes.
import { memo, useState } from "react";
import { formatMoney, useCart, useCartInstance } from "wasm-cart/react";
import type { CartView, LineView } from "wasm-cart";

const Line = memo(function Line({ line, view }: { line: LineView; view: CartView }) {
  const cart = useCartInstance();
  return (
    <li data-line={line.productId}>
      <span className="name">{line.name}</span> × <span className="quantity">{line.quantity}</span>{" "}
      <span className="total">{formatMoney(line.total, view)}</span>
      <button type="button" className="more" disabled={!cart} onClick={() => cart?.changeQuantity(line.id, line.quantity + 1)}>+</button>
      <button type="button" className="remove" disabled={!cart} onClick={() => cart?.removeItem(line.id)}>Remove</button>
    </li>
  );
});

export function App() {
  const view = useCart();
  const count = useCart((v) => v?.lineItems.reduce((n, l) => n + l.quantity, 0) ?? 0);
  const cart = useCartInstance();
  const [error, setError] = useState<string | null>(null);
  const act = (change: () => unknown) => {
    try {
      change();
      setError(null);
    } catch (e) {
      setError((e as { code?: string }).code ?? String(e));
    }
  };
  return (
    <main>
      <h1>Cart (<span id="count">{count}</span>)</h1>
      <p id="ready">{cart ? "live" : "server"}</p>
      <button type="button" id="add-mug" disabled={!cart} onClick={() => act(() => cart?.addItem({ productId: "mug", quantity: 1 }))}>Add mug</button>
      <button type="button" id="add-tea" disabled={!cart} onClick={() => act(() => cart?.addItem({ productId: "tea", quantity: 2 }))}>Add tea</button>
      <button type="button" id="code" disabled={!cart} onClick={() => act(() => cart?.applyCode("SAVE1"))}>Apply SAVE1</button>
      <ul id="lines">{view?.lineItems.map((line) => <Line key={line.id} line={line} view={view} />)}</ul>
      <p id="total">{view ? formatMoney(view.totals.total, view) : "–"}</p>
      {error && <p id="error">{error}</p>}
    </main>
  );
}
