/**
 * The proxy's seeded random numbers: sfc32 (Chris Doty-Humphrey's small fast
 * counting generator), deterministic from its seed. The fuzz tests draw from
 * it too (test/fuzz/prng.ts).
 */

/** 2^32, to turn an unsigned 32-bit draw into a fraction of 1. */
export const TWO_TO_32 = 0x1_0000_0000;

/** sfc32: a uniformly random unsigned 32-bit integer per call, repeatable from its seed. */
export class Sfc32 {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    // The first outputs still show the constants: mix them away.
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** The next unsigned 32-bit integer. */
  u32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }
}

/** A seed for one named stream (one direction, say) of a run's seed, so each repeats on its own. */
export function streamSeed(seed: number, name: string): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x85ebca6b) ^ (h >>> 13);
  return h >>> 0;
}
