/**
 * Encoding refuses values that do not fit their XDR type, with BAD_VALUE,
 * the output offset where it stopped and the path of the value.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  encode,
  type XdrCodec,
  XdrWriter,
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
} from "../../src/xdr/index.js";
import { expectXdrError } from "./helpers.js";

/** Every value in `bad` must be refused by `codec` with BAD_VALUE at offset 0, and nothing left in a writer. */
function rejects(codec: XdrCodec<unknown>, bad: unknown[]): void {
  for (const value of bad) {
    expectXdrError(() => encode(codec, value), { code: "BAD_VALUE", offset: 0, path: codec.name });
    const w = new XdrWriter();
    w.writeInt(1);
    assert.throws(
      () => codec.encode(w, value),
      { name: "XdrError", code: "BAD_VALUE" },
      `${codec.name} ${value}`,
    );
    assert.equal(w.length, 4, `a refused ${codec.name} writes nothing`);
  }
}

const any = <T>(codec: XdrCodec<T>) => codec as XdrCodec<unknown>;

describe("encode-side rejections: BAD_VALUE", () => {
  test("int: out of range, not an integer, not a number", () => {
    rejects(any(xdrInt), [2 ** 31, -(2 ** 31) - 1, 1.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]);
    rejects(any(xdrInt), ["1", 1n, null, undefined, true, {}, [1]]);
  });
  test("unsigned int: negative, too big, fractional, wrong type", () => {
    rejects(any(xdrUnsignedInt), [-1, 2 ** 32, 0.5, Number.NaN, "7", 7n, null, false]);
  });
  test("hyper: outside 64 bits, or a number instead of a bigint", () => {
    rejects(any(xdrHyper), [2n ** 63n, -(2n ** 63n) - 1n, 1, "1", null, 1.5]);
  });
  test("unsigned hyper: negative or 2^64", () => {
    rejects(any(xdrUnsignedHyper), [-1n, 2n ** 64n, 0, "0", undefined]);
  });
  test("float and double: not a number", () => {
    rejects(any(xdrFloat), ["1", 1n, null, undefined, true]);
    rejects(any(xdrDouble), ["1.5", 1n, null, {}]);
  });
  test("bool: only true and false, not 0/1 or strings", () => {
    rejects(any(xdrBool), [0, 1, "true", null, undefined]);
  });
  test("fixed opaque: length mismatch and wrong types", () => {
    rejects(any(xdrFixedOpaque(4)), [new Uint8Array(3), new Uint8Array(5), [1, 2, 3, 4], "abcd", null]);
    rejects(any(xdrFixedOpaque(0)), [new Uint8Array(1)]);
  });
  test("variable opaque: over the bound and wrong types", () => {
    rejects(any(xdrVariableOpaque(4)), [new Uint8Array(5), [1], "ab", new Uint16Array(1), null]);
    // The bound itself is fine.
    assert.equal(encode(xdrVariableOpaque(4), new Uint8Array(4)).length, 8);
  });
  test("string: over the bound (in UTF-8 bytes) and wrong types", () => {
    rejects(any(xdrString(3)), ["abcd", "ééé", "€€", 5, null, new Uint8Array(1)]);
    rejects(any(xdrString(0)), ["a"]);
    assert.equal(encode(xdrString(0), "").length, 4);
  });
  test("variable arrays: over the bound, not an array", () => {
    rejects(any(xdrVariableArray(xdrInt, 2)), [[1, 2, 3], "ab", null, { length: 1 }]);
  });
  test("fixed arrays: length mismatch", () => {
    rejects(any(xdrFixedArray(xdrInt, 2)), [[1], [1, 2, 3], [], null]);
  });
});

describe("encode-side error offsets and paths", () => {
  test("a bad element names its index and the offset where the writer stopped", () => {
    const codec = xdrVariableArray(xdrInt);
    const e = expectXdrError(() => encode(codec as XdrCodec<unknown>, [1, 2, 3.5, 4]), {
      code: "BAD_VALUE",
      offset: 4 + 2 * 4,
      path: "int<>[2]",
    });
    assert.match(e.message, /^BAD_VALUE: .*3\.5.* at byte 12 in int<>\[2\]$/);
  });
  test("nested arrays and optionals", () => {
    const codec = xdrVariableArray(xdrOptional(xdrFixedArray(xdrHyper, 2)), 4);
    expectXdrError(() => encode(codec as XdrCodec<unknown>, [null, [1n, 2n], [3n, 4]]), {
      code: "BAD_VALUE",
      offset: 4 + 4 + (4 + 16) + 4 + 8,
      path: "*hyper[2]<4>[2][1]",
    });
  });
  test("the writer's own fail() reports its current length", () => {
    const w = new XdrWriter();
    w.writeHyper(1n);
    const e = w.fail("nope");
    assert.equal(e.code, "BAD_VALUE");
    assert.equal(e.offset, 8);
  });
  test("writeLength refuses counts over the bound and negative counts", () => {
    const w = new XdrWriter();
    assert.throws(() => w.writeLength(3, 2), { code: "BAD_VALUE" });
    assert.throws(() => w.writeLength(-1), { code: "BAD_VALUE" });
    assert.throws(() => w.writeLength(2 ** 32), { code: "BAD_VALUE" });
    assert.equal(w.length, 0);
  });
  test("writeIntInRange refuses values outside the narrowed range", () => {
    const w = new XdrWriter();
    assert.throws(() => w.writeIntInRange(32768, -32768, 32767), { code: "BAD_VALUE" });
    assert.throws(() => w.writeIntInRange(-32769, -32768, 32767), { code: "BAD_VALUE" });
    assert.throws(() => w.writeIntInRange(65536, 0, 65535), { code: "BAD_VALUE" });
    assert.throws(() => w.writeIntInRange(-1, 0, 65535), { code: "BAD_VALUE" });
    assert.throws(() => w.writeIntInRange(1.5, 0, 65535), { code: "BAD_VALUE" });
    w.writeIntInRange(-32768, -32768, 32767);
    w.writeIntInRange(65535, 0, 65535);
    assert.deepEqual([...w.view()], [0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff]);
  });
});
