/**
 * Byte-exact interop of the generated codecs with C (rpcgen + libtirpc), on
 * test/fixtures/everything.x: random values of every type, chosen edge
 * vectors, and malformed input that both sides must reject.
 *
 * Needs gcc, rpcgen and libtirpc-dev; without them these tests fail (never skip).
 * FC_SEED=<n> replays a run; the seed is in every failure message.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { compileSpecification } from "../../src/idl/index.js";
import { decode, encode, XdrError, type XdrErrorCode } from "../../src/xdr/index.js";
import { type CProducer, type CXdrPeer, CXdrStatus, startCXdrPeer } from "../support/c-xdr-harness.js";
import { repoPath } from "../support/paths.js";
import { createXdrArbitraries } from "../support/xdr-arbitrary.js";
import { hex, xdrDifference } from "../support/xdr-equal.js";
import { failureReport, roundTripThroughC } from "./c-roundtrip-check.js";
import { type GeneratedModule, importGeneratedModule } from "./generated-module.js";

const X_FILE = repoPath("test", "fixtures", "everything.x");
const SAMPLES = 300;
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

const resolved = compileSpecification(X_FILE, { readFile: (p) => readFileSync(p, "utf8") });
const TYPES = [...resolved.types.keys()];
/** The types this suite promises to cover; the list above must hold them all. */
const REQUIRED = [
  "everything",
  "node_list",
  "node",
  "point",
  "shape",
  "shape_kind",
  "result",
  "result_detail",
  "maybe_point",
  "scalars",
  "blobs",
  "arrays",
  "color",
  "digest",
  "name_t",
  "small_list",
];

/**
 * Values that C builds, field by field, with the value TypeScript must decode
 * from C's bytes. Random round trips prove the bytes; these prove the meaning:
 * a field order, a sign, an enum value or a union arm that TS and C saw
 * differently would still round-trip, but not decode to what C built.
 */
const PRODUCED: readonly (CProducer & { expected: unknown })[] = [
  { name: "point", type: "point", body: "v->x = 1; v->y = -2;", expected: { x: 1, y: -2 } },
  {
    name: "scalars",
    type: "scalars",
    body: `v->i = -5; v->u = 4000000000u; v->bare = 7; v->h = -(1LL << 40) - 3; v->uh = 0xFEDCBA9876543210ULL;
      v->f = 1.5f; v->d = -2.25; v->flag = TRUE; v->c = DEEP_BLUE; v->s = -300; v->us = 65000;`,
    expected: {
      i: -5,
      u: 4000000000,
      bare: 7,
      h: -(2n ** 40n) - 3n,
      uh: 0xfedcba9876543210n,
      f: 1.5,
      d: -2.25,
      flag: true,
      c: -(2 ** 31),
      s: -300,
      us: 65000,
    },
  },
  {
    name: "blobs",
    type: "blobs",
    body: `static char three[3] = { 1, 2, 3 };
      memcpy(v->fixed, "0123456789", 10);
      v->bounded.bounded_len = 3; v->bounded.bounded_val = three;
      v->unbounded.unbounded_len = 0; v->unbounded.unbounded_val = NULL;
      v->label = "lbl"; v->text = "h\\xc3\\xa9 \\xe2\\x82\\xac"; memset(v->sum, 0x5a, 10); v->alias = "al";`,
    expected: {
      fixed: new TextEncoder().encode("0123456789"),
      bounded: new Uint8Array([1, 2, 3]),
      unbounded: new Uint8Array(0),
      label: "lbl",
      text: "hé €",
      sum: new Uint8Array(10).fill(0x5a),
      alias: "al",
    },
  },
  {
    name: "arrays",
    type: "arrays",
    body: `static point path[2] = { { 10, 11 }, { 12, 13 } };
      static u_int counts[1] = { 4294967295u };
      static int smalls[2] = { -1, 8 };
      static name_t names[2] = { "x", "yz" };
      int i;
      for (i = 0; i < 3; i++) { v->corners[i].x = i; v->corners[i].y = -i; }
      v->path.path_len = 2; v->path.path_val = path;
      v->counts.counts_len = 1; v->counts.counts_val = counts;
      v->smalls.small_list_len = 2; v->smalls.small_list_val = smalls;
      v->names.names_len = 2; v->names.names_val = names;
      v->big[0] = -1; v->big[1] = 1;`,
    expected: {
      corners: [
        { x: 0, y: 0 },
        { x: 1, y: -1 },
        { x: 2, y: -2 },
      ],
      path: [
        { x: 10, y: 11 },
        { x: 12, y: 13 },
      ],
      counts: [4294967295],
      smalls: [-1, 8],
      names: ["x", "yz"],
      big: [-1n, 1n],
    },
  },
  {
    name: "node_list",
    type: "node_list",
    body: `static node n3 = { 3, "c", NULL };
      static node n2 = { 2, "b", &n3 };
      static node n1 = { 1, "a", &n2 };
      *v = &n1;`,
    expected: { value: 1, tag: "a", next: { value: 2, tag: "b", next: { value: 3, tag: "c", next: null } } },
  },
  {
    name: "triangle",
    type: "shape",
    body: `int i;
      v->kind = TRIANGLE;
      for (i = 0; i < 3; i++) { v->shape_u.vertices[i].x = 2 * i + 1; v->shape_u.vertices[i].y = 2 * i + 2; }`,
    expected: {
      kind: 3,
      vertices: [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
        { x: 5, y: 6 },
      ],
    },
  },
  {
    name: "square",
    type: "shape",
    body: "v->kind = SQUARE; v->shape_u.side = 0.5;",
    expected: { kind: 2, side: 0.5 },
  },
  {
    name: "result default arm",
    type: "result",
    body: 'v->status = 42; v->result_u.message = "h\\xc3\\xa9";',
    expected: { status: 42, message: "hé" },
  },
  {
    name: "result nested union",
    type: "result",
    body: "v->status = -7; v->result_u.detail.known = TRUE; v->result_u.detail.result_detail_u.hue = INFRARED;",
    expected: { status: -7, detail: { known: true, hue: -1 } },
  },
  {
    name: "maybe_point",
    type: "maybe_point",
    body: "static point p = { 7, 8 }; v->has = 1; v->maybe_point_u.where = &p;",
    expected: { has: 1, where: { x: 7, y: 8 } },
  },
];

let peer: CXdrPeer;
let mod: GeneratedModule;

before(async () => {
  mod = await importGeneratedModule(X_FILE);
  peer = await startCXdrPeer({ xFile: X_FILE, types: TYPES, producers: PRODUCED });
});

after(async () => {
  await peer?.close();
});

/** Round-trips hand-written values and fails with every difference. */
async function expectByteExact(type: string, values: readonly unknown[]): Promise<void> {
  const failures = await roundTripThroughC(peer, type, mod.codec(type), values);
  assert.equal(failures.length, 0, failureReport(failures, "edge vectors"));
}

/** What C says about `bytes` as `type`. */
async function askC(type: string, bytes: Uint8Array) {
  return peer.roundTrip(type, bytes);
}

/** The XdrError code TypeScript's decoder throws for `bytes`, or null when it accepts them. */
function tsRejects(type: string, bytes: Uint8Array): XdrErrorCode | null {
  try {
    decode(mod.codec(type), bytes);
    return null;
  } catch (e) {
    if (e instanceof XdrError) return e.code;
    throw e;
  }
}

/** Big-endian 32-bit words, then raw bytes. */
function words(...parts: (number | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => {
    if (p instanceof Uint8Array) return Buffer.from(p);
    const b = Buffer.alloc(4);
    if (p < 0) b.writeInt32BE(p);
    else b.writeUInt32BE(p);
    return b;
  });
  return new Uint8Array(Buffer.concat(chunks));
}

test("the suite covers every type of everything.x", () => {
  for (const t of REQUIRED) assert.ok(TYPES.includes(t), `everything.x has no type ${t}`);
  assert.ok(TYPES.length >= REQUIRED.length);
});

describe(`random values, ${SAMPLES} per type, seed ${SEED}`, () => {
  const arbitraries = createXdrArbitraries(resolved);
  TYPES.forEach((type, i) => {
    test(`${type}: TS bytes = C bytes, and C's bytes decode to the same value`, async () => {
      const values = fc.sample(arbitraries.forType(type), { numRuns: SAMPLES, seed: SEED + i });
      const failures = await roundTripThroughC(peer, type, mod.codec(type), values);
      assert.equal(failures.length, 0, failureReport(failures, `FC_SEED=${SEED}`));
    });
  });
});

describe("values built in C decode in TS to the same fields", () => {
  for (const p of PRODUCED) {
    test(`${p.name} (${p.type})`, async () => {
      const reply = await peer.produce(p.name);
      assert.equal(reply.status, CXdrStatus.OK);
      const codec = mod.codec(p.type);
      const fromC = decode(codec, reply.bytes);
      assert.equal(xdrDifference(fromC, p.expected), null);
      assert.equal(hex(encode(codec, p.expected)), hex(reply.bytes));
    });
  }
});

describe("edge vectors", () => {
  const point = (x: number, y: number) => ({ x, y });
  const blobs = (over: Record<string, unknown> = {}) => ({
    fixed: new Uint8Array(10).fill(0xab),
    bounded: new Uint8Array(0),
    unbounded: new Uint8Array(0),
    label: "",
    text: "",
    sum: new Uint8Array(10),
    alias: "",
    ...over,
  });
  const scalars = (over: Record<string, unknown> = {}) => ({
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
    ...over,
  });
  const list = (n: number) => {
    let head: unknown = null;
    for (let i = n - 1; i >= 0; i--) head = { value: i - 100, tag: `n${i}`, next: head };
    return head;
  };

  test("strings exactly at their bound in bytes (ASCII, 2-, 3- and 4-byte UTF-8)", async () => {
    const at16 = ["0123456789abcdef", "éééééééaa", "€€€€€a", "😀😀😀😀", "\u{FEFF}bom at the st"];
    for (const s of at16) assert.equal(Buffer.byteLength(s), 16, s);
    await expectByteExact("name_t", ["", ...at16]);
    await expectByteExact("blobs", [blobs({ label: at16[1], alias: at16[3], text: "x".repeat(1000) + "é" })]);
  });

  test("empty arrays and arrays at their bound", async () => {
    const arrays = (over: Record<string, unknown> = {}) => ({
      corners: [point(0, 0), point(-1, 1), point(2 ** 31 - 1, -(2 ** 31))],
      path: [],
      counts: [],
      smalls: [],
      names: [],
      big: [-(2n ** 63n), 2n ** 63n - 1n],
      ...over,
    });
    await expectByteExact("small_list", [[], [1, 2, 3, 4, 5, 6, 7, -(2 ** 31)]]);
    await expectByteExact("arrays", [
      arrays(),
      arrays({
        path: Array.from({ length: 8 }, (_, i) => point(i, 0 - i)),
        counts: [0, 2 ** 32 - 1],
        smalls: [8, 7, 6, 5, 4, 3, 2, 1],
        names: ["", "a", "0123456789abcdef", "ü"],
      }),
    ]);
  });

  test("1 KiB and 64 KiB opaque data; fixed opaque typedef", async () => {
    const kib = new Uint8Array(1024).map((_, i) => (i * 7 + 3) & 0xff);
    const big = new Uint8Array(65_537).map((_, i) => i & 0xff);
    await expectByteExact("blobs", [
      blobs({ unbounded: kib }),
      blobs({ unbounded: big, bounded: kib.slice(0, 16) }),
    ]);
    await expectByteExact("digest", [new Uint8Array(10), new Uint8Array(10).fill(0xff)]);
  });

  test("a linked list of 200 nodes, and of 1 and 0", async () => {
    await expectByteExact("node_list", [null, list(1), list(200)]);
    const bytes = encode(mod.codec("node_list"), list(200));
    assert.equal((await askC("node_list", bytes)).status, CXdrStatus.OK);
  });

  test("enum extremes: DEEP_BLUE = -2^31 and INFRARED = -1", async () => {
    await expectByteExact("color", [-(2 ** 31), -1, 0, 1, 2]);
    assert.equal(hex(encode(mod.codec("color"), -(2 ** 31))), "80000000");
    await expectByteExact("result_detail", [{ known: true, hue: -(2 ** 31) }, { known: false }]);
  });

  test("float and double NaN, ±Infinity, -0 and extremes come back bit for bit", async () => {
    const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0];
    const values = [
      ...specials.map((v) => scalars({ f: v, d: v })),
      scalars({ f: 1.401298464324817e-45, d: Number.MIN_VALUE }),
      scalars({ f: 3.4028234663852886e38, d: Number.MAX_VALUE }),
      scalars({ f: -3.4028234663852886e38, d: -Number.MAX_VALUE }),
    ];
    await expectByteExact("scalars", values);
    // -0 must stay -0 on the wire (sign bit set) and after C has decoded and re-encoded it.
    const negZero = encode(mod.codec("scalars"), scalars({ f: -0, d: -0 }));
    const reply = await askC("scalars", negZero);
    assert.equal(reply.status, CXdrStatus.OK);
    assert.equal(hex(reply.bytes.subarray(28, 40)), "800000008000000000000000");
    const back = decode(mod.codec("scalars"), reply.bytes) as { f: number; d: number };
    assert.ok(Object.is(back.f, -0) && Object.is(back.d, -0));
  });

  test("integer extremes of every width", async () => {
    await expectByteExact("scalars", [
      scalars({ i: -(2 ** 31), u: 2 ** 32 - 1, bare: 2 ** 32 - 1, h: -(2n ** 63n), uh: 2n ** 64n - 1n }),
      scalars({ i: 2 ** 31 - 1, h: 2n ** 63n - 1n, s: -32768, us: 65535, flag: true, c: -(2 ** 31) }),
      scalars({ s: 32767 }),
    ]);
  });

  test("union arms: listed, shared, void, nested, and default with extreme discriminants", async () => {
    await expectByteExact("result", [
      { status: 0, ok: { kind: 1, radius: -0 } },
      { status: 0, ok: { kind: 3, vertices: [point(1, 2), point(3, 4), point(5, 6)] } },
      { status: 1 },
      { status: 2 },
      { status: -7, detail: { known: true, hue: 2 } },
      { status: -7, detail: { known: false } },
      { status: -(2 ** 31), message: "" },
      { status: 2 ** 31 - 1, message: "0123456789abcdef" },
      { status: 3, message: "ß" },
    ]);
    await expectByteExact("maybe_point", [
      { has: 1, where: null },
      { has: 1, where: point(-1, -1) },
      { has: 0 },
      { has: 2 ** 32 - 1 },
    ]);
  });
});

describe("malformed input: C and TS reject the same things (or the difference is documented)", () => {
  test("a string over its bound", async () => {
    const bytes = words(17, new Uint8Array(20).fill(0x61));
    assert.equal(tsRejects("name_t", bytes), "BOUND_EXCEEDED");
    assert.equal((await askC("name_t", bytes)).status, CXdrStatus.DECODE_FAILED);
  });

  test("an array over its bound", async () => {
    const bytes = words(9, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assert.equal(tsRejects("small_list", bytes), "BOUND_EXCEEDED");
    assert.equal((await askC("small_list", bytes)).status, CXdrStatus.DECODE_FAILED);
  });

  test("a union discriminant with no arm and no default", async () => {
    // shape_kind 9 is not a member: TS stops at the enum; C's xdr_enum lets it through, then the union has no arm.
    const bytes = words(9, 0, 0);
    assert.equal(tsRejects("shape", bytes), "BAD_ENUM");
    assert.equal((await askC("shape", bytes)).status, CXdrStatus.DECODE_FAILED);
  });

  test("truncated input", async () => {
    const full = encode(mod.codec("scalars"), {
      i: 1,
      u: 2,
      bare: 3,
      h: 4n,
      uh: 5n,
      f: 6,
      d: 7,
      flag: true,
      c: 1,
      s: 8,
      us: 9,
    });
    for (const cut of [1, 4, 7]) {
      const bytes = full.subarray(0, full.length - cut);
      assert.equal(tsRejects("scalars", bytes), "SHORT_BUFFER");
      assert.equal((await askC("scalars", bytes)).status, CXdrStatus.DECODE_FAILED, `cut ${cut}`);
    }
  });

  test("trailing bytes after a value", async () => {
    const bytes = words(1, 2, 3);
    assert.equal(tsRejects("point", bytes), "TRAILING_BYTES");
    assert.equal((await askC("point", bytes)).status, CXdrStatus.TRAILING_BYTES);
  });

  test("documented difference: a bool of 2", async () => {
    // result_detail switch (bool known): RFC 4506 §4.4 allows only 0 and 1, and TS rejects 2.
    // libtirpc's xdr_bool does not check: it decodes any non-zero word as TRUE (and would write it back as 1).
    // Here C takes 2 as TRUE and reads the `hue` arm; it re-encodes the discriminant as 1.
    const bytes = words(2, 1);
    assert.equal(tsRejects("result_detail", bytes), "BAD_BOOL");
    const reply = await askC("result_detail", bytes);
    assert.equal(reply.status, CXdrStatus.OK);
    assert.equal(hex(reply.bytes), "0000000100000001");
  });

  test("documented difference: an enum value the enum does not declare", async () => {
    // libtirpc's xdr_enum is xdr_int: it accepts any 32-bit value. TS checks membership (BAD_ENUM).
    const bytes = words(7);
    assert.equal(tsRejects("color", bytes), "BAD_ENUM");
    const reply = await askC("color", bytes);
    assert.equal(reply.status, CXdrStatus.OK);
    assert.equal(hex(reply.bytes), "00000007");
  });

  test("documented difference: non-zero padding", async () => {
    // RFC 4506 §4.10: padding bytes are zero. TS rejects others by default (NONZERO_PADDING);
    // libtirpc's xdr_opaque reads the padding into a scratch buffer and ignores it, and writes zeros back.
    const bytes = words(3, new Uint8Array([0x61, 0x62, 0x63, 0x01]));
    assert.equal(tsRejects("name_t", bytes), "NONZERO_PADDING");
    const reply = await askC("name_t", bytes);
    assert.equal(reply.status, CXdrStatus.OK);
    assert.equal(hex(reply.bytes), "0000000361626300");
  });

  test("documented difference: a short or unsigned short out of range", async () => {
    // xdr_short reads 32 bits and keeps the low 16 (C truncates 65536 to 0); TS rejects values outside -32768..32767.
    const zeros = encode(mod.codec("scalars"), {
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
    const bytes = new Uint8Array(zeros);
    new DataView(bytes.buffer).setInt32(bytes.length - 8, 65536);
    assert.equal(tsRejects("scalars", bytes), "BAD_VALUE");
    const reply = await askC("scalars", bytes);
    assert.equal(reply.status, CXdrStatus.OK);
    assert.equal(hex(reply.bytes.subarray(bytes.length - 8, bytes.length - 4)), "00000000");
  });
});
