import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_DEFINES, preprocess } from "../../src/idl/preprocess.js";
import { locate } from "../../src/idl/source-lines.js";
import { errorsOf, memoryFiles } from "./support.js";

/** The lexed text, one string per kept line, trailing blanks trimmed. */
const texts = (text: string, options = {}) =>
  preprocess(text, "t.x", options).lines.map((l) => l.text.trimEnd());

test("the default view defines RPC_HDR only", () => {
  assert.deepEqual(DEFAULT_DEFINES, { RPC_HDR: "1" });
  const src =
    "#ifdef RPC_HDR\nhdr\n#endif\n#ifdef RPC_XDR\nxdr\n#endif\n#ifndef RPC_SVC\nnot_svc\n#endif\n#if RPC_HDR\nif_hdr\n#endif\n";
  assert.deepEqual(texts(src), ["hdr", "not_svc", "if_hdr"]);
  assert.deepEqual(texts(src, { defines: { RPC_XDR: "1" } }), ["xdr", "not_svc"]);
});

test("#if / #elif / #else choose exactly one branch, nested groups inside skipped ones stay skipped", () => {
  const src = [
    "#define LEVEL 2",
    "#if LEVEL == 1",
    "one",
    "#elif LEVEL == 2",
    "two",
    "#if 0",
    "never",
    "#else",
    "two_else",
    "#endif",
    "#elif 1",
    "not_after_taken",
    "#else",
    "not_else",
    "#endif",
    "#if 0",
    "#if 1",
    "inner_of_skipped",
    "#endif",
    "#bogus directive ignored in a skipped group",
    "#else",
    "outer_else",
    "#endif",
  ].join("\n");
  assert.deepEqual(texts(src), ["two", "two_else", "outer_else"]);
});

test("comments become spaces, so columns stay right; newlines inside comments stay", () => {
  const result = preprocess("a /* x */ b // tail\n/* two\nlines */ c\n", "t.x");
  assert.deepEqual(
    result.lines.map((l) => l.text),
    ["a         b        ", "         c"],
  );
  const c = result.lines[1];
  assert.deepEqual(locate(c, c.text.indexOf("c")), { file: "t.x", line: 3, column: 10 });
});

test("'%' in column 1 is passthrough, not lexed; elsewhere it is ordinary text", () => {
  const result = preprocess(
    "%#include <x.h>\n  %indented\n#ifdef RPC_XDR\n%skipped\n#endif\n%/* a comment */ kept\n",
    "t.x",
  );
  assert.deepEqual(
    result.passthrough.map((p) => [p.text, p.loc.line, p.loc.column]),
    [
      ["#include <x.h>", 1, 1],
      ["/* a comment */ kept", 6, 1],
    ],
  );
  assert.deepEqual(
    result.lines.map((l) => l.text),
    ["  %indented"],
  );
});

test("backslash-newline splices first, so a %#define may continue on lines without '%' (nis.x)", () => {
  const result = preprocess("%#define OWNER ((A +\\\n\t B) << 16)\nint x;\n", "t.x");
  assert.deepEqual(
    result.passthrough.map((p) => p.text),
    ["#define OWNER ((A +\t B) << 16)"],
  );
  assert.equal(result.lines[0].line, 3);
});

test("a spliced line maps each part back to its physical line", () => {
  const line = preprocess("int \\\n  foo;\n", "t.x").lines[0];
  assert.equal(line.text, "int   foo;");
  assert.deepEqual(locate(line, line.text.indexOf("foo")), { file: "t.x", line: 2, column: 3 });
});

test("object-like macros expand in ordinary lines (recursively, self-reference stops), not in % lines", () => {
  const src =
    "#define SIZE MAX\n#define MAX 16\n#define LOOP LOOP\nopaque x[SIZE]; LOOP\n%SIZE\n#undef MAX\nMAX\n";
  const result = preprocess(src, "t.x");
  assert.deepEqual(
    result.lines.map((l) => l.text.replace(/\s+/g, " ").trim()),
    ["opaque x[ 16 ]; LOOP", "MAX"],
  );
  assert.deepEqual(
    result.passthrough.map((p) => p.text),
    ["SIZE"],
  );
  // Text from a macro is located at the macro's use, and text after it keeps its own column.
  const line = result.lines[0];
  assert.deepEqual(locate(line, line.text.indexOf("16")), { file: "t.x", line: 4, column: 10 });
  assert.deepEqual(locate(line, line.text.indexOf("LOOP")), { file: "t.x", line: 4, column: 17 });
});

test("line markers, #line, #pragma and #ident are ignored", () => {
  assert.deepEqual(texts('# 12 "other.x"\n#line 40\n#pragma once\n#ident "x"\n#\nint x;\n'), ["int x;"]);
});

test('#include "f" is relative to the including file, <f> searches the include paths', () => {
  const readFile = memoryFiles({
    "dir/sub/types.x": '#include "more.x"\ntypes_line\n',
    "dir/sub/more.x": "more_line\n%from more\n",
    "/inc/lib.x": "lib_line\n",
  });
  const result = preprocess('#include "sub/types.x"\n#include <lib.x>\nmain_line\n', "dir/main.x", {
    readFile,
    includePaths: ["/inc"],
  });
  assert.deepEqual(
    result.lines.map((l) => [l.file, l.line, l.text]),
    [
      ["dir/sub/more.x", 1, "more_line"],
      ["dir/sub/types.x", 2, "types_line"],
      ["/inc/lib.x", 1, "lib_line"],
      ["dir/main.x", 3, "main_line"],
    ],
  );
  assert.deepEqual(result.passthrough[0].loc, { file: "dir/sub/more.x", line: 2, column: 1 });
});

test("include cycles and runaway depth are reported", () => {
  const cycle = memoryFiles({ "a.x": '#include "b.x"\n', "b.x": '#include "a.x"\n' });
  assert.deepEqual(
    errorsOf(() => preprocess('#include "a.x"\n', "t.x", { readFile: cycle })),
    ["b.x:1:10: #include cycle: a.x -> b.x -> a.x"],
  );
  const files: Record<string, string> = {};
  for (let i = 0; i < 5; i++) files[`f${i}.x`] = `#include "f${i + 1}.x"\n`;
  files["f5.x"] = "x\n";
  assert.deepEqual(
    errorsOf(() =>
      preprocess('#include "f0.x"\n', "t.x", { readFile: memoryFiles(files), maxIncludeDepth: 3 }),
    ),
    ["f1.x:1:10: #include nested more than 3 levels deep"],
  );
});

test("preprocessor diagnostics, all collected, each located", () => {
  const src = [
    "#define F(x) x", // 1
    "#define", // 2
    "#frobnicate", // 3
    "#else", // 4
    "#endif", // 5
    "#if 1 +", // 6
    "#elif 1", // 7
    "#else", // 8
    "#else", // 9
    "#elif 1", // 10
    "#endif", // 11
    "#include nothing", // 12
    '#include "absent.x"', // 13
    "#error stop here", // 14
    "#ifndef", // 15
    "#endif", // 16
    "#ifdef X", // 17
    "/* never closed", // 18
  ].join("\n");
  assert.deepEqual(
    errorsOf(() => preprocess(src, "t.x", { readFile: memoryFiles({}) })),
    [
      "t.x:1:9: function-like macros are not supported: 'F' (only #define NAME [value])",
      "t.x:2:8: #define needs a macro name",
      "t.x:3:1: unknown preprocessor directive '#frobnicate'",
      "t.x:4:1: #else without #if",
      "t.x:5:1: #endif without #if",
      "t.x:6:8: expected a value in #if expression, found end of line",
      "t.x:9:1: #else after #else",
      "t.x:10:1: #elif after #else",
      't.x:12:10: #include expects "FILE" or <FILE>',
      "t.x:13:10: cannot find include file 'absent.x' (looked for absent.x)",
      "t.x:14:1: #error stop here",
      "t.x:15:8: #ifndef needs a macro name",
      "t.x:18:1: unterminated comment",
      "t.x:17:1: #ifdef without #endif",
    ],
  );
});

test("#include without a reader says so", () => {
  assert.deepEqual(
    errorsOf(() => preprocess('#include "x.x"\n', "t.x")),
    ["t.x:1:10: cannot #include 'x.x': no file reader was given"],
  );
});
