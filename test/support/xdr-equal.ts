/**
 * Equality of XDR values as the TypeScript mapping represents them, for
 * round-trip tests: numbers by `Object.is` (NaN equals NaN, and -0 is not
 * +0, because the wire keeps the sign of zero: RFC 4506 §4.6–§4.7),
 * bigints by value, Uint8Array by bytes, arrays by element, objects by
 * their own keys.
 */

/** Where `actual` first differs from `expected` (`.blobs.label`, `[3].next`), or null when they are equal. */
export function xdrDifference(actual: unknown, expected: unknown, path = ""): string | null {
  if (typeof expected === "number") {
    return typeof actual === "number" && Object.is(actual, expected)
      ? null
      : `${path || "value"}: ${show(actual)} !== ${show(expected)}`;
  }
  if (expected === null || typeof expected !== "object") {
    return actual === expected ? null : `${path || "value"}: ${show(actual)} !== ${show(expected)}`;
  }
  if (expected instanceof Uint8Array) {
    if (!(actual instanceof Uint8Array)) return `${path || "value"}: ${show(actual)} is not a Uint8Array`;
    if (actual.length !== expected.length) {
      return `${path || "value"}: ${actual.length} bytes !== ${expected.length} bytes`;
    }
    for (let i = 0; i < expected.length; i++) {
      if (actual[i] !== expected[i]) return `${path}[${i}]: byte ${actual[i]} !== ${expected[i]}`;
    }
    return null;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path || "value"}: ${show(actual)} is not an array`;
    if (actual.length !== expected.length) {
      return `${path || "value"}: length ${actual.length} !== ${expected.length}`;
    }
    for (let i = 0; i < expected.length; i++) {
      const d = xdrDifference(actual[i], expected[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (
    actual === null ||
    typeof actual !== "object" ||
    Array.isArray(actual) ||
    actual instanceof Uint8Array
  ) {
    return `${path || "value"}: ${show(actual)} is not an object`;
  }
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(e)]);
  for (const k of keys) {
    if (!(k in e)) return `${path}.${k}: unexpected field`;
    if (!(k in a)) return `${path}.${k}: missing field`;
    const d = xdrDifference(a[k], e[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
}

/** True when the two values are equal in the sense of {@link xdrDifference}. */
export function xdrEqual(a: unknown, b: unknown): boolean {
  return xdrDifference(a, b) === null;
}

/** A readable, JSON-like rendering of an XDR value (bigints with `n`, bytes in hex, -0 kept). */
export function show(v: unknown, limit = 2000): string {
  const text = JSON.stringify(v, (_key, x: unknown) => {
    if (typeof x === "bigint") return `${x}n`;
    if (typeof x === "number" && !Number.isFinite(x)) return String(x);
    if (Object.is(x, -0)) return "-0";
    if (x instanceof Uint8Array) return `0x${hex(x, 64)}`;
    return x;
  });
  if (text === undefined) return String(v);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/** Bytes as lowercase hex; past `limit` bytes, the head and the tail with the length between. */
export function hex(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): string {
  const text = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  if (bytes.length <= limit) return text(bytes);
  const half = Math.floor(limit / 2);
  return `${text(bytes.subarray(0, half))}…(${bytes.length} bytes)…${text(bytes.subarray(bytes.length - half))}`;
}
