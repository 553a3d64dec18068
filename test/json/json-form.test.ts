/**
 * The JSON form, rule by rule (docs/json.md), each with its bytes: numbers,
 * hypers as decimal strings, enums by name (or number on input), opaque data
 * as base64, arrays, structs, unions with and without an arm, optional data,
 * void, typedefs, and the strings that stand for what JSON text cannot hold.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createJsonCodec, type JsonValue } from "../../src/json/index.js";
import { decode, encode } from "../../src/xdr/index.js";
import { compileText, hex, unhex } from "./support.js";

const spec = compileText(`
const MAXNAME = 8;
enum color { RED = 0, GREEN = 1, BLUE = 2, CRIMSON = 0 };
typedef string name_t<MAXNAME>;
typedef name_t alias_t;
struct point { int x; int y; };
union reply switch (color c) {
case RED:
  int code;
case GREEN:
  void;
default:
  string why<>;
};
union flagged switch (bool b) {
case TRUE:
  hyper big;
case FALSE:
  void;
};
union numbered switch (unsigned int n) {
case 1:
  point p;
case 0xffffffff:
  void;
};
typedef struct { int a; } inline_t;
struct chars { char c; unsigned char uc; short s; unsigned short us; };
`);

/** Encodes `json` as type `type` (hex out), and checks that the bytes decode to `back` (default: `json`). */
function roundTrip(type: string, json: JsonValue, bytes: string, back: JsonValue = json): void {
  const codec = createJsonCodec(spec, type);
  const written = encode(codec, json);
  assert.equal(hex(written), bytes.replace(/[\s_]/g, ""));
  assert.deepEqual(decode(codec, written), back);
  assert.deepEqual(decode(codec, unhex(bytes)), back);
}

const named = (name: string) => ({ kind: "named", name, loc: { file: "t", line: 1, column: 1 } }) as const;
const loc = { file: "t", line: 1, column: 1 };

describe("numbers", () => {
  test("int, unsigned int, char and short are JSON numbers", () => {
    assert.equal(
      hex(encode(createJsonCodec(spec, { kind: "int", unsigned: false, bits: 32, loc }), -2)),
      "fffffffe",
    );
    roundTrip("chars", { c: -128, uc: 255, s: -32768, us: 65535 }, "ffffff80 000000ff ffff8000 0000ffff");
    const u = createJsonCodec(spec, { kind: "int", unsigned: true, bits: 32, loc });
    assert.equal(hex(encode(u, 4294967295)), "ffffffff");
    assert.equal(decode(u, unhex("ffffffff")), 4294967295);
  });

  test("hyper and unsigned hyper are decimal strings; a safe integer number is accepted on input", () => {
    const h = createJsonCodec(spec, { kind: "int", unsigned: false, bits: 64, loc });
    const uh = createJsonCodec(spec, { kind: "int", unsigned: true, bits: 64, loc });
    assert.equal(h.name, "hyper");
    assert.equal(hex(encode(h, "-9223372036854775808")), "8000000000000000");
    assert.equal(decode(h, unhex("8000000000000000")), "-9223372036854775808");
    assert.equal(hex(encode(uh, "18446744073709551615")), "ffffffffffffffff");
    assert.equal(decode(uh, unhex("ffffffffffffffff")), "18446744073709551615");
    assert.equal(hex(encode(h, -1)), "ffffffffffffffff");
    assert.equal(hex(encode(uh, Number.MAX_SAFE_INTEGER)), "001fffffffffffff");
    assert.equal(decode(uh, unhex("001fffffffffffff")), "9007199254740991");
  });

  test("float and double are numbers; NaN, the infinities, -0 and other NaNs are strings", () => {
    const f = createJsonCodec(spec, { kind: "float", loc });
    const d = createJsonCodec(spec, { kind: "double", loc });
    assert.equal(hex(encode(f, 1.5)), "3fc00000");
    assert.equal(decode(f, unhex("3fc00000")), 1.5);
    assert.equal(hex(encode(f, 0.1)), "3dcccccd"); // rounded as C rounds a double to float
    assert.equal(decode(d, unhex("3ff8000000000000")), 1.5);
    const specials: [JsonValue, string, string][] = [
      ["NaN", "7fc00000", "7ff8000000000000"],
      ["Infinity", "7f800000", "7ff0000000000000"],
      ["-Infinity", "ff800000", "fff0000000000000"],
      ["-0", "80000000", "8000000000000000"],
    ];
    for (const [json, fb, db] of specials) {
      assert.equal(hex(encode(f, json)), fb);
      assert.equal(decode(f, unhex(fb)), json);
      assert.equal(hex(encode(d, json)), db);
      assert.equal(decode(d, unhex(db)), json);
    }
    // A NaN with other bits (a signalling one, a negative one) keeps them, in hex.
    assert.equal(decode(f, unhex("7f800001")), "NaN(0x7f800001)");
    assert.equal(hex(encode(f, "NaN(0x7f800001)")), "7f800001");
    assert.equal(decode(d, unhex("fff8000000000001")), "NaN(0xfff8000000000001)");
    assert.equal(hex(encode(d, "NaN(0xfff8000000000001)")), "fff8000000000001");
    // JSON.parse("-0") is -0, which is written as it is.
    assert.equal(hex(encode(d, JSON.parse("-0"))), "8000000000000000");
  });
});

test("bool is true or false", () => {
  const b = createJsonCodec(spec, { kind: "bool", loc });
  assert.equal(hex(encode(b, true)), "00000001");
  assert.equal(decode(b, unhex("00000000")), false);
});

test("an enum is its member's name; a member's number is accepted on input", () => {
  roundTrip("color", "BLUE", "00000002");
  roundTrip("color", 1, "00000001", "GREEN");
  // Two names for one value: the first written is the one decoded.
  roundTrip("color", "CRIMSON", "00000000", "RED");
});

test("string is a string; typedefs resolve to their target", () => {
  roundTrip("name_t", "héllo", "00000006 68c3a96c 6c6f0000");
  roundTrip("alias_t", "", "00000000");
});

test("opaque data is base64, standard alphabet with padding", () => {
  const fixed = createJsonCodec(spec, {
    kind: "fixedOpaque",
    name: "f",
    length: { kind: "literal", value: 3n, loc },
    loc,
  });
  const variable = createJsonCodec(spec, { kind: "varOpaque", name: "v", max: null, loc });
  assert.equal(fixed.name, "opaque[3]");
  assert.equal(hex(encode(fixed, "AP8/")), "00ff3f00");
  assert.equal(decode(fixed, unhex("00ff3f00")), "AP8/");
  assert.equal(hex(encode(variable, "+/8=")), "00000002fbff0000");
  assert.equal(decode(variable, unhex("00000002fbff0000")), "+/8=");
  assert.equal(decode(variable, unhex("00000000")), "");
});

test("arrays, fixed and variable, are JSON arrays", () => {
  const fixed = createJsonCodec(spec, {
    kind: "fixedArray",
    name: "pts",
    type: named("point"),
    length: { kind: "literal", value: 2n, loc },
    loc,
  });
  const variable = createJsonCodec(spec, {
    kind: "varArray",
    name: "c",
    type: named("color"),
    max: null,
    loc,
  });
  const pts = [
    { x: 1, y: 2 },
    { x: 3, y: 4 },
  ];
  assert.equal(hex(encode(fixed, pts)), "00000001000000020000000300000004");
  assert.deepEqual(decode(fixed, unhex("00000001000000020000000300000004")), pts);
  assert.equal(hex(encode(variable, ["GREEN", 2])), "000000020000000100000002");
  assert.deepEqual(decode(variable, unhex("000000020000000100000002")), ["GREEN", "BLUE"]);
});

test("a struct is an object with the .x field names, in any order on input", () => {
  roundTrip("point", { y: 2, x: 1 }, "00000001 00000002", { x: 1, y: 2 });
  roundTrip("inline_t", { a: 7 }, "00000007");
});

describe("unions", () => {
  test("the discriminant's field and the arm's field", () => {
    roundTrip("reply", { c: "RED", code: -1 }, "00000000 ffffffff");
    roundTrip("reply", { c: 0, code: 5 }, "00000000 00000005", { c: "RED", code: 5 });
    roundTrip("reply", { c: "BLUE", why: "x" }, "00000002 00000001 78000000");
  });

  test("a void arm has no arm field", () => {
    roundTrip("reply", { c: "GREEN" }, "00000001");
    roundTrip("flagged", { b: false }, "00000000");
    roundTrip("numbered", { n: 4294967295 }, "ffffffff");
  });

  test("bool and unsigned discriminants are JSON booleans and numbers", () => {
    roundTrip("flagged", { b: true, big: "-6101065172474983726" }, "00000001 ab54a98c eb1f0ad2");
    roundTrip("numbered", { n: 1, p: { x: 0, y: -1 } }, "00000001 00000000 ffffffff");
  });
});

test("optional data is null or the value", () => {
  const opt = createJsonCodec(spec, { kind: "optional", name: "p", type: named("point"), loc });
  assert.equal(hex(encode(opt, null)), "00000000");
  assert.equal(decode(opt, unhex("00000000")), null);
  assert.equal(hex(encode(opt, { x: 1, y: 2 })), "000000010000000100000002");
  assert.deepEqual(decode(opt, unhex("000000010000000100000002")), { x: 1, y: 2 });
});

test("void is null", () => {
  const v = createJsonCodec(spec, { kind: "void", loc });
  assert.equal(encode(v, null).length, 0);
  assert.equal(decode(v, new Uint8Array(0)), null);
});

test("a field named __proto__ is an own property, as JSON.parse makes it", () => {
  const odd = compileText("struct odd { int __proto__; };");
  const codec = createJsonCodec(odd, "odd");
  const value = decode(codec, unhex("00000007")) as Record<string, JsonValue>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(JSON.stringify(value), '{"__proto__":7}');
  assert.equal(hex(encode(codec, JSON.parse('{"__proto__":7}'))), "00000007");
});
