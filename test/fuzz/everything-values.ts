/**
 * Random valid values for every type of test/fixtures/everything.x, from a
 * seeded Prng, leaning on the edges: integer extremes, -0, NaN and the
 * infinities, strings and opaque data exactly at their bound (counted in
 * UTF-8 bytes), arrays at their bound, every union arm and discriminants
 * that only a default arm takes. Their encodings are what the fuzzer mutates.
 */
import type { Prng } from "./prng.js";

const MAX_NAME = 16;
const MAX_ITEMS = 8;
const BLOB_SIZE = 10;

const INTS = [0, 1, -1, 2, 0x7fffffff, -0x80000000, 0x7ffffffe, -0x7fffffff, 255, 256, 65535, 65536];
const UINTS = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 65536];
const HYPERS = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n, -(2n ** 32n), 2n ** 31n];
const UHYPERS = [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 32n - 1n, 2n ** 32n];
const SPECIAL_FLOATS = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1];
const FLOAT_EDGES = [
  3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38,
];
const DOUBLE_EDGES = [Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, 2.2250738585072014e-308, Number.EPSILON];
const COLORS = [0, 1, 2, -1, -2147483648];
/** Characters of 1, 2, 3 and 4 UTF-8 bytes (no lone surrogates: they cannot be UTF-8). */
const CHARS = [
  "a",
  "Z",
  "0",
  " ",
  "~",
  "\u0000",
  "\u007f",
  "é",
  "ß",
  "\u07ff",
  "€",
  "\u0800",
  "\uffff",
  "😀",
  "\u{10ffff}",
];

export function int(rng: Prng): number {
  return rng.chance(0.3) ? rng.pick(INTS) : rng.chance(0.5) ? rng.range(-1000, 1000) : rng.i32();
}
export function uint(rng: Prng): number {
  return rng.chance(0.3) ? rng.pick(UINTS) : rng.chance(0.5) ? rng.range(0, 1000) : rng.u32();
}
function hyper(rng: Prng): bigint {
  if (rng.chance(0.3)) return rng.pick(HYPERS);
  return BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
}
function uhyper(rng: Prng): bigint {
  if (rng.chance(0.3)) return rng.pick(UHYPERS);
  return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
}
/** A float exactly representable in 32 bits, so it survives the wire unchanged. */
export function float(rng: Prng): number {
  if (rng.chance(0.3)) return rng.pick(SPECIAL_FLOATS);
  if (rng.chance(0.2)) return rng.pick(FLOAT_EDGES);
  const bits = new DataView(new ArrayBuffer(4));
  bits.setUint32(0, rng.u32());
  return bits.getFloat32(0);
}
export function double(rng: Prng): number {
  if (rng.chance(0.3)) return rng.pick(SPECIAL_FLOATS);
  if (rng.chance(0.2)) return rng.pick(DOUBLE_EDGES);
  if (rng.chance(0.3)) return (rng.i32() / 7) * 1e-3;
  const bits = new DataView(new ArrayBuffer(8));
  bits.setUint32(0, rng.u32());
  bits.setUint32(4, rng.u32());
  return bits.getFloat64(0);
}
function utf8Length(c: string): number {
  const cp = c.codePointAt(0) as number;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}
/** A string of at most `max` UTF-8 bytes, often exactly `max`. */
export function string(rng: Prng, max: number): string {
  const target = rng.chance(0.25) ? max : rng.int(Math.min(max, 40) + 1);
  const asciiOnly = rng.chance(0.5);
  let s = "";
  let bytes = 0;
  for (let tries = 0; bytes < target && tries < 64; tries++) {
    const c = asciiOnly ? String.fromCharCode(rng.range(0x20, 0x7e)) : rng.pick(CHARS);
    const n = utf8Length(c);
    if (bytes + n > target) continue;
    s += c;
    bytes += n;
  }
  return s;
}
/** Opaque data of at most `max` bytes, often exactly `max`. */
export function opaque(rng: Prng, max: number): Uint8Array {
  const n = rng.chance(0.25) ? max : rng.int(Math.min(max, 40) + 1);
  return rng.chance(0.3) ? new Uint8Array(n) : rng.bytes(n);
}
function array<T>(rng: Prng, max: number, element: () => T): T[] {
  const n = rng.chance(0.2) ? max : rng.int(Math.min(max, 6) + 1);
  return Array.from({ length: n }, element);
}

export const point = (rng: Prng) => ({ x: int(rng), y: int(rng) });

export const scalars = (rng: Prng) => ({
  i: int(rng),
  u: uint(rng),
  bare: uint(rng),
  h: hyper(rng),
  uh: uhyper(rng),
  f: float(rng),
  d: double(rng),
  flag: rng.chance(0.5),
  c: rng.pick(COLORS),
  s: rng.chance(0.3) ? rng.pick([-32768, 32767, 0, -1]) : rng.range(-32768, 32767),
  us: rng.chance(0.3) ? rng.pick([0, 65535, 1]) : rng.range(0, 65535),
});

export const blobs = (rng: Prng) => ({
  fixed: rng.chance(0.3) ? new Uint8Array(BLOB_SIZE) : rng.bytes(BLOB_SIZE),
  bounded: opaque(rng, MAX_NAME),
  unbounded: opaque(rng, rng.chance(0.05) ? 300 : 24),
  label: string(rng, MAX_NAME),
  text: string(rng, rng.chance(0.05) ? 200 : 24),
  sum: rng.bytes(BLOB_SIZE),
  alias: string(rng, MAX_NAME),
});

export const arrays = (rng: Prng) => ({
  corners: [point(rng), point(rng), point(rng)],
  path: array(rng, MAX_ITEMS, () => point(rng)),
  counts: array(rng, 12, () => uint(rng)),
  smalls: array(rng, MAX_ITEMS, () => int(rng)),
  names: array(rng, 4, () => string(rng, MAX_NAME)),
  big: [hyper(rng), hyper(rng)],
});

interface Node {
  value: number;
  tag: string;
  next: Node | null;
}
export function node(rng: Prng): Node {
  const n = rng.chance(0.1) ? rng.range(20, 60) : rng.range(1, 5);
  let list: Node | null = null;
  for (let i = 0; i < n; i++) list = { value: int(rng), tag: string(rng, MAX_NAME), next: list };
  return list as Node;
}
export const nodeList = (rng: Prng) => (rng.chance(0.2) ? null : node(rng));

export function shape(rng: Prng): unknown {
  switch (rng.int(4)) {
    case 0:
      return { kind: 1, radius: double(rng) };
    case 1:
      return { kind: 2, side: double(rng) };
    case 2:
      return { kind: 4, side: double(rng) };
    default:
      return { kind: 3, vertices: [point(rng), point(rng), point(rng)] };
  }
}

export const resultDetail = (rng: Prng) =>
  rng.chance(0.5) ? { known: true, hue: rng.pick(COLORS) } : { known: false };

export function result(rng: Prng): unknown {
  switch (rng.int(5)) {
    case 0:
      return { status: 0, ok: shape(rng) };
    case 1:
      return { status: rng.pick([1, 2]) };
    case 2:
      return { status: -7, detail: resultDetail(rng) };
    default: {
      let status = rng.chance(0.5) ? rng.pick([3, -1, 0x7fffffff, -0x80000000, 7, -6, -8]) : rng.i32();
      if (status === 0 || status === 1 || status === 2 || status === -7) status = 3;
      return { status, message: string(rng, MAX_NAME) };
    }
  }
}

export function maybePoint(rng: Prng): unknown {
  if (rng.chance(0.5)) return { has: 1, where: rng.chance(0.3) ? null : point(rng) };
  const has = rng.chance(0.5) ? rng.pick([0, 2, 0xffffffff, 0x80000000]) : rng.u32();
  return { has: has === 1 ? 0 : has };
}

export const everything = (rng: Prng) => ({
  scalars: scalars(rng),
  blobs: blobs(rng),
  arrays: arrays(rng),
  list: nodeList(rng),
  shapes: array(rng, MAX_ITEMS, () => shape(rng)),
  outcome: result(rng),
  maybe: maybePoint(rng),
  origin: rng.chance(0.5) ? null : point(rng),
});

/** A generator of valid values for each codec of everything.x, by the codec's exported name. */
export const EVERYTHING_VALUES: Readonly<Record<string, (rng: Prng) => unknown>> = {
  ColorCodec: (rng) => rng.pick(COLORS),
  ShapeKindCodec: (rng) => rng.range(1, 4),
  NameTCodec: (rng) => string(rng, MAX_NAME),
  DigestCodec: (rng) => rng.bytes(BLOB_SIZE),
  SmallListCodec: (rng) => array(rng, MAX_ITEMS, () => int(rng)),
  PointCodec: point,
  ScalarsCodec: scalars,
  BlobsCodec: blobs,
  ArraysCodec: arrays,
  NodeCodec: node,
  NodeListCodec: nodeList,
  ShapeCodec: shape,
  ResultDetailCodec: resultDetail,
  ResultCodec: result,
  MaybePointCodec: maybePoint,
  EverythingCodec: everything,
};
