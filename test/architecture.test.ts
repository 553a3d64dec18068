/**
 * The layers of src/ import one way only (README: "Imports flow one way"):
 * a module may import from its own folder and from the folders listed for it.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { test } from "node:test";
import { repoPath } from "./support/paths.js";

const ALLOWED: Record<string, readonly string[]> = {
  xdr: [],
  idl: [],
  codegen: ["idl"],
  rpc: ["xdr"],
  json: ["xdr", "idl", "rpc"],
  transport: ["xdr", "rpc"],
  client: ["xdr", "rpc", "transport"],
  server: ["xdr", "rpc", "transport"],
  binder: ["xdr", "rpc", "transport", "client", "server"],
  proxy: ["xdr", "rpc", "transport"],
  cli: ["xdr", "rpc", "idl", "codegen", "json", "transport", "client", "server", "binder", "proxy"],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

test("src/ layers import one way, with no cycles", () => {
  const src = repoPath("src");
  const layers = readdirSync(src).filter((name) => statSync(join(src, name)).isDirectory());
  const unlisted = layers.filter((layer) => !(layer in ALLOWED));
  assert.deepEqual(unlisted, [], "every layer of src/ has its allowed imports listed here");
  const violations: string[] = [];
  for (const layer of layers) {
    for (const file of sources(join(src, layer))) {
      const text = readFileSync(file, "utf8");
      for (const [, spec] of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["']([^"']+)["']/gm)) {
        let target: string | undefined;
        if (spec.startsWith(".")) {
          const rel = relative(src, resolve(file, "..", spec));
          target = rel.startsWith("..") ? "outside src" : rel.split("/")[0];
        } else if (spec.startsWith("once-rpc")) {
          target = spec.split("/")[1] ?? "index";
        }
        if (target === undefined || target === layer) continue;
        if (!ALLOWED[layer].includes(target))
          violations.push(`${relative(src, file)} imports ${spec} (${layer} -> ${target})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
