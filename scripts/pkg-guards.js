
// ---- wasm-cart: misuse gets codes (appended by scripts/finish-pkg.mjs) ----
// wasm-bindgen's glue fails with "Cannot read properties of undefined" before `init()` and with "null
// pointer passed to rust" after `free()`. These guards throw a CartError with a stable code instead:
// NOT_INITIALIZED, CART_FREED, and INVALID_REQUEST for `merge` with something that is not a live cart.
// Promise-returning methods reject instead of throwing. `isCartError` and `isCheckoutError` are plain
// JavaScript, so they work before `init()` too.
function wasmCartMisuse(code, message, details) {
  const error = new Error(message);
  error.name = "CartError";
  error.code = code;
  error.details = details ?? {};
  return error;
}

function wasmCartCheck(cart) {
  if (wasm === undefined) {
    return wasmCartMisuse("NOT_INITIALIZED", "wasm-cart is not initialized: await init() (or initSync) first");
  }
  if (cart !== undefined && !cart.__wbg_ptr) {
    return wasmCartMisuse("CART_FREED", "the cart was freed (cart.free()); open it again");
  }
  return null;
}

const WASM_CART_ASYNC = new Set(["checkout", "resumeCheckout"]);

for (const name of Object.getOwnPropertyNames(Cart.prototype)) {
  if (name === "constructor" || name === "free" || name.startsWith("__")) continue;
  const descriptor = Object.getOwnPropertyDescriptor(Cart.prototype, name);
  if (typeof descriptor.value === "function") {
    const method = descriptor.value;
    descriptor.value = WASM_CART_ASYNC.has(name)
      ? function (...args) { const e = wasmCartCheck(this); return e ? Promise.reject(e) : method.apply(this, args); }
      : name === "merge"
        ? function (other, ...rest) {
            const e = wasmCartCheck(this);
            if (e) throw e;
            if (!(other instanceof Cart)) throw wasmCartMisuse("INVALID_REQUEST", "merge: expected a Cart", { field: "other" });
            const freed = wasmCartCheck(other);
            if (freed) throw freed;
            return method.call(this, other, ...rest);
          }
        : function (...args) { const e = wasmCartCheck(this); if (e) throw e; return method.apply(this, args); };
  } else if (typeof descriptor.get === "function") {
    const get = descriptor.get;
    descriptor.get = function () { const e = wasmCartCheck(this); if (e) throw e; return get.call(this); };
  }
  Object.defineProperty(Cart.prototype, name, descriptor);
}

for (const name of ["open", "fromSnapshot"]) {
  const make = Cart[name];
  Cart[name] = function (...args) { const e = wasmCartCheck(); if (e) throw e; return make.apply(this, args); };
}

function wasmCartErrorNamed(value, name) {
  return value !== null && typeof value === "object" && value.name === name && typeof value.code === "string";
}

isCartError = function isCartError(value) {
  return wasmCartErrorNamed(value, "CartError");
};

isCheckoutError = function isCheckoutError(value) {
  return wasmCartErrorNamed(value, "CheckoutError");
};
