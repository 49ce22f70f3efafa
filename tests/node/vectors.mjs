// Where the Node tests find the conformance vectors: the shared ones ($CONFORMANCE_DIR, else
// ../shared/conformance beside the checkout) and the project's own (tests/vectors: pricing profiles and
// features).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const vectorFolders = [process.env.CONFORMANCE_DIR || path.join(root, "../shared/conformance"), path.join(root, "tests/vectors")];

/** The `*.json` files of `dir`, sorted (none when it is missing). */
export const vectorsIn = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : []);

/** Every vector file, with its path. */
export const vectorFiles = vectorFolders.flatMap((dir) => vectorsIn(dir).map((f) => path.join(dir, f)));
