/** Small helpers shared by the XDR runtime tests. */
import assert from "node:assert/strict";
import { XdrError, type XdrErrorCode } from "../../src/xdr/index.js";

/** Bytes from hex; spaces, newlines and `_` are ignored, so vectors can be grouped in words. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s_]/g, "");
  assert.equal(clean.length % 2, 0, `odd hex length: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Lowercase hex without separators. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** What an expected XdrError must match; fields left out are not checked. */
export interface ExpectedXdrError {
  code: XdrErrorCode;
  offset?: number;
  path?: string;
}

/** Runs `fn`, which must throw an XdrError matching `expected`; returns it for further checks. */
export function expectXdrError(fn: () => unknown, expected: ExpectedXdrError): XdrError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected ${expected.code}, nothing was thrown`);
  assert.ok(thrown instanceof XdrError, `expected XdrError ${expected.code}, got ${String(thrown)}`);
  assert.equal(thrown.code, expected.code, thrown.message);
  if (expected.offset !== undefined)
    assert.equal(thrown.offset, expected.offset, `offset in: ${thrown.message}`);
  if (expected.path !== undefined)
    assert.equal(thrown.pathString, expected.path, `path in: ${thrown.message}`);
  return thrown;
}

/**
 * Runs `fn` with the global Array constructor spied on, and returns the
 * largest `new Array(n)` it made: the codecs (built-in and generated) size
 * their arrays with `new Array(n)`, so a hostile count would show here.
 */
export function largestArrayAllocated(fn: () => void): number {
  const RealArray = globalThis.Array;
  let largest = 0;
  globalThis.Array = new Proxy(RealArray, {
    construct(target, args, newTarget) {
      if (args.length === 1 && typeof args[0] === "number") largest = Math.max(largest, args[0]);
      return Reflect.construct(target, args, newTarget);
    },
  });
  try {
    fn();
  } finally {
    globalThis.Array = RealArray;
  }
  return largest;
}
