// cart-server as a spawned process for the Node tests: an ephemeral 127.0.0.1 port, a temporary
// database, the catalog given, extra flags (e.g. `--relay FILE`) and environment. `log()` returns
// everything it wrote to stderr (one line per request), so tests can check what it never logs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function serverBinary() {
  const bin = process.env.CART_SERVER_BIN ?? path.join(ROOT, "target/debug/cart-server");
  if (!fs.existsSync(bin)) throw new Error(`cart-server is not built at ${bin}: run \`make server\``);
  return bin;
}

/**
 * Starts cart-server; resolves `{ url, api, dir, log, stop }` once it prints its address. `relay`: a
 * relay configuration (docs/sync.md), written to a file its `--relay` names; its `${VAR}`s come from `env`.
 */
export async function startCartServer({ catalog, args = [], env = {}, relay } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-cart-server-"));
  const catalogFile = path.join(dir, "catalog.json");
  fs.writeFileSync(catalogFile, JSON.stringify(catalog));
  if (relay) {
    const relayFile = path.join(dir, "relay.json");
    fs.writeFileSync(relayFile, JSON.stringify(relay));
    args = [...args, "--relay", relayFile];
  }
  const proc = spawn(serverBinary(), [
    "--addr", "127.0.0.1:0", "--db", path.join(dir, "cart.db"), "--catalog", catalogFile,
    "--static", dir, "--pkg", dir, "--rate-limit", "100000", ...args,
  ], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  const log = [];
  const url = await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`cart-server exited (${code}): ${log.join("")}`)));
    proc.stderr.on("data", (chunk) => {
      log.push(String(chunk));
      // Only a whole address: stderr may arrive cut in the middle of the port.
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\s/.exec(log.join(""));
      if (m) resolve(m[1]);
    });
  });
  return {
    url,
    api: `${url}/api/v1`,
    dir,
    log: () => log.join(""),
    stop() {
      if (proc.exitCode === null) process.kill(proc.pid, "SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Memory storage for `Cart.open` in Node. */
export function memoryStorage() {
  const map = new Map();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, String(v)), removeItem: (k) => void map.delete(k) };
}
