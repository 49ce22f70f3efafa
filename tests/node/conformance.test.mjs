// Runs every conformance vector (../shared/conformance/README.md) through the JavaScript API of the
// built package (pkg/, `make pkg`): the wasm build must price exactly like the native engine.
// The folder is $CONFORMANCE_DIR, else ../shared/conformance beside the checkout; missing or empty fails.
//
//   node --test tests/node/
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { vectorFolders as dirs, vectorsIn, vectorFiles as files } from "./vectors.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = path.join(root, "pkg");
const { initSync, Cart, isCartError } = await import(path.join(pkg, "wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(pkg, "wasm_cart_bg.wasm")) });


for (const dir of dirs) {
  test(`the folder ${path.basename(dir)} has vectors`, () => {
    assert.ok(fs.existsSync(dir), `vector folder ${dir} is missing`);
    assert.ok(vectorsIn(dir).length > 0, `no conformance vector (*.json) in ${dir}`);
  });
}

/** Objects match when every listed key matches; arrays by length and element; scalars exactly. */
function partialMatch(expected, actual, at) {
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    assert.ok(actual !== null && typeof actual === "object" && !Array.isArray(actual), `${at}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [key, value] of Object.entries(expected)) {
      assert.ok(key in actual, `${at}.${key}: missing, expected ${JSON.stringify(value)}`);
      partialMatch(value, actual[key], `${at}.${key}`);
    }
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${at}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${at}: expected ${expected.length} elements, got ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => partialMatch(e, actual[i], `${at}[${i}]`));
  } else {
    assert.deepEqual(actual, expected, `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

for (const file of files) {
  test(`conformance: ${path.relative(root, file)}`, () => {
    const vector = JSON.parse(fs.readFileSync(file, "utf8"));
    const now = Date.parse(vector.now);
    assert.ok(Number.isFinite(now), "missing or bad `now`");
    const { error: expectedError, ...expect } = vector.expect ?? {};
    const expectedCode = expectedError?.code;

    let cart;
    try {
      cart = Cart.open({
        catalog: vector.catalog,
        storage: "memory",
        currency: vector.cart.currency,
        country: vector.cart.country,
        locale: vector.cart.locale,
        customerGroup: vector.cart.customerGroup,
        now: () => now,
      });
    } catch (e) {
      assert.ok(isCartError(e), `open threw a non-CartError: ${e}`);
      assert.ok(e instanceof Error);
      assert.equal(e.code, expectedCode ?? "(no error)", `open refused: ${e.code} ${e.message}`);
      assert.equal(e.code, "INVALID_CATALOG");
      return;
    }
    assert.notEqual(expectedCode, "INVALID_CATALOG", "expected INVALID_CATALOG, the catalog was accepted");

    let refusal = null;
    for (const [i, step] of (vector.actions ?? []).entries()) {
      try {
        cart.apply(Array.isArray(step) ? step : [step]);
      } catch (e) {
        assert.ok(isCartError(e) && e instanceof Error, `step ${i} threw a non-CartError: ${e}`);
        assert.equal(typeof e.details, "object");
        refusal = { i, e };
        break;
      }
    }
    if (expectedCode === undefined) {
      assert.equal(refusal, null, refusal && `step ${refusal.i} refused unexpectedly: ${refusal.e.code} ${refusal.e.message}`);
    } else {
      assert.ok(refusal, `expected a refusal with ${expectedCode}; every step succeeded`);
      assert.equal(refusal.e.code, expectedCode, `expected ${expectedCode}, step ${refusal.i} was refused with ${refusal.e.code}`);
    }
    partialMatch(expect, cart.view(), "$");
    cart.free();
  });
}
