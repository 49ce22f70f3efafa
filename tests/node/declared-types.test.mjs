// The package's declarations (pkg/wasm_cart.d.ts) against the conformance vectors (written outside this
// repository) and what the built package returns for them: every catalog against `Catalog`, every action
// against `CartAction`, every view member by member against `CartView`, and every refusal's `details`
// against `CartErrorDetails[code]`, with the TypeScript compiler's own reading of the types.
// A member the engine sends that the types do not declare, a required one it leaves out, or a value of
// another kind fails. (The error types are generated from src/error/details.rs; the view's are written
// by hand: this is what keeps them true.)
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { vectorFiles } from "./vectors.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = path.join(root, "pkg");
const { initSync, Cart, isCartError } = await import(path.join(pkg, "wasm_cart.js"));
initSync({ module: fs.readFileSync(path.join(pkg, "wasm_cart_bg.wasm")) });

const declarations = path.join(pkg, "wasm_cart.d.ts");
const program = ts.createProgram([declarations], { strict: true, exactOptionalPropertyTypes: true, lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.esnext.disposable.d.ts"], types: [] });
const checker = program.getTypeChecker();
const file = program.getSourceFile(declarations);
const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(file)).map((s) => [s.name, s]));
const declared = (name) => checker.getDeclaredTypeOfSymbol(exported.get(name));

const isNullish = (t) => (t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void)) !== 0;

/** What `value` breaks of `type` (empty when it conforms), each problem with its path. */
function mismatches(value, type, at, out = []) {
  // A name the compiler could not resolve reads as `any` too: that is a problem, not a pass.
  if (type.intrinsicName === "error") return (out.push(`${at}: a type the compiler could not resolve`), out);
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return out;
  if (type.isUnion()) {
    if (value === null || value === undefined) {
      if (!type.types.some(isNullish)) out.push(`${at}: ${value} where the type is ${checker.typeToString(type)}`);
      return out;
    }
    // The first member the value satisfies; else the problems of the closest one.
    const tries = type.types.filter((t) => !isNullish(t)).map((t) => mismatches(value, t, at));
    if (!tries.some((p) => p.length === 0)) out.push(...tries.sort((a, b) => a.length - b.length)[0]);
    return out;
  }
  if (type.flags & ts.TypeFlags.StringLiteral) return value === type.value ? out : (out.push(`${at}: ${JSON.stringify(value)} is not "${type.value}"`), out);
  if (type.flags & ts.TypeFlags.NumberLiteral) return value === type.value ? out : (out.push(`${at}: ${value} is not ${type.value}`), out);
  if (type.flags & ts.TypeFlags.BooleanLiteral) return String(value) === type.intrinsicName ? out : (out.push(`${at}: ${value} is not ${type.intrinsicName}`), out);
  for (const [flag, kind] of [[ts.TypeFlags.String, "string"], [ts.TypeFlags.Number, "number"], [ts.TypeFlags.Boolean, "boolean"]]) {
    if (type.flags & flag) return typeof value === kind ? out : (out.push(`${at}: ${JSON.stringify(value)} is not a ${kind}`), out);
  }
  if (type.flags & ts.TypeFlags.Null) return value === null ? out : (out.push(`${at}: not null`), out);
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    if (!Array.isArray(value)) return (out.push(`${at}: not an array`), out);
    const [element] = checker.getTypeArguments(type);
    value.forEach((v, i) => mismatches(v, element, `${at}[${i}]`, out));
    return out;
  }
  if (type.flags & ts.TypeFlags.Object || type.isIntersection()) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return (out.push(`${at}: not an object`), out);
    const props = checker.getPropertiesOfType(type);
    const index = checker.getIndexInfosOfType(type)[0];
    for (const prop of props) {
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      if (!(prop.name in value)) {
        if (!optional) out.push(`${at}.${prop.name}: missing`);
        continue;
      }
      mismatches(value[prop.name], checker.getTypeOfSymbol(prop), `${at}.${prop.name}`, out);
    }
    for (const key of Object.keys(value)) {
      if (props.some((p) => p.name === key)) continue;
      if (index) mismatches(value[key], index.type, `${at}.${key}`, out);
      else out.push(`${at}.${key}: not declared`);
    }
    return out;
  }
  out.push(`${at}: a type this check does not read (${checker.typeToString(type)})`);
  return out;
}

test("the declarations compile on their own, so every name in them resolves", () => {
  const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  assert.deepEqual(errors, []);
});

test("the check itself tells a conforming value from others", () => {
  const money = declared("ShippingOption");
  const props = checker.getPropertiesOfType(money).map((p) => p.name);
  assert.ok(props.length > 2, `ShippingOption has ${props}`);
  assert.deepEqual(mismatches({ id: "x" }, declared("CartErrorDetails"), "d").slice(0, 1), ["d.INVALID_CATALOG: missing"]);
  const details = checker.getTypeOfSymbol(checker.getPropertyOfType(declared("CartErrorDetails"), "ITEM_NOT_FOUND"));
  assert.deepEqual(mismatches({ lineItemId: "li_1", actionIndex: 0 }, details, "d"), []);
  assert.deepEqual(mismatches({ lineItemId: 1 }, details, "d"), ["d.lineItemId: 1 is not a string"]);
  assert.deepEqual(mismatches({ id: "li_1" }, details, "d"), ["d.id: not declared"]);
});

/** Every vector, read once: `where` names it in failure messages. */
const vectors = vectorFiles.map((file) => ({ where: path.basename(file), vector: JSON.parse(fs.readFileSync(file, "utf8")) }));

test("every catalog and action of the conformance vectors is what the declared input types accept", () => {
  const catalog = declared("Catalog");
  const action = declared("CartAction");
  const problems = [];
  let catalogs = 0;
  let actions = 0;
  for (const { where, vector } of vectors) {
    if (vector.expect?.error?.code === "INVALID_CATALOG") continue;
    problems.push(...mismatches(vector.catalog, catalog, `${where} catalog`));
    catalogs++;
    for (const [i, step] of (vector.actions ?? []).entries()) {
      if (vector.expect?.error?.code === "INVALID_REQUEST") continue; // malformed on purpose
      for (const a of Array.isArray(step) ? step : [step]) {
        problems.push(...mismatches(a, action, `${where} step ${i}`));
        actions++;
      }
    }
  }
  assert.ok(catalogs > 50 && actions > 100, `${catalogs} catalogs and ${actions} actions checked`);
  assert.deepEqual(problems, []);
});

test("every view and every refusal of the conformance vectors has the declared shape", () => {
  const view = declared("CartView");
  const errorDetails = declared("CartErrorDetails");
  const problems = [];
  let views = 0;
  let refusals = 0;
  let last;
  const refused = (e, where) => {
    assert.ok(isCartError(e), `${where}: ${e}`);
    refusals++;
    const prop = checker.getPropertyOfType(errorDetails, e.code);
    if (!prop) return problems.push(`${where}: ${e.code} is not a CartErrorCode`);
    problems.push(...mismatches(e.details, checker.getTypeOfSymbol(prop), `${where} ${e.code} details`));
  };
  for (const { where, vector } of vectors) {
    const now = Date.parse(vector.now);
    let cart;
    try {
      cart = Cart.open({ catalog: vector.catalog, storage: "memory", currency: vector.cart.currency, country: vector.cart.country, locale: vector.cart.locale, customerGroup: vector.cart.customerGroup, now: () => now });
    } catch (e) {
      refused(e, where);
      continue;
    }
    for (const [i, step] of (vector.actions ?? []).entries()) {
      try {
        cart.apply(Array.isArray(step) ? step : [step]);
      } catch (e) {
        refused(e, `${where} step ${i}`);
      }
    }
    last = cart.view();
    problems.push(...mismatches(last, view, `${where} view`));
    views++;
    cart.free();
  }
  assert.ok(views > 50 && refusals > 5, `${views} views and ${refusals} refusals checked`);
  assert.deepEqual(problems, []);
  // The check sees a view that lost a member or gained one.
  const { totals, ...tampered } = { ...last, bogus: 1 };
  assert.ok(totals);
  assert.deepEqual(mismatches(tampered, view, "v"), ["v.totals: missing", "v.bogus: not declared"]);
});
