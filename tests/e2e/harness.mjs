// End-to-end harness: a real cart-server on an ephemeral 127.0.0.1 port with a temporary database and
// its own copy of the demo catalog, and Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SHOTS = path.join(ROOT, "target/e2e");

/** `$CART_SERVER_BIN` (the Makefile sets it), else the debug build `make server` makes. */
function serverBinary() {
  const bin = process.env.CART_SERVER_BIN || path.join(ROOT, "target/debug/cart-server");
  if (!existsSync(bin)) throw new Error(`cart-server is not built at ${bin}: run \`make server\``);
  return bin;
}

/** Starts cart-server (serving `staticDir` at /, the package at /pkg/); resolves once it prints the
 * address it listens on. `args`: more flags (`--connect-src` for pages that call other origins);
 * `catalogJson`: the catalog it serves and prices with (default: the demo catalog). */
export async function startServer({ staticDir = path.join(ROOT, "www"), pkgDir = path.join(ROOT, "pkg"), args: extra = [], catalogJson } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "wasm-cart-e2e-"));
  const catalog = path.join(dir, "catalog.json");
  if (catalogJson === undefined) copyFileSync(path.join(ROOT, "server/catalog/demo.json"), catalog);
  else writeFileSync(catalog, catalogJson);
  const args = ["--addr", "127.0.0.1:0", "--db", path.join(dir, "cart.db"), "--catalog", catalog,
    "--static", staticDir, "--pkg", pkgDir, ...extra];
  const child = spawn(serverBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("cart-server did not start:\n" + log.join(""))), 30000);
    const onData = (chunk) => {
      log.push(chunk.toString());
      // Only a whole address: output may arrive cut anywhere, even in the middle of the port.
      const match = log.join("").match(/listening on (http:\/\/127\.0\.0\.1:\d+)\s/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`cart-server exited with ${code}:\n${log.join("")}`)));
  });
  child.stdout.on("data", (c) => log.push(c.toString()));
  child.stderr.on("data", (c) => log.push(c.toString()));
  return {
    url,
    dir,
    catalog,
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic"];

export async function launchBrowser() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS, headless: true });
}

/** Saves a screenshot of every open page under target/e2e/ (called when a test fails). */
export async function screenshots(context, name) {
  mkdirSync(SHOTS, { recursive: true });
  let i = 0;
  for (const page of context.pages()) {
    await page.screenshot({ path: path.join(SHOTS, `${name.replace(/[^a-z0-9-]+/gi, "_")}-${i++}.png`), fullPage: true }).catch(() => {});
  }
}

/** Runs `body` with a fresh browser context (extra context `options` allowed); screenshots on failure. */
export async function withContext(browser, name, body, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  // cart-server's Content-Security-Policy is enforced here as in production: a page it blocks fails.
  const violations = [];
  context.on("page", (page) =>
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy/i.test(message.text())) violations.push(message.text());
    }));
  try {
    await body(context);
    if (violations.length > 0) throw new Error(`CSP violations:\n${violations.join("\n")}`);
  } catch (e) {
    await screenshots(context, name);
    throw e;
  } finally {
    await context.close();
  }
}
