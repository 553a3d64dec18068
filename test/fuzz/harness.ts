/**
 * The decoder fuzzer: mutations of valid encodings and random bytes, fed to
 * one codec in a tight loop, with three properties checked on every input:
 *
 * 1. decoding throws nothing but XdrError, and no XdrError that wraps
 *    another exception (that is how a TypeError inside a codec would show);
 * 2. no decode takes pathological time;
 * 3. whatever decodes re-encodes, and the re-encoding decodes to an equal
 *    value (and is the very input, when nothing in the value is lossy).
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { type DecodeOptions, decode, encode, type XdrCodec, XdrError } from "../../src/xdr/index.js";
import type { Prng } from "./prng.js";

/** A decode slower than this (three times in a row, so a GC pause is not enough) fails the run. */
export const SLOW_DECODE_MS = 100;

const INTERESTING_WORDS = [
  0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 0x3fffffff, 0x10000000, 0x04000001, 0x04000000, 0x03ffffff,
  0x00010000, 0x0000ffff, 0x00008000, 0x00007fff, 0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 15, 16, 17, 0xfffffff9,
  0xfffffffe, 0xfffffff8,
];
const SMALL_WORDS = [0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 7, 8, 16, 17, 0xffffffff, 0xfffffff9, 0x80000000];

function setWord(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

function interestingWord(rng: Prng, b: Uint8Array, at: number): number {
  const k = rng.int(10);
  if (k < 7) return rng.pick(INTERESTING_WORDS);
  if (k === 7) return rng.u32();
  // A length that the rest of the input can just hold, or just not.
  const rest = Math.max(0, b.length - at - 4);
  return (rng.chance(0.5) ? rest : rng.chance(0.5) ? rest + 1 : rest >>> rng.int(4)) >>> 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function mutateOnce(rng: Prng, b: Uint8Array): Uint8Array {
  const words = b.length >>> 2;
  switch (rng.int(10)) {
    case 0: {
      // Random bytes.
      const out = b.slice();
      for (let i = rng.range(1, 4); i > 0 && out.length > 0; i--) out[rng.int(out.length)] = rng.int(256);
      return out;
    }
    case 1: {
      // One bit.
      const out = b.slice();
      if (out.length > 0) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    }
    case 2:
      // Truncation, often at a word boundary.
      return b.subarray(0, rng.chance(0.5) ? rng.int(words + 1) * 4 : rng.int(b.length + 1));
    case 3:
      // Extension.
      return concat(b, rng.chance(0.5) ? new Uint8Array(rng.range(1, 16)) : rng.bytes(rng.range(1, 16)));
    case 4:
    case 5:
    case 6: {
      // A word set to a length or discriminant that breaks things.
      if (words === 0) return rng.bytes(4);
      const out = b.slice();
      const at = rng.int(words) * 4;
      setWord(out, at, interestingWord(rng, out, at));
      return out;
    }
    case 7: {
      // A word inserted.
      const at = rng.int(words + 1) * 4;
      const out = new Uint8Array(b.length + 4);
      out.set(b.subarray(0, at));
      setWord(out, at, rng.pick(INTERESTING_WORDS));
      out.set(b.subarray(at), at + 4);
      return out;
    }
    case 8: {
      // A word deleted.
      if (words === 0) return b.subarray(0, 0);
      const at = rng.int(words) * 4;
      return concat(b.subarray(0, at), b.subarray(at + 4));
    }
    default: {
      // A run of words copied over another place.
      if (words < 2) return b;
      const out = b.slice();
      const len = rng.range(1, Math.min(8, words - 1)) * 4;
      const from = rng.int(words - len / 4 + 1) * 4;
      const to = rng.int(words - len / 4 + 1) * 4;
      out.copyWithin(to, from, from + len);
      return out;
    }
  }
}

/** A valid encoding with one to four mutations. */
export function mutate(rng: Prng, valid: Uint8Array): Uint8Array {
  let b = mutateOnce(rng, valid);
  if (rng.chance(0.3)) for (let i = rng.range(1, 3); i > 0; i--) b = mutateOnce(rng, b);
  return b;
}

/** Random input: plain random bytes, or words that look like small lengths, bools and discriminants. */
export function randomInput(rng: Prng): Uint8Array {
  const r = rng.int(10);
  const n = r < 6 ? rng.int(65) : r < 9 ? rng.int(257) : rng.int(2049);
  if (rng.chance(0.4)) return rng.bytes(n);
  const out = new Uint8Array(n & ~3);
  for (let at = 0; at < out.length; at += 4)
    setWord(out, at, rng.chance(0.9) ? rng.pick(SMALL_WORDS) : rng.u32());
  return out;
}

/** Deep equality for XDR values: Object.is for numbers (NaN equals NaN, -0 differs from 0), bytes by content. */
export function xdrEqual(a: unknown, b: unknown): boolean {
  const stack: unknown[] = [a, b];
  while (stack.length > 0) {
    const y = stack.pop();
    const x = stack.pop();
    if (Object.is(x, y)) continue;
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
    if (x instanceof Uint8Array || y instanceof Uint8Array) {
      if (!(x instanceof Uint8Array && y instanceof Uint8Array) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    for (const k of kx) {
      if (!Object.hasOwn(y, k)) return false;
      stack.push((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]);
    }
  }
  return true;
}

/** True when the value holds something whose bytes the decoder does not keep: NaN payloads. */
export function isLossy(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === "number") {
      if (Number.isNaN(x)) return true;
    } else if (typeof x === "object" && x !== null && !(x instanceof Uint8Array)) {
      for (const value of Object.values(x)) stack.push(value);
    }
  }
  return false;
}

function hex(b: Uint8Array): string {
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  return text.length > 400 ? `${text.slice(0, 400)}… (${b.length} bytes)` : text;
}

/** What one fuzz run saw, for the test's diagnostics. */
export interface FuzzStats {
  runs: number;
  decoded: number;
  errors: Record<string, number>;
  slowestMs: number;
}

export interface FuzzDecoderOptions {
  codec: XdrCodec<unknown>;
  /** Valid encodings to mutate. */
  corpus: readonly Uint8Array[];
  rng: Prng;
  runs: number;
  /** Share of inputs that are random bytes rather than mutations. Default 0.25. */
  randomShare?: number;
  /** Says how to repeat a failure; added to every assertion message. */
  repro: string;
}

const DEFAULT_OPTIONS: DecodeOptions = {};

/** Options for one input: mostly the defaults, sometimes the other settings a reader has. */
function pickOptions(rng: Prng): DecodeOptions {
  const k = rng.int(16);
  if (k < 11) return DEFAULT_OPTIONS;
  if (k === 11) return { allowNonZeroPadding: true };
  if (k === 12) return { copyOpaque: true };
  if (k === 13) return { maxLength: rng.int(24) };
  if (k === 14) return { maxDepth: rng.int(3) };
  return { allowNonZeroPadding: true, copyOpaque: true, maxLength: rng.int(100) };
}

/** Fuzzes one decoder; throws an AssertionError naming the input and `repro` on the first broken property. */
export function fuzzDecoder(options: FuzzDecoderOptions): FuzzStats {
  const { codec, corpus, rng, runs, repro } = options;
  const randomShare = options.randomShare ?? 0.25;
  const stats: FuzzStats = { runs, decoded: 0, errors: {}, slowestMs: 0 };
  const where = (input: Uint8Array, i: number, opts: DecodeOptions) =>
    `${codec.name}, input #${i} ${hex(input)} with ${JSON.stringify(opts)}; ${repro}`;

  for (let i = 0; i < runs; i++) {
    const input =
      corpus.length > 0 && !rng.chance(randomShare) ? mutate(rng, rng.pick(corpus)) : randomInput(rng);
    const opts = pickOptions(rng);
    let value: unknown;
    let failure: unknown;
    const started = performance.now();
    try {
      value = decode(codec, input, opts);
    } catch (e) {
      failure = e;
    }
    const ms = performance.now() - started;
    if (ms > stats.slowestMs) stats.slowestMs = ms;
    if (ms > SLOW_DECODE_MS) {
      // Once more, twice: only a decode that is slow every time is a finding.
      let best = ms;
      for (let k = 0; k < 2; k++) {
        const again = performance.now();
        try {
          decode(codec, input, opts);
        } catch {}
        best = Math.min(best, performance.now() - again);
      }
      assert.ok(best <= SLOW_DECODE_MS, `decode took ${best.toFixed(1)} ms: ${where(input, i, opts)}`);
    }

    if (failure !== undefined) {
      if (!(failure instanceof XdrError)) {
        const name = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
        assert.fail(`decode threw ${name} instead of an XdrError: ${where(input, i, opts)}`);
      }
      if (failure.cause !== undefined) {
        assert.fail(`${failure.message} wraps ${String(failure.cause)}: ${where(input, i, opts)}`);
      }
      assert.ok(
        Number.isInteger(failure.offset) && failure.offset >= 0 && failure.offset <= input.length,
        `offset ${failure.offset} outside the input in ${failure.message}: ${where(input, i, opts)}`,
      );
      if (failure.code !== "TRAILING_BYTES") {
        assert.equal(failure.path[0], codec.name, `path of ${failure.message}: ${where(input, i, opts)}`);
      }
      stats.errors[failure.code] = (stats.errors[failure.code] ?? 0) + 1;
      continue;
    }

    stats.decoded++;
    let again: Uint8Array;
    try {
      again = encode(codec, value);
    } catch (e) {
      assert.fail(`a decoded value does not encode (${String(e)}): ${where(input, i, opts)}`);
    }
    let back: unknown;
    try {
      back = decode(codec, again);
    } catch (e) {
      assert.fail(`the re-encoding ${hex(again)} does not decode (${String(e)}): ${where(input, i, opts)}`);
    }
    assert.ok(xdrEqual(value, back), `decode(encode(v)) differs from v: ${where(input, i, opts)}`);
    if (opts === DEFAULT_OPTIONS && !isLossy(value)) {
      assert.equal(hex(again), hex(input), `re-encoding is not the input: ${where(input, i, opts)}`);
    }
  }
  return stats;
}
