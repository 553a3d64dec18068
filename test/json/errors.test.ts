/**
 * Input that does not fit its type fails with XdrError BAD_VALUE, a message
 * that says what was expected and what was given, and the path of the field
 * (`echo_args.items.next#2.name`); malformed XDR fails as it does with the
 * generated codecs (BAD_ENUM, BAD_DISCRIMINANT, BOUND_EXCEEDED, DEPTH_LIMIT).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createJsonCodec, type JsonObject, type JsonValue } from "../../src/json/index.js";
import { decode, encode } from "../../src/xdr/index.js";
import { compileText, expectJsonError, unhex } from "./support.js";

const spec = compileText(`
const MAXNAME = 8;
enum color { RED = 0, GREEN = 1, BLUE = 2 };
struct item { string name<MAXNAME>; int count; item *next; };
union strict switch (int k) { case 1: int one; case 2: void; };
struct echo_args {
  int i;
  unsigned int u;
  short s;
  hyper h;
  unsigned hyper uh;
  double d;
  bool ok;
  color c;
  string text<MAXNAME>;
  opaque fixed[3];
  opaque var<4>;
  int pair[2];
  int list<3>;
  item *items;
  strict choice;
  int *maybe;
};
union expr switch (int op) { case 0: int literal; case 1: expr *negate; };
`);
const echo = createJsonCodec(spec, "echo_args");

function sample(): JsonObject {
  return {
    i: 1,
    u: 2,
    s: 3,
    h: "4",
    uh: "5",
    d: 6.5,
    ok: true,
    c: "GREEN",
    text: "hi",
    fixed: "AAEC",
    var: "",
    pair: [1, 2],
    list: [],
    items: { name: "a", count: 1, next: { name: "b", count: 2, next: { name: "c", count: 3, next: null } } },
    choice: { k: 2 },
    maybe: null,
  };
}

/** `sample()` with `field` replaced by `value`; encoding must fail with `detail` at `path`. */
function rejects(
  field: string,
  value: JsonValue,
  detail: string | RegExp,
  path = `echo_args.${field}`,
): void {
  const input = { ...sample(), [field]: value };
  expectJsonError(() => encode(echo, input), { detail, path });
}

test("the sample encodes", () => {
  assert.ok(encode(echo, sample()).length > 0);
});

describe("wrong type", () => {
  test("numbers", () => {
    rejects("i", "5", 'expected int (a number), got "5"');
    rejects("u", null, "expected unsigned int (a number), got null");
    rejects("d", true, /^expected double \(a number, "NaN", .*\), got true$/);
    rejects("d", "1.5", /got "1.5"$/);
  });
  test("hyper", () => {
    rejects("h", "12x", 'expected hyper as a decimal string, got "12x"');
    rejects("h", "0x10", 'expected hyper as a decimal string, got "0x10"');
    rejects("h", 1.5, "expected hyper as a decimal string, got 1.5");
    rejects(
      "uh",
      2 ** 60,
      /got 1152921504606847000 \(a number past 2\^53 has lost digits: write it as a string\)$/,
    );
  });
  test("bool, enum, string, opaque, array, struct, union, void", () => {
    rejects("ok", 1, "expected bool (true or false), got 1");
    rejects("c", true, "expected enum color (a member's name or value), got true");
    rejects("text", 5, "expected string<8> (a string), got 5");
    rejects("var", [1, 2], "expected opaque<4> as a base64 string, got an array");
    rejects("pair", { 0: 1 }, "expected an array of 2 int, got an object");
    rejects("list", "1,2", 'expected an array of int, got "1,2"');
    rejects("items", [], "expected struct item (an object), got an array");
    rejects("choice", 2, "expected union strict (an object), got 2");
    const v = createJsonCodec(spec, { kind: "void", loc: { file: "t", line: 1, column: 1 } });
    expectJsonError(() => encode(v, 0), { detail: "expected null (void), got 0", path: "void" });
  });
});

describe("out of range", () => {
  test("integers", () => {
    rejects("i", 2 ** 31, "2147483648 is not a 32-bit signed integer");
    rejects("i", 1.5, "1.5 is not a 32-bit signed integer");
    rejects("u", -1, "-1 is not a 32-bit unsigned integer");
    rejects("s", 40000, "40000 is not an integer in -32768..32767");
    rejects(
      "h",
      "9223372036854775808",
      "9223372036854775808 is out of range for hyper (-9223372036854775808..9223372036854775807)",
    );
    rejects("uh", "-1", "-1 is out of range for unsigned hyper (0..18446744073709551615)");
  });
  test("enum", () => {
    rejects("c", "PURPLE", '"PURPLE" is not a member of enum color (its members: RED, GREEN, BLUE)');
    rejects("c", "green", '"green" is not a member of enum color (its members: RED, GREEN, BLUE)');
    rejects("c", 7, "7 is not a value of enum color");
  });
});

test("a string over its bound", () => {
  rejects("text", "123456789", "string of 9 bytes exceeds its bound of 8");
  // The bound counts UTF-8 bytes, not characters.
  rejects("text", "ééééé", "string of 10 bytes exceeds its bound of 8");
});

test("bad base64 and opaque data of the wrong length", () => {
  const bad = /^".*" is not base64 \(standard alphabet, padded with "="\)$/;
  rejects("fixed", "AAE", bad); // no padding
  rejects("fixed", "AA-_", bad); // the URL alphabet
  rejects("fixed", "AA EC", bad);
  rejects("fixed", "AAE=", "fixed opaque needs 3 bytes, got 2");
  rejects("var", "AAECAwQ=", "opaque of 5 bytes exceeds its bound of 4");
});

test("wrong array lengths", () => {
  rejects("pair", [1, 2, 3], "fixed array needs 2 elements, got 3");
  rejects("list", [1, 2, 3, 4], "array of 4 elements exceeds its bound of 3");
  rejects("list", [1, "2"], 'expected int (a number), got "2"', "echo_args.list[1]");
});

describe("structs", () => {
  test("a missing field", () => {
    const input: JsonObject = sample();
    delete input.ok;
    expectJsonError(() => encode(echo, input), {
      detail: 'field "ok" of struct echo_args is missing',
      path: "echo_args.ok",
    });
  });
  test("an unknown field", () => {
    expectJsonError(() => encode(echo, { ...sample(), extra: 1 }), {
      detail: /^struct echo_args has no field "extra" \(its fields: i, u, s, h, .*, maybe\)$/,
      path: "echo_args.extra",
    });
  });
  test("errors deep in a linked list name the element", () => {
    const input = sample();
    const items = input.items as JsonObject;
    ((items.next as JsonObject).next as JsonObject).name = "much too long";
    expectJsonError(() => encode(echo, input), {
      detail: "string of 13 bytes exceeds its bound of 8",
      path: "echo_args.items.next#2.name",
    });
    (items.next as JsonObject).next = 5;
    expectJsonError(() => encode(echo, input), {
      detail: "expected struct item (an object) or null, got 5",
      path: "echo_args.items.next#1.next",
    });
    items.next = { name: "b", count: 2 };
    expectJsonError(() => encode(echo, input), {
      detail: 'field "next" of struct item is missing',
      path: "echo_args.items.next#1.next",
    });
    items.next = { name: "b", count: 2, next: null, colour: "RED" };
    expectJsonError(() => encode(echo, input), {
      detail: 'struct item has no field "colour" (its fields: name, count, next)',
      path: "echo_args.items.next#1.colour",
    });
    items.count = "1";
    expectJsonError(() => encode(echo, input), { path: "echo_args.items.count" });
  });
});

describe("unions", () => {
  test("a discriminant with no arm", () => {
    rejects("choice", { k: 3 }, "no arm of union strict for k 3", "echo_args.choice.k");
  });
  test("a missing discriminant or arm field", () => {
    rejects("choice", { one: 1 }, 'field "k" of union strict is missing', "echo_args.choice.k");
    rejects("choice", { k: 1 }, 'field "one" of union strict is missing', "echo_args.choice.one");
  });
  test("a field of another arm, or any field beside a void arm", () => {
    rejects(
      "choice",
      { k: 2, one: 1 },
      'union strict has no field "one" when k is 2 (no arm field)',
      "echo_args.choice.one",
    );
    rejects(
      "choice",
      { k: 1, one: 1, two: 2 },
      'union strict has no field "two" when k is 1 (only "k" and "one")',
      "echo_args.choice.two",
    );
  });
});

test("errors carry the byte offset where the value belonged", () => {
  // i, u, s: 12 bytes; h: 8.
  const e = expectJsonError(() => encode(echo, { ...sample(), uh: "x" }), { path: "echo_args.uh" });
  assert.equal(e.offset, 20);
  assert.match(
    e.message,
    /^BAD_VALUE: expected unsigned hyper as a decimal string, got "x" at byte 20 in echo_args\.uh$/,
  );
});

describe("decoding malformed XDR", () => {
  test("an enum value the enum does not declare", () => {
    expectJsonError(() => decode(createJsonCodec(spec, "color"), unhex("00000009")), {
      code: "BAD_ENUM",
      detail: "9 is not a value of enum color",
      path: "color",
      offset: 0,
    });
  });
  test("a discriminant with no arm", () => {
    expectJsonError(() => decode(createJsonCodec(spec, "strict"), unhex("00000003")), {
      code: "BAD_DISCRIMINANT",
      detail: "no arm of union strict for k 3",
      path: "strict.k",
      offset: 0,
    });
  });
  test("a length over the declared bound allocates nothing", () => {
    expectJsonError(() => decode(createJsonCodec(spec, "item"), unhex("ffffffff")), {
      code: "BOUND_EXCEEDED",
      path: "item.name",
      offset: 0,
    });
  });
  test("recursive data deeper than maxDepth", () => {
    const expr = createJsonCodec(spec, "expr");
    const levels = 1500;
    const bytes = new Uint8Array(levels * 8 + 8);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < levels; i++) {
      view.setUint32(i * 8, 1); // op 1: negate
      view.setUint32(i * 8 + 4, 1); // present
    }
    const e = expectJsonError(() => decode(expr, bytes), { code: "DEPTH_LIMIT", offset: 8000 });
    assert.match(e.pathString, /^expr\.negate\.negate\./);
    // Within the limit it decodes, and encodes back.
    const shallow = new Uint8Array(8 * 10 + 8);
    const sv = new DataView(shallow.buffer);
    for (let i = 0; i < 10; i++) {
      sv.setUint32(i * 8, 1);
      sv.setUint32(i * 8 + 4, 1);
    }
    assert.deepEqual(encode(expr, decode(expr, shallow)), shallow);
  });
});
