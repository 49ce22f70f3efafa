// The few browser APIs the cart uses that are clearer in JavaScript than through web-sys: an
// IndexedDB read-write transaction around a synchronous decision, a BroadcastChannel, one fetch with
// a timeout, a byte-exact copy of a storage value, listing storage keys, and assembling a view from the
// lines that changed. No decision is taken here (src/session/ takes them); every function only carries
// one out. No top-level side effects.

const DB_NAME = "wasm-cart";
const STORE = "records";
let opening = null;

/** The commit point's database, opened once per page; rejects where IndexedDB cannot be used. */
function database() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const factory = globalThis.indexedDB;
    if (!factory) return reject(new Error("IndexedDB is not available"));
    let request;
    try {
      request = factory.open(DB_NAME, 1);
    } catch (e) {
      return reject(e);
    }
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => {
      const db = request.result;
      // Another page upgrading the database: let it, and open again on the next commit.
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("IndexedDB open is blocked"));
  });
  opening.catch(() => { opening = null; });
  return opening;
}

/**
 * One commit: in a read-write transaction on `key`, hands the stored string (or null) to `decide`,
 * stores the string it returns (null: nothing to store), and resolves when the transaction is over:
 * `{ok: true}`, `{ok: false, error}` (aborted, quota) or `{ok: false, unavailable: true, error}`.
 */
export function idbCommit(key, decide) {
  return database().then(
    (db) => new Promise((resolve) => {
      let tx;
      try {
        tx = db.transaction(STORE, "readwrite");
      } catch (e) {
        opening = null;
        return resolve({ ok: false, error: String(e) });
      }
      const store = tx.objectStore(STORE);
      const get = store.get(key);
      get.onsuccess = () => {
        const put = decide(typeof get.result === "string" ? get.result : null);
        if (typeof put === "string") store.put(put, key);
      };
      tx.oncomplete = () => resolve({ ok: true });
      tx.onabort = () => resolve({ ok: false, error: String(tx.error ?? "aborted") });
    }),
    (e) => ({ ok: false, unavailable: true, error: String(e) }),
  );
}

/** A BroadcastChannel calling `onMessage(text)`, or null where there is none. */
export function openChannel(name, onMessage) {
  if (typeof globalThis.BroadcastChannel !== "function") return null;
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => { if (typeof event.data === "string") onMessage(event.data); };
  return channel;
}

/**
 * One request through `globalThis.fetch`, aborted after `timeoutMs` (reading the body counts).
 * Resolves `{status, headers: [[name, value]], text}`; rejects `{timeout: true}` or with the error.
 */
export async function fetchOnce(method, url, headers, body, timeoutMs) {
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  let timer;
  let timedOut = false;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject({ timeout: true });
      controller?.abort();
    }, Math.min(timeoutMs, 2147483647));
  });
  try {
    const init = { method, headers, signal: controller?.signal };
    if (body !== undefined) init.body = body;
    const response = await Promise.race([globalThis.fetch(url, init), timeout]);
    const text = await Promise.race([response.text(), timeout]);
    return { status: response.status, headers: [...response.headers], text };
  } catch (e) {
    // The abort that ends a timed-out request rejects the fetch too: it is still the timeout.
    throw timedOut ? { timeout: true } : e;
  } finally {
    clearTimeout(timer);
  }
}

/** Copies `storage[from]` to `storage[to]` as it is (a corrupt value may not even be valid text). */
export function copyRaw(storage, from, to) {
  const value = storage.getItem(from);
  if (value !== null && value !== undefined) storage.setItem(to, value);
}

/** The keys of a Web Storage starting with `prefix` (empty for storages that cannot list keys). */
export function keysWithPrefix(storage, prefix) {
  const out = [];
  if (typeof storage.key !== "function" || typeof storage.length !== "number") return out;
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (typeof key === "string" && key.startsWith(prefix)) out.push(key);
  }
  return out;
}

/**
 * The view object from `text` (`{view, lines, custom}`, src/web/view.rs): a number in `lines` or
 * `custom` is the index of an unchanged line in `previous` (the last view built, or null), whose object
 * is kept; everything new is deeply frozen (the reused objects are frozen already).
 */
export function assembleView(text, previous) {
  const { view, lines, custom } = JSON.parse(text);
  const fill = (slots, old) => slots.map((slot) => (typeof slot === "number" ? old[slot] : slot));
  view.lineItems = fill(lines, previous?.lineItems);
  view.customLineItems = fill(custom, previous?.customLineItems);
  return freeze(view);
}

function freeze(value) {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) freeze(value[key]);
    Object.freeze(value);
  }
  return value;
}
