/**
 * JSON-form codecs of the XDR types that hold no other type: integers,
 * hypers, floats, bool, void, strings and opaque data (RFC 4506 §4.1–§4.11,
 * §4.16). Each checks the JSON value it is given and fails with BAD_VALUE,
 * then writes exactly what the generated codec of the same type writes.
 */
import type { XdrCodec, XdrWriter } from "../xdr/index.js";
import { describeJson, type JsonValue } from "./json-value.js";

/** A codec whose values are in the JSON form. */
export type JsonCodec = XdrCodec<JsonValue>;

/** RFC 4506 §4.16: void is `null`. */
export const jsonVoid: JsonCodec = {
  name: "void",
  encode(w, v) {
    if (v !== null) throw w.fail(`expected null (void), got ${describeJson(v)}`);
  },
  decode: () => null,
};

/** RFC 4506 §4.4: `true` or `false`. */
export const jsonBool: JsonCodec = {
  name: "bool",
  encode(w, v) {
    if (typeof v !== "boolean") throw w.fail(`expected bool (true or false), got ${describeJson(v)}`);
    w.writeBool(v);
  },
  decode: (r) => r.readBool(),
};

const INT_NAMES = { 8: "char", 16: "short", 32: "int" } as const;

/**
 * RFC 4506 §4.1–§4.2: a JSON number. `char` and `short` (8 and 16 bits) take
 * four bytes too, with the range of the C type checked both ways.
 */
export function jsonInt(unsigned: boolean, bits: 8 | 16 | 32): JsonCodec {
  const name = `${unsigned ? "unsigned " : ""}${INT_NAMES[bits]}`;
  const check = (w: XdrWriter, v: JsonValue): number => {
    if (typeof v !== "number") throw w.fail(`expected ${name} (a number), got ${describeJson(v)}`);
    return v;
  };
  if (bits === 32) {
    return unsigned
      ? { name, encode: (w, v) => w.writeUnsignedInt(check(w, v)), decode: (r) => r.readUnsignedInt() }
      : { name, encode: (w, v) => w.writeInt(check(w, v)), decode: (r) => r.readInt() };
  }
  const span = bits === 8 ? 0x100 : 0x10000;
  const [min, max] = unsigned ? [0, span - 1] : [-span / 2, span / 2 - 1];
  return {
    name,
    encode: (w, v) => w.writeIntInRange(check(w, v), min, max),
    decode: (r) => r.readIntInRange(min, max),
  };
}

const DECIMAL = /^-?[0-9]+$/;
const HYPER_RANGE = { signed: [-(2n ** 63n), 2n ** 63n - 1n], unsigned: [0n, 2n ** 64n - 1n] } as const;

/**
 * RFC 4506 §4.5: a decimal string, since a JSON number loses precision past
 * 2^53. A number is accepted on input when it is a safe integer.
 */
export function jsonHyper(unsigned: boolean): JsonCodec {
  const name = unsigned ? "unsigned hyper" : "hyper";
  const [min, max] = unsigned ? HYPER_RANGE.unsigned : HYPER_RANGE.signed;
  return {
    name,
    encode(w, v) {
      let n: bigint;
      if (typeof v === "string" && DECIMAL.test(v)) n = BigInt(v);
      else if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
      else {
        const hint = Number.isInteger(v) ? " (a number past 2^53 has lost digits: write it as a string)" : "";
        throw w.fail(`expected ${name} as a decimal string, got ${describeJson(v)}${hint}`);
      }
      if (n < min || n > max) throw w.fail(`${n} is out of range for ${name} (${min}..${max})`);
      if (unsigned) w.writeUnsignedHyper(n);
      else w.writeHyper(n);
    },
    decode: (r) => (unsigned ? r.readUnsignedHyper() : r.readHyper()).toString(),
  };
}

/** The numbers JSON cannot write, by the strings that stand for them. */
const SPECIAL_FLOATS: ReadonlyMap<string, number> = new Map([
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["-0", -0],
]);

/** A NaN other than the one JavaScript writes, by its bits: `NaN(0x7fc00001)`. */
const NAN_BITS = /^NaN\(0x([0-9a-fA-F]+)\)$/;

/** Scratch space to move between a float's bits and its number. */
const scratch = new DataView(new ArrayBuffer(8));

/** A float or double in the JSON form: a number, or a string for what JSON text cannot hold. */
function floatToJson(v: number, bits: () => string, canonicalNaN: string): JsonValue {
  if (Number.isNaN(v)) {
    const b = bits();
    return b === canonicalNaN ? "NaN" : `NaN(0x${b})`;
  }
  if (v === Number.POSITIVE_INFINITY) return "Infinity";
  if (v === Number.NEGATIVE_INFINITY) return "-Infinity";
  // JSON.stringify(-0) is "0": the sign would be lost on the way through text.
  if (Object.is(v, -0)) return "-0";
  return v;
}

/**
 * RFC 4506 §4.6–§4.7: a JSON number. What JSON text cannot hold is a string:
 * "NaN", "Infinity", "-Infinity", "-0", and a NaN with other bits than the
 * usual quiet NaN as its bits in hex, `NaN(0xffc00000)` (a double's has 16
 * digits), so that every value read comes back as the same bytes.
 *
 * The bits are read as an unsigned int (an unsigned hyper for a double),
 * which fails on short input exactly as reading a float would.
 */
export function jsonFloat(double: boolean): JsonCodec {
  const name = double ? "double" : "float";
  const digits = double ? 16 : 8;
  const canonicalNaN = double ? "7ff8000000000000" : "7fc00000";
  const fail = (w: XdrWriter, v: JsonValue): never => {
    throw w.fail(
      `expected ${name} (a number, "NaN", "Infinity", "-Infinity", "-0" or "NaN(0x<${digits} hex digits>)"), got ${describeJson(v)}`,
    );
  };
  return {
    name,
    encode(w, v) {
      let n: number | undefined;
      if (typeof v === "number") n = v;
      else if (typeof v === "string") {
        n = SPECIAL_FLOATS.get(v);
        const nan = n === undefined ? NAN_BITS.exec(v) : null;
        if (nan !== null) {
          if (nan[1].length !== digits || !isNaNBits(nan[1], double)) fail(w, v);
          if (double) w.writeUnsignedHyper(BigInt(`0x${nan[1]}`));
          else w.writeUnsignedInt(Number.parseInt(nan[1], 16));
          return;
        }
      }
      if (n === undefined) return fail(w, v);
      if (double) w.writeDouble(n);
      else w.writeFloat(n);
    },
    decode(r) {
      if (double) {
        const bits = r.readUnsignedHyper();
        scratch.setBigUint64(0, bits);
        return floatToJson(scratch.getFloat64(0), () => bits.toString(16).padStart(16, "0"), canonicalNaN);
      }
      const bits = r.readUnsignedInt();
      scratch.setUint32(0, bits);
      return floatToJson(scratch.getFloat32(0), () => bits.toString(16).padStart(8, "0"), canonicalNaN);
    },
  };
}

/** True when hex `bits` are a NaN: every exponent bit set and a fraction that is not zero (IEEE 754). */
function isNaNBits(bits: string, double: boolean): boolean {
  const n = BigInt(`0x${bits}`);
  const [exponent, fraction] = double ? [0x7ff0000000000000n, 0xfffffffffffffn] : [0x7f800000n, 0x7fffffn];
  return (n & exponent) === exponent && (n & fraction) !== 0n;
}

/** RFC 4506 §4.11: a JSON string; `max` bounds its UTF-8 bytes. */
export function jsonString(max: number, name: string): JsonCodec {
  return {
    name,
    encode(w, v) {
      if (typeof v !== "string") throw w.fail(`expected ${name} (a string), got ${describeJson(v)}`);
      w.writeString(v, max);
    },
    decode: (r) => r.readString(max),
  };
}

/** The bytes of standard base64 with padding; anything else (other alphabets, spaces, missing `=`) is refused. */
function fromBase64(w: XdrWriter, v: JsonValue, name: string): Uint8Array {
  if (typeof v !== "string") throw w.fail(`expected ${name} as a base64 string, got ${describeJson(v)}`);
  const bytes = Buffer.from(v, "base64");
  // Buffer skips what it does not understand: only text that comes back unchanged was strict base64.
  if (bytes.toString("base64") !== v) {
    throw w.fail(`${describeJson(v)} is not base64 (standard alphabet, padded with "=")`);
  }
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** RFC 4506 §4.9: base64 of exactly `length` bytes. */
export function jsonFixedOpaque(length: number): JsonCodec {
  const name = `opaque[${length}]`;
  return {
    name,
    encode: (w, v) => w.writeFixedOpaque(fromBase64(w, v, name), length),
    decode: (r) => toBase64(r.readFixedOpaque(length)),
  };
}

/** RFC 4506 §4.10: base64 of at most `max` bytes. */
export function jsonVariableOpaque(max: number, name: string): JsonCodec {
  return {
    name,
    encode: (w, v) => w.writeVariableOpaque(fromBase64(w, v, name), max),
    decode: (r) => toBase64(r.readVariableOpaque(max)),
  };
}
