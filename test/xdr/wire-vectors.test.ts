/**
 * Wire vectors in hex for every XDR primitive (RFC 4506 §4), both ways:
 * each value must encode to exactly these bytes and decode back from them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decode,
  encode,
  type XdrCodec,
  xdrBool,
  xdrDouble,
  xdrFixedArray,
  xdrFixedOpaque,
  xdrFloat,
  xdrHyper,
  xdrInt,
  xdrOptional,
  xdrString,
  xdrUnsignedHyper,
  xdrUnsignedInt,
  xdrVariableArray,
  xdrVariableOpaque,
  xdrVoid,
} from "../../src/xdr/index.js";
import { fromHex, toHex } from "./helpers.js";

/** Asserts `value` encodes to `hex` and `hex` decodes to `value` (NaN and -0 compared with Object.is). */
function vector<T>(codec: XdrCodec<T>, value: T, hex: string, decoded: T = value): void {
  const bytes = encode(codec, value);
  assert.equal(toHex(bytes), hex.replace(/[\s_]/g, ""), `encoding of ${String(value)} as ${codec.name}`);
  assert.deepEqual(decode(codec, fromHex(hex)), decoded, `decoding of ${hex} as ${codec.name}`);
}

const bytesOf = (...values: number[]) => Uint8Array.from(values);

describe("RFC 4506 §4.1 int", () => {
  test("zero, one, minus one and the extremes, big-endian two's complement", () => {
    vector(xdrInt, 0, "00000000");
    vector(xdrInt, 1, "00000001");
    vector(xdrInt, -1, "ffffffff");
    vector(xdrInt, 0x01020304, "01020304");
    vector(xdrInt, 2147483647, "7fffffff");
    vector(xdrInt, -2147483648, "80000000");
    vector(xdrInt, -2, "fffffffe");
  });
});

describe("RFC 4506 §4.2 unsigned int", () => {
  test("zero, the top bit and the maximum", () => {
    vector(xdrUnsignedInt, 0, "00000000");
    vector(xdrUnsignedInt, 0x80000000, "80000000");
    vector(xdrUnsignedInt, 4294967295, "ffffffff");
    vector(xdrUnsignedInt, 0xdeadbeef, "deadbeef");
  });
});

describe("RFC 4506 §4.5 hyper and unsigned hyper", () => {
  test("hyper extremes", () => {
    vector(xdrHyper, 0n, "0000000000000000");
    vector(xdrHyper, -1n, "ffffffffffffffff");
    vector(xdrHyper, 0x0102030405060708n, "0102030405060708");
    vector(xdrHyper, 2n ** 63n - 1n, "7fffffffffffffff");
    vector(xdrHyper, -(2n ** 63n), "8000000000000000");
    vector(xdrHyper, 2n ** 32n, "0000000100000000");
  });
  test("unsigned hyper extremes", () => {
    vector(xdrUnsignedHyper, 0n, "0000000000000000");
    vector(xdrUnsignedHyper, 2n ** 64n - 1n, "ffffffffffffffff");
    vector(xdrUnsignedHyper, 2n ** 63n, "8000000000000000");
    vector(xdrUnsignedHyper, 0xfedcba9876543210n, "fedcba9876543210");
  });
});

describe("RFC 4506 §4.6 float", () => {
  test("ordinary values, signed zeros, infinities and NaN", () => {
    vector(xdrFloat, 1, "3f800000");
    vector(xdrFloat, -2, "c0000000");
    vector(xdrFloat, 0, "00000000");
    vector(xdrFloat, -0, "80000000");
    vector(xdrFloat, Number.POSITIVE_INFINITY, "7f800000");
    vector(xdrFloat, Number.NEGATIVE_INFINITY, "ff800000");
    vector(xdrFloat, 3.4028234663852886e38, "7f7fffff");
    vector(xdrFloat, 1.401298464324817e-45, "00000001");
    const nan = encode(xdrFloat, Number.NaN);
    // Exponent all ones and a non-zero fraction, whatever the sign and payload.
    assert.equal(
      (nan[0] & 0x7f) === 0x7f && (nan[1] & 0x80) === 0x80 && (nan[1] & 0x7f) + nan[2] + nan[3] > 0,
      true,
    );
    assert.ok(Number.isNaN(decode(xdrFloat, fromHex("7fc00000"))));
    assert.ok(Number.isNaN(decode(xdrFloat, fromHex("ff800001"))), "a NaN with a payload and the sign set");
  });
  test("doubles are rounded to the nearest float, as C converts them", () => {
    vector(xdrFloat, 0.1, "3dcccccd", Math.fround(0.1));
    vector(xdrFloat, 1e39, "7f800000", Number.POSITIVE_INFINITY);
    vector(xdrFloat, 1e-50, "00000000", 0);
  });
  test("-0 keeps its sign through a round trip", () => {
    assert.ok(Object.is(decode(xdrFloat, encode(xdrFloat, -0)), -0));
  });
});

describe("RFC 4506 §4.7 double", () => {
  test("ordinary values, signed zeros, infinities and NaN", () => {
    vector(xdrDouble, 1, "3ff0000000000000");
    vector(xdrDouble, 0.1, "3fb999999999999a");
    vector(xdrDouble, -2.5, "c004000000000000");
    vector(xdrDouble, 0, "0000000000000000");
    vector(xdrDouble, -0, "8000000000000000");
    vector(xdrDouble, Number.POSITIVE_INFINITY, "7ff0000000000000");
    vector(xdrDouble, Number.NEGATIVE_INFINITY, "fff0000000000000");
    vector(xdrDouble, Number.MAX_VALUE, "7fefffffffffffff");
    vector(xdrDouble, 5e-324, "0000000000000001");
    vector(xdrDouble, Number.NaN, "7ff8000000000000");
    assert.ok(Number.isNaN(decode(xdrDouble, fromHex("fff0000000000001"))));
    assert.ok(Object.is(decode(xdrDouble, encode(xdrDouble, -0)), -0));
  });
});

describe("RFC 4506 §4.4 bool", () => {
  test("FALSE is 0 and TRUE is 1", () => {
    vector(xdrBool, false, "00000000");
    vector(xdrBool, true, "00000001");
  });
});

describe("RFC 4506 §4.9 fixed-length opaque", () => {
  test("padded with zeros to a multiple of four", () => {
    vector(xdrFixedOpaque(0), new Uint8Array(0), "");
    vector(xdrFixedOpaque(1), bytesOf(0xab), "ab000000");
    vector(xdrFixedOpaque(2), bytesOf(1, 2), "01020000");
    vector(xdrFixedOpaque(3), bytesOf(1, 2, 3), "01020300");
    vector(xdrFixedOpaque(4), bytesOf(1, 2, 3, 4), "01020304");
    vector(xdrFixedOpaque(5), bytesOf(1, 2, 3, 4, 5), "01020304 05000000");
    vector(xdrFixedOpaque(8), bytesOf(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "ffffffff ffffffff");
  });
  test("a long value (copied by the memcpy path, not the byte loop)", () => {
    const value = Uint8Array.from({ length: 37 }, (_, i) => i + 1);
    const hex = toHex(value) + "000000";
    vector(xdrFixedOpaque(37), value, hex);
  });
});

describe("RFC 4506 §4.10 variable-length opaque", () => {
  test("a length, the bytes, zero padding", () => {
    vector(xdrVariableOpaque(), new Uint8Array(0), "00000000");
    vector(xdrVariableOpaque(), bytesOf(0xab), "00000001 ab000000");
    vector(xdrVariableOpaque(), bytesOf(1, 2, 3), "00000003 01020300");
    vector(xdrVariableOpaque(), bytesOf(1, 2, 3, 4), "00000004 01020304");
    vector(xdrVariableOpaque(8), bytesOf(1, 2, 3, 4, 5), "00000005 01020304 05000000");
    vector(xdrVariableOpaque(5), bytesOf(1, 2, 3, 4, 5), "00000005 01020304 05000000");
  });
});

describe("RFC 4506 §4.11 string", () => {
  test("ASCII: a byte length, the bytes, zero padding", () => {
    vector(xdrString(), "", "00000000");
    vector(xdrString(), "a", "00000001 61000000");
    vector(xdrString(), "abc", "00000003 61626300");
    vector(xdrString(), "abcd", "00000004 61626364");
    vector(xdrString(), "hello", "00000005 68656c6c 6f000000");
    vector(xdrString(), "a\u0000b", "00000003 61006200");
  });
  test("multi-byte UTF-8 is counted in bytes", () => {
    vector(xdrString(), "é", "00000002 c3a90000");
    vector(xdrString(), "héllo", "00000006 68c3a96c 6c6f0000");
    vector(xdrString(), "€", "00000003 e282ac00");
    vector(xdrString(), "😀", "00000004 f09f9880");
    vector(xdrString(), "a😀", "00000005 61f09f98 80000000");
  });
  test("the bound applies to UTF-8 bytes, not UTF-16 units or code points", () => {
    // 5 UTF-16 units, 6 bytes.
    assert.equal(toHex(encode(xdrString(6), "héllo")), "0000000668c3a96c6c6f0000");
    assert.throws(() => encode(xdrString(5), "héllo"), { code: "BAD_VALUE" });
    // 2 units, 1 code point, 4 bytes.
    assert.throws(() => encode(xdrString(3), "😀"), { code: "BAD_VALUE" });
    assert.equal(toHex(encode(xdrString(4), "😀")), "00000004f09f9880");
    // And the decoder measures the bound in bytes too.
    assert.throws(() => decode(xdrString(5), fromHex("00000006 68c3a96c 6c6f0000")), {
      code: "BOUND_EXCEEDED",
    });
  });
  test("long strings (native encoder and decoder paths) round-trip with the right byte length", () => {
    const text = "ascii-" + "x".repeat(70) + "-ünïcödé-€-😀-" + "y".repeat(40);
    const expected = Buffer.from(text, "utf8");
    const bytes = encode(xdrString(), text);
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0), expected.length);
    assert.deepEqual(Buffer.from(bytes.subarray(4, 4 + expected.length)), expected);
    assert.equal(bytes.length, 4 + ((expected.length + 3) & ~3));
    assert.equal(decode(xdrString(), bytes), text);
    const ascii = "z".repeat(1000);
    assert.equal(decode(xdrString(), encode(xdrString(), ascii)), ascii);
  });
});

describe("RFC 4506 §4.12, §4.13 arrays", () => {
  test("fixed-length arrays carry no count", () => {
    vector(xdrFixedArray(xdrInt, 2), [1, -1], "00000001 ffffffff");
    vector(xdrFixedArray(xdrInt, 0), [], "");
    vector(xdrFixedArray(xdrHyper, 1), [5n], "0000000000000005");
  });
  test("variable-length arrays carry an element count", () => {
    vector(xdrVariableArray(xdrInt), [], "00000000");
    vector(xdrVariableArray(xdrInt), [1, 2, 3], "00000003 00000001 00000002 00000003");
    vector(xdrVariableArray(xdrString(), 4), ["a", "bcde"], "00000002 00000001 61000000 00000004 62636465");
    vector(
      xdrVariableArray(xdrVariableArray(xdrUnsignedInt)),
      [[7], []],
      "00000002 00000001 00000007 00000000",
    );
  });
});

describe("RFC 4506 §4.19 optional data and §4.16 void", () => {
  test("optional is a bool and, when TRUE, the value", () => {
    vector(xdrOptional(xdrInt), null, "00000000");
    vector(xdrOptional(xdrInt), 5, "00000001 00000005");
    vector(xdrOptional(xdrString()), "", "00000001 00000000");
  });
  test("void is nothing", () => {
    vector(xdrVoid, null, "");
  });
});
