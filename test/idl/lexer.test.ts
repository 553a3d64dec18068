import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenize } from "../../src/idl/lexer.js";
import { spliceLines } from "../../src/idl/source-lines.js";
import { errorsOf } from "./support.js";

const lex = (text: string) => tokenize(spliceLines(text, "t.x"), "t.x");

test("identifiers, keywords, punctuation, with 1-based locations", () => {
  const tokens = lex("struct foo {\n\tunsigned int x<>;\n};");
  assert.deepEqual(
    tokens.map((t) => [t.kind, t.text, t.loc.line, t.loc.column]),
    [
      ["keyword", "struct", 1, 1],
      ["identifier", "foo", 1, 8],
      ["punctuation", "{", 1, 12],
      ["keyword", "unsigned", 2, 2],
      ["keyword", "int", 2, 11],
      ["identifier", "x", 2, 15],
      ["punctuation", "<", 2, 16],
      ["punctuation", ">", 2, 17],
      ["punctuation", ";", 2, 18],
      ["punctuation", "}", 3, 1],
      ["punctuation", ";", 3, 2],
      ["end", "", 3, 3],
    ],
  );
});

test("numbers: decimal, hex, octal; '-' is its own token", () => {
  const values = lex("10 0x1f 0X10 017 0 -5").map((t) => (t.kind === "number" ? t.value : t.text));
  assert.deepEqual(values, [10n, 31n, 16n, 15n, 0n, "-", 5n, ""]);
});

test("a string, for rpcgen's string constants", () => {
  const t = lex('const X = "ab c";')[3];
  assert.equal(t.kind, "string");
  assert.equal(t.text, "ab c");
});

test("the end token of an empty input is at 1:1", () => {
  assert.deepEqual(lex("")[0].loc, { file: "t.x", line: 1, column: 1 });
});

test("every stray character and bad number is reported", () => {
  assert.deepEqual(
    errorsOf(() => lex('int a@;\nint b = 09; # $\nint 12ab;\nx = "open')),
    [
      "t.x:1:6: unexpected character '@'",
      "t.x:2:9: invalid octal number '09' (a leading 0 means octal)",
      "t.x:2:13: unexpected character '#'",
      "t.x:2:15: unexpected character '$'",
      "t.x:3:5: invalid number '12ab'",
      "t.x:4:5: unterminated string",
    ],
  );
  assert.deepEqual(
    errorsOf(() => lex("int \u00e9;")),
    ["t.x:1:5: unexpected character U+00E9"],
  );
});
