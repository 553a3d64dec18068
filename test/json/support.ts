/** Helpers shared by the JSON-form tests: a `.x` file compiled, with its generated codecs by .x name. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { compileSpecification, DEFAULT_DEFINES, type ResolvedSpecification } from "../../src/idl/index.js";
import type { XdrCodec } from "../../src/xdr/index.js";
import { XdrError, type XdrErrorCode } from "../../src/xdr/index.js";
import { codecsByTypeName, loadGenerated } from "../support/load-generated.js";
import { repoPath } from "../support/paths.js";

/** Compiles a `.x` file (absolute, or relative to the repository) with the options `loadGenerated` uses. */
export function compileX(file: string): ResolvedSpecification {
  return compileSpecification(isAbsolute(file) ? file : repoPath(file), {
    readFile: (path) => readFileSync(path, "utf8"),
    defines: { ...DEFAULT_DEFINES },
    includePaths: [],
  });
}

/** Compiles a `.x` file given as text (written to a throwaway name). */
export function compileText(text: string, file = "inline.x"): ResolvedSpecification {
  return compileSpecification(file, { readFile: () => text });
}

/** The generated module of a `.x` file, with its codecs found by their `name` (the .x type name). */
export async function generatedCodecs(file: string): Promise<(typeName: string) => XdrCodec<unknown>> {
  const exports = await loadGenerated(file);
  const codecs = codecsByTypeName(exports);
  return (typeName) => {
    const c = codecs.get(typeName);
    assert.ok(c, `the module generated from ${file} has no codec for '${typeName}'`);
    return c;
  };
}

/** Runs `fn`, which must throw an XdrError with this code, message detail and path; returns it. */
export function expectJsonError(
  fn: () => unknown,
  expected: { code?: XdrErrorCode; detail?: string | RegExp; path?: string; offset?: number },
): XdrError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof XdrError, `expected an XdrError, got ${String(thrown)}`);
  assert.equal(thrown.code, expected.code ?? "BAD_VALUE", thrown.message);
  if (typeof expected.detail === "string") assert.equal(thrown.detail, expected.detail);
  else if (expected.detail) assert.match(thrown.detail, expected.detail);
  if (expected.path !== undefined) assert.equal(thrown.pathString, expected.path, thrown.message);
  if (expected.offset !== undefined) assert.equal(thrown.offset, expected.offset, thrown.message);
  return thrown;
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Bytes from hex, ignoring spaces and `_`. */
export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/[\s_]/g, ""), "hex"));
}
