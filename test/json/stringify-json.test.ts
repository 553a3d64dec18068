/** stringifyJson gives JSON.stringify's text, and handles nesting that overflows JSON.stringify. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type JsonValue, stringifyJson } from "../../src/json/index.js";

test("the same text as JSON.stringify, compact and indented", () => {
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.constantFrom<number | string>("", 0, 2, 4, 12, "\t", "--"),
      (value, space) => {
        const v = value as JsonValue;
        assert.equal(stringifyJson(v, space), JSON.stringify(v, null, space));
      },
    ),
    { numRuns: 500 },
  );
  assert.equal(
    stringifyJson({ a: [], b: {}, c: [1, { d: null }] }, 2),
    JSON.stringify({ a: [], b: {}, c: [1, { d: null }] }, null, 2),
  );
  assert.equal(stringifyJson("é\u2028\n"), JSON.stringify("é\u2028\n"));
});

test("nesting of 1,000,000 levels", () => {
  let deep: JsonValue = null;
  for (let i = 0; i < 1_000_000; i++) deep = { v: i, next: deep };
  assert.throws(() => JSON.stringify(deep), RangeError);
  const text = stringifyJson(deep);
  assert.ok(text.startsWith('{"v":999999,"next":{"v":999998,'));
  assert.ok(text.endsWith('"next":null' + "}".repeat(1_000_000)));
});
