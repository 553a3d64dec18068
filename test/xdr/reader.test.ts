/**
 * XdrReader and the decode helper on malformed input: every failure is an
 * XdrError with the right code and the byte offset where it happened.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DEFAULT_READER_OPTIONS,
  decode,
  encode,
  XdrError,
  XdrReader,
  XdrWriter,
  xdrBool,
  xdrDouble,
  xdrFixedArray,
  xdrFixedOpaque,
  xdrHyper,
  xdrInt,
  xdrOptional,
  xdrString,
  xdrUnsignedHyper,
  xdrUnsignedInt,
  xdrVariableArray,
  xdrVariableOpaque,
} from "../../src/xdr/index.js";
import { expectXdrError, fromHex, largestArrayAllocated } from "./helpers.js";

describe("SHORT_BUFFER", () => {
  test("each primitive with one byte too few", () => {
    expectXdrError(() => decode(xdrInt, fromHex("000000")), { code: "SHORT_BUFFER", offset: 0, path: "int" });
    expectXdrError(() => decode(xdrUnsignedInt, new Uint8Array(0)), { code: "SHORT_BUFFER", offset: 0 });
    expectXdrError(() => decode(xdrBool, fromHex("00")), { code: "SHORT_BUFFER", offset: 0 });
    expectXdrError(() => decode(xdrHyper, fromHex("00000000 000000")), { code: "SHORT_BUFFER", offset: 0 });
    expectXdrError(() => decode(xdrUnsignedHyper, fromHex("0000")), { code: "SHORT_BUFFER", offset: 0 });
    expectXdrError(() => decode(xdrDouble, fromHex("3ff00000 000000")), { code: "SHORT_BUFFER", offset: 0 });
    expectXdrError(() => decode(xdrFixedOpaque(3), fromHex("010203")), { code: "SHORT_BUFFER", offset: 0 });
  });
  test("the second item of a sequence fails at its own offset", () => {
    expectXdrError(() => decode(xdrFixedArray(xdrInt, 3), fromHex("00000001 00000002 0000")), {
      code: "SHORT_BUFFER",
      offset: 8,
      path: "int[3][2]",
    });
  });
  test("a length that the remaining bytes cannot hold fails at the length, before reading on", () => {
    expectXdrError(() => decode(xdrString(), fromHex("00000005 61626364")), {
      code: "SHORT_BUFFER",
      offset: 0,
    });
    expectXdrError(() => decode(xdrVariableOpaque(), fromHex("00000009 0102030405060708")), {
      code: "SHORT_BUFFER",
      offset: 0,
    });
    // 3 elements of at least 4 bytes need 12; 8 remain.
    expectXdrError(() => decode(xdrVariableArray(xdrInt), fromHex("00000003 00000001 00000002")), {
      code: "SHORT_BUFFER",
      offset: 0,
    });
  });
  test("the data fits but its padding does not", () => {
    expectXdrError(() => decode(xdrString(), fromHex("00000003 616263")), {
      code: "SHORT_BUFFER",
      offset: 4,
    });
    expectXdrError(() => decode(xdrVariableOpaque(), fromHex("00000001 01")), {
      code: "SHORT_BUFFER",
      offset: 4,
    });
    expectXdrError(() => decode(xdrFixedOpaque(1), fromHex("01")), { code: "SHORT_BUFFER", offset: 0 });
  });
});

describe("fixed lengths of 2^31 and more", () => {
  test("are SHORT_BUFFER, not the rest of the input or a step backwards", () => {
    // Regression: the padding was computed with (n + 3) & ~3, which is 32-bit signed.
    for (const n of [0x7ffffffd, 0x7fffffff, 0x80000000, 0xfffffffd, 0xffffffff]) {
      const r = new XdrReader(new Uint8Array(64));
      r.readInt();
      expectXdrError(() => r.readFixedOpaque(n), { code: "SHORT_BUFFER", offset: 4 });
      expectXdrError(() => decode(xdrFixedOpaque(n), new Uint8Array(64)), {
        code: "SHORT_BUFFER",
        offset: 0,
      });
    }
  });
});

describe("BOUND_EXCEEDED and LENGTH_LIMIT", () => {
  test("a length over the declared bound fails even when the bytes are there", () => {
    expectXdrError(() => decode(xdrString(4), fromHex("00000005 68656c6c 6f000000")), {
      code: "BOUND_EXCEEDED",
      offset: 0,
      path: "string<4>",
    });
    expectXdrError(() => decode(xdrVariableOpaque(0), fromHex("00000001 01000000")), {
      code: "BOUND_EXCEEDED",
      offset: 0,
    });
    expectXdrError(
      () => decode(xdrVariableArray(xdrInt, 2), fromHex("00000003 00000001 00000002 00000003")),
      {
        code: "BOUND_EXCEEDED",
        offset: 0,
      },
    );
    // At the bound is fine.
    assert.deepEqual(decode(xdrVariableArray(xdrInt, 2), fromHex("00000002 00000001 00000002")), [1, 2]);
  });
  test("maxLength caps every length whatever the .x file says", () => {
    const bytes = fromHex("00000005 68656c6c 6f000000");
    assert.equal(decode(xdrString(), bytes, { maxLength: 5 }), "hello");
    expectXdrError(() => decode(xdrString(), bytes, { maxLength: 4 }), { code: "LENGTH_LIMIT", offset: 0 });
    expectXdrError(() => decode(xdrVariableOpaque(), bytes, { maxLength: 4 }), {
      code: "LENGTH_LIMIT",
      offset: 0,
    });
    expectXdrError(() => decode(xdrVariableArray(xdrUnsignedInt), bytes, { maxLength: 0 }), {
      code: "LENGTH_LIMIT",
      offset: 0,
    });
    // The declared bound is checked first.
    expectXdrError(() => decode(xdrString(2), bytes, { maxLength: 4 }), { code: "BOUND_EXCEEDED" });
  });
  test("the default maxLength is 64 MiB", () => {
    assert.equal(DEFAULT_READER_OPTIONS.maxLength, 64 * 1024 * 1024);
    expectXdrError(() => decode(xdrVariableOpaque(), fromHex("04000001")), {
      code: "LENGTH_LIMIT",
      offset: 0,
    });
    expectXdrError(() => decode(xdrVariableOpaque(), fromHex("04000000")), {
      code: "SHORT_BUFFER",
      offset: 0,
    });
  });
});

describe("BAD_BOOL", () => {
  test("only 0 and 1 are booleans", () => {
    expectXdrError(() => decode(xdrBool, fromHex("00000002")), { code: "BAD_BOOL", offset: 0, path: "bool" });
    expectXdrError(() => decode(xdrBool, fromHex("ffffffff")), { code: "BAD_BOOL", offset: 0 });
    expectXdrError(() => decode(xdrBool, fromHex("01000000")), { code: "BAD_BOOL", offset: 0 });
  });
  test("the bool of optional data too", () => {
    expectXdrError(
      () => decode(xdrVariableArray(xdrOptional(xdrInt)), fromHex("00000002 00000000 00000003")),
      {
        code: "BAD_BOOL",
        offset: 8,
        path: "*int<>[1]",
      },
    );
  });
});

describe("NONZERO_PADDING", () => {
  test("fails at the first non-zero padding byte", () => {
    expectXdrError(() => decode(xdrVariableOpaque(), fromHex("00000001 01000100")), {
      code: "NONZERO_PADDING",
      offset: 6,
    });
    expectXdrError(() => decode(xdrString(), fromHex("00000002 6869ff00")), {
      code: "NONZERO_PADDING",
      offset: 6,
    });
    expectXdrError(() => decode(xdrString(), fromHex("00000003 61626301")), {
      code: "NONZERO_PADDING",
      offset: 7,
    });
    expectXdrError(() => decode(xdrFixedOpaque(1), fromHex("01800000")), {
      code: "NONZERO_PADDING",
      offset: 1,
    });
  });
  test("allowNonZeroPadding accepts them and returns only the data", () => {
    const options = { allowNonZeroPadding: true };
    assert.deepEqual([...decode(xdrVariableOpaque(), fromHex("00000001 01ffffff"), options)], [1]);
    assert.equal(decode(xdrString(), fromHex("00000002 6869ff00"), options), "hi");
    assert.deepEqual([...decode(xdrFixedOpaque(1), fromHex("01800000"), options)], [1]);
  });
});

describe("TRAILING_BYTES", () => {
  test("bytes after the value are refused unless asked for", () => {
    expectXdrError(() => decode(xdrInt, fromHex("00000001 00000002")), { code: "TRAILING_BYTES", offset: 4 });
    expectXdrError(() => decode(xdrString(), fromHex("00000000 00")), { code: "TRAILING_BYTES", offset: 4 });
    assert.equal(decode(xdrInt, fromHex("00000001 00000002"), { allowTrailingBytes: true }), 1);
  });
  test("expectEnd on a reader", () => {
    const r = new XdrReader(fromHex("00000001 00000002"));
    r.readInt();
    expectXdrError(() => r.expectEnd(), { code: "TRAILING_BYTES", offset: 4 });
    r.readInt();
    r.expectEnd();
  });
});

describe("DEPTH_LIMIT", () => {
  test("enter() fails past maxDepth", () => {
    const r = new XdrReader(new Uint8Array(8), { maxDepth: 3 });
    r.enter();
    r.enter();
    r.enter();
    r.readInt();
    expectXdrError(() => r.enter(), { code: "DEPTH_LIMIT", offset: 4 });
  });
  test("leave() gives the level back", () => {
    const r = new XdrReader(new Uint8Array(0), { maxDepth: 2 });
    for (let i = 0; i < 1000; i++) {
      r.enter();
      r.enter();
      r.leave();
      r.leave();
    }
    r.enter();
    r.enter();
    assert.throws(() => r.enter(), { code: "DEPTH_LIMIT" });
  });
  test("maxDepth 0 refuses any recursive level; the default is 1000", () => {
    assert.throws(() => new XdrReader(new Uint8Array(0), { maxDepth: 0 }).enter(), { code: "DEPTH_LIMIT" });
    const r = new XdrReader(new Uint8Array(0));
    for (let i = 0; i < DEFAULT_READER_OPTIONS.maxDepth; i++) r.enter();
    assert.throws(() => r.enter(), { code: "DEPTH_LIMIT" });
  });
  test("reset() starts again at depth 0", () => {
    const r = new XdrReader(new Uint8Array(0), { maxDepth: 1 });
    r.enter();
    r.reset(new Uint8Array(4));
    r.enter();
    assert.equal(r.readInt(), 0);
  });
});

describe("narrowed integers", () => {
  test("readIntInRange refuses values outside the range at their offset", () => {
    const r = new XdrReader(fromHex("00007fff ffff8000 00008000"));
    assert.equal(r.readIntInRange(-32768, 32767), 32767);
    assert.equal(r.readIntInRange(-32768, 32767), -32768);
    expectXdrError(() => r.readIntInRange(-32768, 32767), { code: "BAD_VALUE", offset: 8 });
    const u = new XdrReader(fromHex("0000ffff ffffffff"));
    assert.equal(u.readIntInRange(0, 65535), 65535);
    expectXdrError(() => u.readIntInRange(0, 65535), { code: "BAD_VALUE", offset: 4 });
  });
});

describe("opaque data: view by default, copy on request", () => {
  test("a view shares the input buffer", () => {
    const input = fromHex("00000003 0a0b0c00");
    const out = decode(xdrVariableOpaque(), input);
    assert.equal(out.buffer, input.buffer);
    assert.equal(out.byteOffset, input.byteOffset + 4);
    assert.equal(out.length, 3);
    input[4] = 0x99;
    assert.equal(out[0], 0x99, "the view sees later changes to the input");
  });
  test("copyOpaque gives bytes of its own", () => {
    const input = fromHex("00000003 0a0b0c00");
    const out = decode(xdrVariableOpaque(), input, { copyOpaque: true });
    assert.notEqual(out.buffer, input.buffer);
    input[4] = 0x99;
    assert.deepEqual([...out], [0x0a, 0x0b, 0x0c]);
    const fixed = decode(xdrFixedOpaque(2), fromHex("01020000"), { copyOpaque: true });
    assert.equal(fixed.buffer.byteLength, 2);
  });
  test("fixed opaque is a view too", () => {
    const input = fromHex("01020000");
    assert.equal(decode(xdrFixedOpaque(2), input).buffer, input.buffer);
  });
});

describe("reader over part of a larger buffer", () => {
  test("offsets count from the view's start, at any alignment", () => {
    const backing = new Uint8Array(64).fill(0xee);
    backing.set(fromHex("00000001 fffffffe 00000002 6869 0000"), 3);
    const view = backing.subarray(3, 3 + 16);
    const r = new XdrReader(view);
    assert.equal(r.readInt(), 1);
    assert.equal(r.readInt(), -2);
    assert.equal(r.readString(), "hi");
    assert.equal(r.remaining, 0);
    r.expectEnd();
    // The 0xee bytes after the view are not readable.
    expectXdrError(() => r.readInt(), { code: "SHORT_BUFFER", offset: 16 });
  });
  test("reset() points the reader at new input with its options", () => {
    const r = new XdrReader(fromHex("00000001"), { maxLength: 1 });
    assert.equal(r.readInt(), 1);
    r.reset(fromHex("00000002 6869 0000"));
    assert.equal(r.offset, 0);
    assert.throws(() => r.readString(), { code: "LENGTH_LIMIT" });
  });
});

describe("hostile lengths allocate nothing", () => {
  const DEFAULT_MAX = DEFAULT_READER_OPTIONS.maxLength;
  const huge = [0xffffffff, 0x7fffffff, 0x80000000, 0x3fffffff, 0x04000000, 0x03ffffff];

  test("the spy sees the arrays that decoding allocates", () => {
    const largest = largestArrayAllocated(() => {
      decode(xdrVariableArray(xdrInt), fromHex("00000003 00000001 00000002 00000003"));
    });
    assert.equal(largest, 3);
  });

  for (const n of huge) {
    test(`length 0x${n.toString(16)}: fails fast without allocating`, () => {
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, n);
      const input = new Uint8Array(64);
      input.set(prefix);
      const unlimited = { maxLength: Number.POSITIVE_INFINITY };
      const cases: { run: () => unknown; bound: number; maxLength: number }[] = [
        { run: () => decode(xdrVariableArray(xdrInt), input), bound: 0xffffffff, maxLength: DEFAULT_MAX },
        { run: () => decode(xdrVariableArray(xdrInt, 8), input), bound: 8, maxLength: DEFAULT_MAX },
        {
          run: () => decode(xdrVariableArray(xdrVariableArray(xdrHyper)), input),
          bound: 0xffffffff,
          maxLength: DEFAULT_MAX,
        },
        { run: () => decode(xdrVariableOpaque(), input), bound: 0xffffffff, maxLength: DEFAULT_MAX },
        { run: () => decode(xdrString(), input), bound: 0xffffffff, maxLength: DEFAULT_MAX },
        { run: () => decode(xdrString(100), input), bound: 100, maxLength: DEFAULT_MAX },
        {
          run: () => decode(xdrVariableArray(xdrInt), input, unlimited),
          bound: 0xffffffff,
          maxLength: 0xffffffff,
        },
        {
          run: () => decode(xdrVariableOpaque(), input, { maxLength: 0xffffffff, copyOpaque: true }),
          bound: 0xffffffff,
          maxLength: 0xffffffff,
        },
        { run: () => decode(xdrString(), input, unlimited), bound: 0xffffffff, maxLength: 0xffffffff },
        { run: () => decode(xdrString(), input, { maxLength: 1000 }), bound: 0xffffffff, maxLength: 1000 },
      ];
      global.gc?.();
      const before = process.memoryUsage();
      const started = performance.now();
      const largest = largestArrayAllocated(() => {
        for (let round = 0; round < 100; round++) {
          for (const { run, bound, maxLength } of cases) {
            const code = n > bound ? "BOUND_EXCEEDED" : n > maxLength ? "LENGTH_LIMIT" : "SHORT_BUFFER";
            expectXdrError(run, { code, offset: 0 });
          }
        }
      });
      const elapsed = performance.now() - started;
      const after = process.memoryUsage();
      assert.ok(largest <= 64, `new Array(${largest}) for a hostile length`);
      assert.ok(elapsed < 500, `1000 hostile decodes took ${elapsed.toFixed(1)} ms`);
      assert.ok(
        after.arrayBuffers - before.arrayBuffers < 1024 * 1024,
        "array buffers grew by more than 1 MiB",
      );
      assert.ok(after.heapUsed - before.heapUsed < 32 * 1024 * 1024, "the heap grew by more than 32 MiB");
    });
  }
});

describe("strings that are not valid UTF-8", () => {
  const isCode = (code: string) => (e: unknown) => e instanceof XdrError && e.code === code;

  test("are refused with BAD_STRING at the string's first byte, nothing replaced silently", () => {
    assert.throws(() => decode(xdrString(), fromHex("00000002 fffe0000")), isCode("BAD_STRING"));
    assert.throws(() => decode(xdrString(), fromHex("00000003 61c36200")), isCode("BAD_STRING"));
    const long = "00000028" + "61".repeat(39) + "ff";
    assert.throws(
      () => decode(xdrString(), fromHex(long)),
      (e: unknown) => e instanceof XdrError && e.code === "BAD_STRING" && e.offset === 4,
    );
    // A leading U+FEFF is data, not a byte order mark to strip.
    assert.equal(decode(xdrString(), fromHex("00000004 efbbbf61")), "\ufeffa");
  });

  test("are kept byte for byte with stringEncoding latin1, and written back the same", () => {
    const codec = xdrString(4);
    const bytes = fromHex("00000004 ff00e961");
    const value = decode(codec, bytes, { stringEncoding: "latin1" });
    assert.equal(value, "\u00ff\u0000\u00e9a");
    const writer = new XdrWriter({ stringEncoding: "latin1" });
    codec.encode(writer, value);
    assert.deepEqual(writer.bytes(), bytes);
  });

  test("a latin1 writer refuses characters above U+00FF; a UTF-8 writer refuses lone surrogates", () => {
    const latin1 = new XdrWriter({ stringEncoding: "latin1" });
    assert.throws(() => latin1.writeString("caf\u00e9 \u20ac"), isCode("BAD_VALUE"));
    assert.throws(() => encode(xdrString(), "a\ud800b"), isCode("BAD_VALUE"));
    assert.equal(encode(xdrString(), "\ud83d\ude00").length, 8);
  });
});

describe("readIntArray and readUnsignedIntArray", () => {
  test("read a count and that many elements, signed or unsigned", () => {
    const bytes = fromHex("00000003 00000001 ffffffff 80000000");
    assert.deepEqual(new XdrReader(bytes).readIntArray(), [1, -1, -0x8000_0000]);
    const r = new XdrReader(bytes);
    assert.deepEqual(r.readUnsignedIntArray(3), [1, 0xffff_ffff, 0x8000_0000]);
    assert.equal(r.remaining, 0);
    assert.deepEqual(new XdrReader(fromHex("00000000")).readIntArray(0), []);
  });
  test("check the count as readLength does: bound, maxLength, bytes for every element", () => {
    const three = fromHex("00000003 00000001 00000002 00000003");
    expectXdrError(() => new XdrReader(three).readIntArray(2), { code: "BOUND_EXCEEDED", offset: 0 });
    expectXdrError(() => new XdrReader(three, { maxLength: 2 }).readUnsignedIntArray(), {
      code: "LENGTH_LIMIT",
      offset: 0,
    });
    expectXdrError(() => new XdrReader(three.subarray(0, 15)).readUnsignedIntArray(), {
      code: "SHORT_BUFFER",
      offset: 0,
    });
    expectXdrError(() => new XdrReader(fromHex("000000")).readIntArray(), {
      code: "SHORT_BUFFER",
      offset: 0,
    });
    // A count that would need more memory than the input could ever fill allocates nothing.
    expectXdrError(() => new XdrReader(fromHex("ffffffff 00000001")).readIntArray(), {
      code: "LENGTH_LIMIT",
    });
  });
  test("leave the reader after the last element", () => {
    const r = new XdrReader(fromHex("00000008 00000002 00000001 00000002 00000007"));
    r.readInt();
    assert.deepEqual(r.readIntArray(2), [1, 2]);
    assert.equal(r.offset, 16);
    assert.equal(r.readInt(), 7);
  });
});
