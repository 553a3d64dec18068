/**
 * The codecs the generator makes of test/fixtures/everything.x and
 * test/xdr/fixtures/extra.x, compiled at test time: wire layout, error
 * offsets and paths deep inside structures, linked lists without recursion,
 * depth limits on recursive types, enums, unions and narrowed integers.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { decode, encode, type XdrCodec, type XdrError } from "../../src/xdr/index.js";
import { loadGenerated } from "../support/load-generated.js";
import { expectXdrError, fromHex, largestArrayAllocated, toHex } from "./helpers.js";

type Codec = XdrCodec<unknown>;
let everything: Record<string, unknown>;
let extra: Record<string, unknown>;
const codec = (module: Record<string, unknown>, name: string) => {
  const c = module[name];
  assert.ok(c && typeof c === "object" && "decode" in c, `${name} is not a codec`);
  return c as Codec;
};
const E = (name: string) => codec(everything, name);
const X = (name: string) => codec(extra, name);

before(async () => {
  everything = await loadGenerated("test/fixtures/everything.x");
  extra = await loadGenerated("test/xdr/fixtures/extra.x");
});

/**
 * A value of struct everything whose layout is worked out by hand below, so
 * that offsets in errors can be checked against the wire, not against the code.
 */
function sample() {
  return {
    scalars: {
      i: -5, // 0
      u: 7, // 4
      bare: 0xffffffff, // 8
      h: -(2n ** 63n), // 12
      uh: 2n ** 64n - 1n, // 20
      f: 1.5, // 28
      d: -0, // 32
      flag: true, // 40
      c: -2147483648, // 44, DEEP_BLUE
      s: -32768, // 48
      us: 65535, // 52
    },
    blobs: {
      fixed: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), // 56
      bounded: Uint8Array.from([0xa, 0xb, 0xc]), // 68: length, 72: data, 75: padding
      unbounded: new Uint8Array(0), // 76
      label: "héllo", // 80: 6 bytes
      text: "", // 92
      sum: new Uint8Array(10).fill(0xff), // 96
      alias: "a", // 108
    },
    arrays: {
      corners: [
        { x: 1, y: 2 }, // 116
        { x: 3, y: 4 },
        { x: 5, y: 6 },
      ],
      path: [
        { x: 10, y: 11 }, // 140: count, 144: path[0]
        { x: 12, y: 13 },
        { x: 14, y: 15 }, // 160: path[2].x, 164: path[2].y
      ],
      counts: [1, 2], // 168
      smalls: [5], // 180
      names: ["ab", "cd"], // 188: count, 192: names[0], 200: names[1]
      big: [1n, -1n], // 208
    },
    // 224: bool; node 0 at 228 (value), 232 (tag), 240 (next); node 1 at 244, 248, 256; node 2 at 260, 264, 268
    list: { value: 1, tag: "x", next: { value: 2, tag: "yy", next: { value: 3, tag: "", next: null } } },
    shapes: [
      { kind: 1, radius: 1 }, // 272: count, 276: kind, 280: radius
      {
        kind: 3, // 288
        vertices: [
          { x: 0, y: 0 },
          { x: 1, y: 0 },
          { x: 0, y: 1 },
        ],
      },
    ],
    outcome: { status: -7, detail: { known: true, hue: -1 } }, // 316, 320, 324
    maybe: { has: 1, where: { x: 9, y: 10 } }, // 328, 332, 336, 340
    origin: null, // 344
  }; // 348 bytes
}
const SAMPLE_BYTES = 348;

function sampleBytes(): Uint8Array {
  return encode(E("EverythingCodec"), sample());
}

function withWord(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value >>> 0);
  return copy;
}

describe("everything.x: layout and round trip", () => {
  test("the sample has the layout worked out by hand", () => {
    const bytes = sampleBytes();
    assert.equal(bytes.length, SAMPLE_BYTES);
    const word = (offset: number) => new DataView(bytes.buffer).getUint32(offset);
    assert.equal(word(44), 0x80000000, "scalars.c");
    assert.equal(word(68), 3, "blobs.bounded length");
    assert.equal(toHex(bytes.subarray(72, 76)), "0a0b0c00");
    assert.equal(toHex(bytes.subarray(80, 92)), "0000000668c3a96c6c6f0000");
    assert.equal(word(140), 3, "arrays.path count");
    assert.equal(word(164), 15, "arrays.path[2].y");
    assert.equal(word(200), 2, "arrays.names[1] length");
    assert.equal(word(224), 1, "list present");
    assert.equal(word(240), 1, "node 0 has a next");
    assert.equal(word(268), 0, "node 2 ends the list");
    assert.equal(word(272), 2, "shapes count");
    assert.equal(word(316), 0xfffffff9, "outcome status -7");
    assert.equal(word(344), 0, "origin absent");
  });

  test("decode(encode(v)) is v, including -0 and the 64-bit extremes", () => {
    const back = decode(E("EverythingCodec"), sampleBytes()) as ReturnType<typeof sample>;
    assert.deepEqual(back, sample());
    assert.ok(Object.is(back.scalars.d, -0));
  });
});

describe("everything.x: decode errors name the field and the byte", () => {
  const cases: {
    name: string;
    mutate: (b: Uint8Array) => Uint8Array;
    code: string;
    offset: number;
    path: string;
  }[] = [
    {
      // The count is refused before any element is read: 3 points need 24 bytes, 22 remain.
      name: "truncated inside a point of a struct array",
      mutate: (b) => b.subarray(0, 166),
      code: "SHORT_BUFFER",
      offset: 140,
      path: "everything.arrays.path",
    },
    {
      // Here the count passes (each shape takes at least 12 bytes) and the last vertex is cut.
      name: "truncated inside a fixed array in a union in an array",
      mutate: (b) => b.subarray(0, 314),
      code: "SHORT_BUFFER",
      offset: 312,
      path: "everything.shapes[1].vertices[2].y",
    },
    {
      name: "an enum value the enum lacks",
      mutate: (b) => withWord(b, 44, 3),
      code: "BAD_ENUM",
      offset: 44,
      path: "everything.scalars.c",
    },
    {
      name: "a bool that is 2",
      mutate: (b) => withWord(b, 40, 2),
      code: "BAD_BOOL",
      offset: 40,
      path: "everything.scalars.flag",
    },
    {
      name: "short out of range",
      mutate: (b) => withWord(b, 48, 0x8000),
      code: "BAD_VALUE",
      offset: 48,
      path: "everything.scalars.s",
    },
    {
      name: "unsigned short out of range",
      mutate: (b) => withWord(b, 52, 0x10000),
      code: "BAD_VALUE",
      offset: 52,
      path: "everything.scalars.us",
    },
    {
      name: "non-zero padding after opaque data",
      mutate: (b) => {
        const c = b.slice();
        c[75] = 1;
        return c;
      },
      code: "NONZERO_PADDING",
      offset: 75,
      path: "everything.blobs.bounded",
    },
    {
      name: "a string over its bound",
      mutate: (b) => withWord(b, 80, 17),
      code: "BOUND_EXCEEDED",
      offset: 80,
      path: "everything.blobs.label",
    },
    {
      name: "an array over its bound",
      mutate: (b) => withWord(b, 140, 9),
      code: "BOUND_EXCEEDED",
      offset: 140,
      path: "everything.arrays.path",
    },
    {
      name: "an array element over its bound",
      mutate: (b) => withWord(b, 200, 17),
      code: "BOUND_EXCEEDED",
      offset: 200,
      path: "everything.arrays.names[1]",
    },
    {
      name: "an unbounded array longer than the input",
      mutate: (b) => withWord(b, 168, 0x7fffffff),
      code: "LENGTH_LIMIT",
      offset: 168,
      path: "everything.arrays.counts",
    },
    {
      name: "a field of the third element of a linked list",
      mutate: (b) => withWord(b, 264, 17),
      code: "BOUND_EXCEEDED",
      offset: 264,
      path: "everything.list.next#2.tag",
    },
    {
      name: "the link of the head of a linked list",
      mutate: (b) => withWord(b, 240, 2),
      code: "BAD_BOOL",
      offset: 240,
      path: "everything.list.next",
    },
    {
      name: "the link of the second element of a linked list",
      mutate: (b) => withWord(b, 256, 2),
      code: "BAD_BOOL",
      offset: 256,
      path: "everything.list.next#1.next",
    },
    {
      name: "a union discriminant in an array of unions",
      mutate: (b) => withWord(b, 288, 5),
      code: "BAD_ENUM",
      offset: 288,
      path: "everything.shapes[1].kind",
    },
    {
      name: "an enum in a union in a union",
      mutate: (b) => withWord(b, 324, 7),
      code: "BAD_ENUM",
      offset: 324,
      path: "everything.outcome.detail.hue",
    },
    {
      name: "the bool of optional data in a union arm",
      mutate: (b) => withWord(b, 332, 7),
      code: "BAD_BOOL",
      offset: 332,
      path: "everything.maybe.where",
    },
    {
      name: "the bool of optional data in a struct",
      mutate: (b) => withWord(b, 344, 2),
      code: "BAD_BOOL",
      offset: 344,
      path: "everything.origin",
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const e = expectXdrError(() => decode(E("EverythingCodec"), c.mutate(sampleBytes())), {
        code: c.code as XdrError["code"],
        offset: c.offset,
        path: c.path,
      });
      assert.ok(e.message.startsWith(`${c.code}: `), e.message);
      assert.ok(e.message.endsWith(` at byte ${c.offset} in ${c.path}`), e.message);
    });
  }
  test("a byte after the value", () => {
    const bytes = new Uint8Array(SAMPLE_BYTES + 4);
    bytes.set(sampleBytes());
    expectXdrError(() => decode(E("EverythingCodec"), bytes), {
      code: "TRAILING_BYTES",
      offset: SAMPLE_BYTES,
    });
  });
});

describe("everything.x: hostile lengths in every length field", () => {
  const lengthFields: [number, string][] = [
    [68, "everything.blobs.bounded"],
    [76, "everything.blobs.unbounded"],
    [80, "everything.blobs.label"],
    [92, "everything.blobs.text"],
    [108, "everything.blobs.alias"],
    [140, "everything.arrays.path"],
    [168, "everything.arrays.counts"],
    [180, "everything.arrays.smalls"],
    [188, "everything.arrays.names"],
    [192, "everything.arrays.names[0]"],
    [232, "everything.list.tag"],
    [272, "everything.shapes"],
  ];
  for (const n of [0xffffffff, 0x7fffffff, 0x80000000, 0x04000000, 0x03ffffff, 0x00100000]) {
    test(`0x${n.toString(16)}: refused at the length, fast, with no large array`, () => {
      const bytes = sampleBytes();
      const started = performance.now();
      const largest = largestArrayAllocated(() => {
        for (const [offset, path] of lengthFields) {
          expectXdrError(() => decode(E("EverythingCodec"), withWord(bytes, offset, n)), {
            code: codeFor(n, offset),
            offset,
            path,
          });
        }
      });
      assert.ok(largest <= 8, `new Array(${largest})`);
      assert.ok(performance.now() - started < 200);
    });
  }
  /** Bounded fields refuse with BOUND_EXCEEDED; unbounded ones with LENGTH_LIMIT over 64 MiB, else SHORT_BUFFER. */
  function codeFor(n: number, offset: number): XdrError["code"] {
    const unbounded = offset === 76 || offset === 92 || offset === 168;
    if (!unbounded) return "BOUND_EXCEEDED";
    return n > 64 * 1024 * 1024 ? "LENGTH_LIMIT" : "SHORT_BUFFER";
  }
});

describe("everything.x: encode errors name the field and the byte", () => {
  test("a fractional int in a struct array", () => {
    const v = sample();
    v.arrays.path[2].y = 1.5;
    expectXdrError(() => encode(E("EverythingCodec"), v), {
      code: "BAD_VALUE",
      offset: 164,
      path: "everything.arrays.path[2].y",
    });
  });
  test("a short out of range", () => {
    const v = sample();
    v.scalars.s = 40000;
    expectXdrError(() => encode(E("EverythingCodec"), v), {
      code: "BAD_VALUE",
      offset: 48,
      path: "everything.scalars.s",
    });
  });
  test("a field of the third element of a linked list", () => {
    const v = sample();
    v.list.next.next.tag = "x".repeat(17);
    expectXdrError(() => encode(E("EverythingCodec"), v), {
      code: "BAD_VALUE",
      offset: 264,
      path: "everything.list.next#2.tag",
    });
  });
  test("a missing field and a value of the wrong shape are BAD_VALUE, not TypeError", () => {
    const v: Record<string, unknown> = sample();
    delete v.blobs;
    expectXdrError(() => encode(E("EverythingCodec"), v), {
      code: "BAD_VALUE",
      offset: 56,
      path: "everything.blobs.fixed",
    });
    expectXdrError(() => encode(E("EverythingCodec"), null), { code: "BAD_VALUE", offset: 0 });
    expectXdrError(() => encode(E("SmallListCodec"), null), { code: "BAD_VALUE", offset: 0 });
    expectXdrError(() => encode(E("NodeListCodec"), { value: 1, tag: "a" }), { code: "BAD_VALUE" });
  });
  test("an array over its bound and a fixed array of the wrong length", () => {
    const v = sample();
    v.arrays.path = Array.from({ length: 9 }, () => ({ x: 0, y: 0 }));
    expectXdrError(() => encode(E("EverythingCodec"), v), {
      code: "BAD_VALUE",
      offset: 140,
      path: "everything.arrays.path",
    });
    const w = sample();
    w.arrays.corners.pop();
    expectXdrError(() => encode(E("EverythingCodec"), w), {
      code: "BAD_VALUE",
      offset: 116,
      path: "everything.arrays.corners",
    });
  });
});

describe("everything.x: a linked list of 1,000,000 nodes", () => {
  const N = 1_000_000;
  test("encodes and decodes by loops, not recursion, and round-trips", () => {
    let list: { value: number; tag: string; next: unknown } | null = null;
    for (let i = N - 1; i >= 0; i--)
      list = { value: i * 3, tag: i % 100_000 === 0 ? `t${i}` : "", next: list };
    const bytes = encode(E("NodeListCodec"), list);
    // 4 for the first bool, then value + empty tag + next per node, plus the ten tags' bytes.
    let tagBytes = 0;
    for (let i = 0; i < N; i += 100_000) tagBytes += (`t${i}`.length + 3) & ~3;
    assert.equal(bytes.length, 4 + N * 12 + tagBytes);

    // One enter() for the whole list: a tiny maxDepth is enough.
    const back = decode(E("NodeListCodec"), bytes, { maxDepth: 1 }) as {
      value: number;
      tag: string;
      next: unknown;
    };
    let count = 0;
    let node = back as { value: number; tag: string; next: unknown } | null;
    let last = node;
    while (node !== null) {
      if (count % 99_991 === 0 || count === N - 1) assert.equal(node.value, count * 3);
      if (count % 100_000 === 0) assert.equal(node.tag, `t${count}`);
      else if (count % 77_777 === 1) assert.equal(node.tag, "");
      last = node;
      node = node.next as typeof node;
      count++;
    }
    assert.equal(count, N);
    assert.equal(last?.value, (N - 1) * 3);
    // And the decoded list encodes to the same bytes.
    assert.ok(Buffer.from(encode(E("NodeListCodec"), back)).equals(bytes));
  });
  test("an error near the end of a long list names the element", () => {
    let list: { value: number; tag: string; next: unknown } | null = null;
    for (let i = 999; i >= 0; i--) list = { value: i, tag: "", next: list };
    const bytes = encode(E("NodeListCodec"), list);
    // Element 998's tag length (its value is at 4 + 998 * 12).
    const offset = 4 + 998 * 12 + 4;
    expectXdrError(() => decode(E("NodeListCodec"), withWord(bytes, offset, 99)), {
      code: "BOUND_EXCEEDED",
      offset,
      path: "node_list.next#998.tag",
    });
  });
});

describe("recursive types that are not lists: the depth limit", () => {
  /** expr nested `levels` deep: levels - 1 negations of a literal. */
  function negations(levels: number): Uint8Array {
    const bytes = new Uint8Array((levels - 1) * 8 + 8);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < levels - 1; i++) {
      view.setInt32(i * 8, 1);
      view.setUint32(i * 8 + 4, 1);
    }
    view.setInt32((levels - 1) * 8 + 4, 42);
    return bytes;
  }
  function negationValue(levels: number): unknown {
    let v: unknown = { op: 0, literal: 42 };
    for (let i = 1; i < levels; i++) v = { op: 1, negate: v };
    return v;
  }

  test("the default maxDepth of 1000 takes 1000 levels and refuses 1001", () => {
    const ok = decode(X("ExprCodec"), negations(1000));
    assert.deepEqual(encode(X("ExprCodec"), ok), negations(1000));
    const e = expectXdrError(() => decode(X("ExprCodec"), negations(1001)), {
      code: "DEPTH_LIMIT",
      offset: 8000,
    });
    assert.equal(e.path[0], "expr");
    assert.ok(e.path.length <= 64, `path of ${e.path.length} segments`);
    assert.ok(e.pathString.startsWith("expr.negate.negate"), e.pathString);
  });

  test("maxDepth is honoured exactly", () => {
    decode(X("ExprCodec"), negations(10), { maxDepth: 10 });
    expectXdrError(() => decode(X("ExprCodec"), negations(11), { maxDepth: 10 }), {
      code: "DEPTH_LIMIT",
      offset: 80,
    });
  });

  test("a tree that nests through the first of its fields", () => {
    const depth = 50;
    let tree: unknown = { left: null, right: null, value: depth - 1 };
    for (let i = depth - 2; i >= 0; i--) tree = { left: tree, right: null, value: i };
    const bytes = encode(X("TreeCodec"), tree);
    // Each level: left bool, (subtree), right bool, value; the leaf has two absent pointers.
    assert.equal(bytes.length, depth * 12);
    assert.deepEqual(decode(X("TreeCodec"), bytes, { maxDepth: depth }), tree);
    // The leaf's decode starts after the depth - 1 "left present" bools.
    expectXdrError(() => decode(X("TreeCodec"), bytes, { maxDepth: depth - 1 }), {
      code: "DEPTH_LIMIT",
      offset: (depth - 1) * 4,
    });
  });

  test("recursion through a struct and a union both count", () => {
    // add(lit, lit): expr (1) -> expr_pair (2) -> expr (3)
    const bytes = fromHex("00000002 00000001 00000000 00000001 00000000 00000002");
    assert.deepEqual(decode(X("ExprCodec"), bytes, { maxDepth: 3 }), {
      op: 2,
      add: { left: { op: 0, literal: 1 }, right: { op: 0, literal: 2 } },
    });
    expectXdrError(() => decode(X("ExprCodec"), bytes, { maxDepth: 2 }), {
      code: "DEPTH_LIMIT",
      offset: 8,
      path: "expr.add.left",
    });
  });

  test("nesting deeper than the stack, with no limit set, is DEPTH_LIMIT and not a RangeError", () => {
    const levels = 300_000;
    const e = expectXdrError(
      () => decode(X("ExprCodec"), negations(levels), { maxDepth: Number.POSITIVE_INFINITY }),
      { code: "DEPTH_LIMIT" },
    );
    assert.ok(e.path.length <= 64);
    expectXdrError(() => encode(X("ExprCodec"), negationValue(levels)), { code: "DEPTH_LIMIT" });
  });

  test("the same reader decodes again after a DEPTH_LIMIT once reset", () => {
    // Through the decode helper each call has a fresh reader; this checks the limit does not leak between calls.
    for (let i = 0; i < 3; i++) {
      assert.throws(() => decode(X("ExprCodec"), negations(20), { maxDepth: 10 }), { code: "DEPTH_LIMIT" });
      decode(X("ExprCodec"), negations(10), { maxDepth: 10 });
    }
  });
});

describe("enums are checked both ways", () => {
  test("every member round-trips, with negative values in two's complement", () => {
    for (const [value, hex] of [
      [0, "00000000"],
      [1, "00000001"],
      [2, "00000002"],
      [-1, "ffffffff"],
      [-2147483648, "80000000"],
    ] as const) {
      assert.equal(toHex(encode(E("ColorCodec"), value)), hex);
      assert.equal(decode(E("ColorCodec"), fromHex(hex)), value);
    }
  });
  test("encoding a value the enum lacks is BAD_VALUE", () => {
    for (const bad of [3, -3, 2147483647, "RED", null, 1.5, 1n]) {
      expectXdrError(() => encode(E("ColorCodec"), bad), { code: "BAD_VALUE", offset: 0, path: "color" });
    }
    expectXdrError(() => encode(E("ShapeKindCodec"), 0), { code: "BAD_VALUE", path: "shape_kind" });
  });
  test("decoding a value the enum lacks is BAD_ENUM at its offset", () => {
    expectXdrError(() => decode(E("ColorCodec"), fromHex("00000003")), {
      code: "BAD_ENUM",
      offset: 0,
      path: "color",
    });
    expectXdrError(() => decode(E("ColorCodec"), fromHex("7fffffff")), { code: "BAD_ENUM", offset: 0 });
    expectXdrError(() => decode(E("ShapeKindCodec"), fromHex("00000000")), { code: "BAD_ENUM", offset: 0 });
    expectXdrError(() => decode(E("ShapeCodec"), fromHex("00000005 3ff00000 00000000")), {
      code: "BAD_ENUM",
      offset: 0,
      path: "shape.kind",
    });
  });
});

describe("unions", () => {
  test("arms share a case, and the wire is discriminant then arm", () => {
    assert.equal(toHex(encode(E("ShapeCodec"), { kind: 2, side: 2 })), "00000002" + "4000000000000000");
    assert.equal(toHex(encode(E("ShapeCodec"), { kind: 4, side: 2 })), "00000004" + "4000000000000000");
    assert.deepEqual(decode(E("ShapeCodec"), fromHex("00000004 4000000000000000")), { kind: 4, side: 2 });
  });
  test("a discriminant no arm names, without a default arm, is BAD_DISCRIMINANT", () => {
    expectXdrError(() => decode(X("StrictChoiceCodec"), fromHex("00000003")), {
      code: "BAD_DISCRIMINANT",
      offset: 0,
      path: "strict_choice.k",
    });
    expectXdrError(() => decode(X("StrictChoiceCodec"), fromHex("ffffffff 00000000")), {
      code: "BAD_DISCRIMINANT",
    });
    // An enum value that is in the enum but has no arm.
    expectXdrError(() => decode(X("PartialCodec"), fromHex("00000003 00000000")), {
      code: "BAD_DISCRIMINANT",
      offset: 0,
      path: "partial.l",
    });
    // A value not in the enum fails as an enum first.
    expectXdrError(() => decode(X("PartialCodec"), fromHex("00000004 00000000")), {
      code: "BAD_ENUM",
      offset: 0,
    });
    // And the encoder refuses what the decoder would.
    expectXdrError(() => encode(X("StrictChoiceCodec"), { k: 3 }), {
      code: "BAD_VALUE",
      path: "strict_choice.k",
    });
    expectXdrError(() => encode(X("PartialCodec"), { l: 3 }), { code: "BAD_VALUE", path: "partial.l" });
    assert.equal(toHex(encode(X("StrictChoiceCodec"), { k: 2 })), "00000002");
    assert.equal(toHex(encode(X("StrictChoiceCodec"), { k: 1, one: -1 })), "00000001ffffffff");
  });
  test("the default arm takes every other discriminant", () => {
    const R = E("ResultCodec");
    assert.equal(toHex(encode(R, { status: 42, message: "hi" })), "0000002a" + "00000002" + "68690000");
    assert.deepEqual(decode(R, fromHex("0000002a 00000002 68690000")), { status: 42, message: "hi" });
    assert.deepEqual(decode(R, fromHex("80000000 00000000")), { status: -2147483648, message: "" });
    assert.deepEqual(decode(R, fromHex("00000001")), { status: 1 });
    assert.deepEqual(decode(R, fromHex("00000002")), { status: 2 });
    assert.deepEqual(decode(R, fromHex("fffffff9 00000000")), { status: -7, detail: { known: false } });
    expectXdrError(() => decode(R, fromHex("00000003 00000011")), {
      code: "BOUND_EXCEEDED",
      offset: 4,
      path: "result.message",
    });
    // A void default arm.
    const M = E("MaybePointCodec");
    assert.equal(toHex(encode(M, { has: 0xffffffff })), "ffffffff");
    assert.deepEqual(decode(M, fromHex("00000000")), { has: 0 });
    assert.deepEqual(decode(M, fromHex("00000001 00000000")), { has: 1, where: null });
    expectXdrError(() => decode(M, fromHex("00000000 00000000")), { code: "TRAILING_BYTES", offset: 4 });
  });
  test("a bool discriminant must still be a bool", () => {
    expectXdrError(() => decode(E("ResultDetailCodec"), fromHex("00000002")), {
      code: "BAD_BOOL",
      offset: 0,
      path: "result_detail.known",
    });
  });
});

describe("narrowed integers: short and unsigned short", () => {
  const base = () => ({
    i: 0,
    u: 0,
    bare: 0,
    h: 0n,
    uh: 0n,
    f: 0,
    d: 0,
    flag: false,
    c: 0,
    s: 0,
    us: 0,
  });
  test("the extremes encode as 4-byte ints", () => {
    const S = E("ScalarsCodec");
    const v = { ...base(), s: -32768, us: 65535 };
    const bytes = encode(S, v);
    assert.equal(toHex(bytes.subarray(48)), "ffff8000" + "0000ffff");
    assert.deepEqual(decode(S, bytes), v);
    const w = { ...base(), s: 32767, us: 0 };
    assert.equal(toHex(encode(S, w).subarray(48)), "00007fff" + "00000000");
  });
  test("one past either end is refused both ways", () => {
    const S = E("ScalarsCodec");
    for (const [field, value] of [
      ["s", 32768],
      ["s", -32769],
      ["us", 65536],
      ["us", -1],
    ] as const) {
      const offset = field === "s" ? 48 : 52;
      expectXdrError(() => encode(S, { ...base(), [field]: value }), {
        code: "BAD_VALUE",
        offset,
        path: `scalars.${field}`,
      });
      const bytes = withWord(encode(S, base()), offset, value);
      expectXdrError(() => decode(S, bytes), { code: "BAD_VALUE", offset, path: `scalars.${field}` });
    }
  });
  test("in union arms too", () => {
    const P = X("PartialCodec");
    assert.equal(toHex(encode(P, { l: 1, small: 65535 })), "00000001" + "0000ffff");
    assert.equal(toHex(encode(P, { l: 2, signed_small: -1 })), "00000002" + "ffffffff");
    expectXdrError(() => decode(P, fromHex("00000001 00010000")), {
      code: "BAD_VALUE",
      offset: 4,
      path: "partial.small",
    });
    expectXdrError(() => decode(P, fromHex("00000002 00008000")), {
      code: "BAD_VALUE",
      offset: 4,
      path: "partial.signed_small",
    });
  });
});
