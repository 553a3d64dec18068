/**
 * The fuzz tests' seeded random numbers and run counts.
 *
 * FUZZ_SEED=n repeats a run (every failure message names its seed);
 * FUZZ_RUNS=k multiplies the number of inputs per decoder for longer manual runs.
 */

import { randomInt } from "node:crypto";
import { Sfc32, streamSeed } from "../../src/proxy/prng.js";

/** Runs per decoder in CI, before FUZZ_RUNS multiplies them. */
export const BASE_RUNS = 100_000;

/** `BASE_RUNS` times the FUZZ_RUNS multiplier (default 1; fractions allowed for quick local runs). */
export function fuzzRuns(base: number = BASE_RUNS): number {
  const factor = Number(process.env.FUZZ_RUNS ?? "1");
  if (!Number.isFinite(factor) || factor <= 0)
    throw new Error(`FUZZ_RUNS must be a positive number, not ${process.env.FUZZ_RUNS}`);
  return Math.max(1, Math.round(base * factor));
}

/** The seed of this run: FUZZ_SEED when set, otherwise a fresh random one. */
export const fuzzSeed: number = (() => {
  const env = process.env.FUZZ_SEED;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new Error(`FUZZ_SEED must be a 32-bit unsigned integer, not ${env}`);
    return n;
  }
  return randomInt(0, 0xffffffff);
})();

/** A seed for one named stream (one decoder, say), so each can be repeated on its own. */
export { streamSeed };

/** How to repeat a failure, for assertion messages. */
export function reproduce(name: string): string {
  return `repeat with FUZZ_SEED=${fuzzSeed} (stream ${name})`;
}

/** sfc32 (the proxy's generator, src/proxy/prng.ts) with the draws the fuzzers need. */
export class Prng extends Sfc32 {
  /** An integer in 0..n-1 (n ≤ 2^32). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in lo..hi inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      out[i] = v;
      if (i + 1 < n) out[i + 1] = v >>> 8;
      if (i + 2 < n) out[i + 2] = v >>> 16;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }

  /** A random signed 32-bit integer. */
  i32(): number {
    return this.u32() | 0;
  }
}
