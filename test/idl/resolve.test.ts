import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compileSpecification,
  formatDiagnostic,
  IdlError,
  PREDEFINED_CONSTANTS,
} from "../../src/idl/index.js";
import { compile, errorsOf, memoryFiles } from "./support.js";

test("IdlError's message is its diagnostics, one `file:line:col: message` per line", () => {
  const d = { loc: { file: "a.x", line: 3, column: 7 }, message: "boom" };
  assert.equal(formatDiagnostic(d), "a.x:3:7: boom");
  const e = new IdlError([d, { ...d, message: "again" }]);
  assert.equal(e.message, "a.x:3:7: boom\na.x:3:7: again");
  assert.equal(e.name, "IdlError");
  assert.ok(e instanceof Error);
});

test("constants, enum members and their values; value() answers for every Value", () => {
  const r = compile(`
const A = 0x10;
const B = A;
const NEG = -3;
enum color { RED = 1, GREEN = B, BLUE = 5, PINK };
typedef enum { X = 7 } anon;
struct s { opaque o[B]; };
program P { version V { void F(void) = 1; } = 2; version W { void G(void) = F; } = 3; } = 0x20000000;
`);
  assert.deepEqual(
    [...r.constants].map(([n, c]) => [n, c.value, c.enumName]),
    [
      ["A", 16n, null],
      ["B", 16n, null],
      ["NEG", -3n, null],
      ["RED", 1n, "color"],
      ["GREEN", 16n, "color"],
      ["BLUE", 5n, "color"],
      ["PINK", 6n, "color"],
      ["X", 7n, null],
    ],
  );
  assert.deepEqual([...r.types.keys()], ["color", "anon", "s"]);
  const s = r.types.get("s");
  assert.ok(s?.kind === "struct" && s.body.fields[0].kind === "fixedOpaque");
  if (s?.kind === "struct" && s.body.fields[0].kind === "fixedOpaque")
    assert.equal(r.value(s.body.fields[0].length), 16n);
  const p = r.spec.definitions.find((d) => d.kind === "program");
  assert.ok(p?.kind === "program");
  if (p?.kind === "program") {
    // Procedure names are numbers too: rpcgen #defines them (rpcb_prot.x uses RPCBPROC_CALLIT so).
    assert.equal(r.value(p.versions[1].procedures[0].number), 1n);
    assert.equal(r.value(p.number), 0x20000000n);
  }
  assert.equal(r.value({ kind: "ref", name: "TRUE", loc: { file: "t.x", line: 1, column: 1 } }), 1n);
  assert.deepEqual(
    [...PREDEFINED_CONSTANTS],
    [
      ["TRUE", 1n],
      ["FALSE", 0n],
    ],
  );
});

test("bool, enum and int discriminants accept their own case values", () => {
  compile(`
enum e { A = 1, B = 2 };
const TWO = 2;
union u1 switch (e d) { case A: int x; case TWO: void; };
union u2 switch (bool b) { case TRUE: int x; case 0: void; };
typedef unsigned short port;
union u3 switch (port p) { case 65535: void; };
union u4 switch (unsigned d) { case 0xFFFFFFFF: void; default: int y; };
union u5 switch (enum e d) { case B: void; };
`);
});

test("recursion through optional data or variable-length arrays is fine", () => {
  compile(`
struct node { int v; node *next; };
typedef struct tree *treeptr;
struct tree { treeptr kids<>; tree *parent; };
union list switch (bool more) { case TRUE: struct { int v; list rest<1>; } item; case FALSE: void; };
`);
});

test("a name used twice for one program/version/procedure number is fine, as C accepts (rpcb_prot.x)", () => {
  compile(`program P {
    version V3 { void SET(void) = 1; } = 3;
    version V4 { void SET(void) = 1; } = 4;
  } = 1;`);
});

test("%#define gives the value of a name nothing else defines (nlm_prot.x)", () => {
  const r = compile(
    "%#define LM_MAXSTRLEN\t1024\n%#define MAXNAMELEN LM_MAXSTRLEN+1\nstruct s { string n<MAXNAMELEN>; };\n",
  );
  assert.deepEqual(r.constants.get("MAXNAMELEN"), {
    value: 1025n,
    enumName: null,
    loc: { file: "t.x", line: 2, column: 1 },
  });
  // Only what is used becomes a constant.
  assert.equal(r.constants.has("LM_MAXSTRLEN"), false);
});

test("library constants used but not defined (MAXNETNAMELEN) come with the file", () => {
  const r = compile("typedef string netnamestr<MAXNETNAMELEN>;");
  assert.equal(r.constants.get("MAXNETNAMELEN")?.value, 255n);
});

test("a file taking types from X.h via %#include gets X.x's definitions (nis_callback.x)", () => {
  const readFile = memoryFiles({
    "dir/cb.x": "%#include <rpcsvc/base.h>\nstruct cb { base_obj o; };\n",
    "dir/base.x":
      "const B = 4;\nstruct base_obj { opaque id[B]; };\nprogram BASE { version BV { void N(void) = 0; } = 1; } = 99;\n",
  });
  const r = compileSpecification("dir/cb.x", { readFile });
  assert.deepEqual([...r.types.keys()], ["base_obj", "cb"]);
  assert.equal(r.constants.get("B")?.value, 4n);
  assert.equal(r.spec.definitions.filter((d) => d.kind === "program").length, 0);
});

test("compileSpecification reports a file it cannot read", () => {
  assert.deepEqual(
    errorsOf(() => compileSpecification("gone.x", { readFile: memoryFiles({}) })),
    ["gone.x:1:1: cannot read 'gone.x': ENOENT: no such file 'gone.x'"],
  );
});

test("semantic diagnostics, exact text", () => {
  const cases: [string, string[]][] = [
    [
      "struct foo { int x; };\nstruct foo { int y; };",
      ["t.x:2:8: 'foo' is already defined (as a struct at t.x:1:8)"],
    ],
    [
      "const RED = 1;\nenum c { RED = 2 };",
      ["t.x:2:10: 'RED' is already defined (as a constant at t.x:1:7)"],
    ],
    ["typedef bar baz;", ["t.x:1:9: unknown type 'bar'"]],
    ["const A = B;", ["t.x:1:11: unknown constant 'B'"]],
    [
      "typedef quadruple q;",
      ["t.x:1:9: quadruple is not supported (RFC 4506 §4.8: no portable 128-bit float)"],
    ],
    ["typedef opaque o[-1];", ["t.x:1:18: the length of 'o' must be between 0 and 4294967295, not -1"]],
    [
      "typedef int a<0x100000000>;",
      ["t.x:1:15: the maximum size of 'a' must be between 0 and 4294967295, not 4294967296"],
    ],
    ["typedef opaque o[foo];\nstruct foo { int x; };", ["t.x:1:18: 'foo' is a type, not a constant"]],
    ["const C = 1;\ntypedef C t;", ["t.x:2:9: 'C' is a constant, not a type"]],
    ['const S = "s";\ntypedef int a<S>;', ["t.x:2:15: 'S' is a string constant, not a number"]],
    [
      "union u switch (hyper d) { case 0: void; };",
      [
        "t.x:1:17: cannot switch on hyper: a union discriminant must be int, unsigned int, an enum or bool (RFC 4506 §4.15)",
      ],
    ],
    [
      "typedef unsigned hyper h;\nunion u switch (h d) { case 0: void; };",
      [
        "t.x:2:17: cannot switch on 'h' (unsigned hyper): a union discriminant must be int, unsigned int, an enum or bool (RFC 4506 §4.15)",
      ],
    ],
    [
      "struct s { int a; };\nunion u switch (s d) { case 0: void; };",
      [
        "t.x:2:17: cannot switch on struct 's': a union discriminant must be int, unsigned int, an enum or bool (RFC 4506 §4.15)",
      ],
    ],
    [
      "enum e { A = 1, B = 2 };\nunion u switch (e d) { case A: void; case 3: void; };",
      ["t.x:2:43: case 3 is not a value of enum 'e' in union 'u'"],
    ],
    [
      "enum e1 { A = 1 };\nenum e2 { B = 1 };\nunion u switch (e1 d) { case B: void; };",
      ["t.x:3:30: case 'B' (= 1) is a member of enum 'e2', not of enum 'e1'"],
    ],
    [
      "union u switch (bool b) { case TRUE: int x; case 2: void; };",
      ["t.x:1:50: case 2 is not a bool: use TRUE or FALSE"],
    ],
    [
      "union u switch (unsigned char d) { case 256: void; };",
      ["t.x:1:41: case 256 is out of range for the discriminant type unsigned char"],
    ],
    [
      "const ONE = 1;\nunion u switch (int d) { case 1: int x; case ONE: int y; };",
      ["t.x:2:46: duplicate case value 'ONE' (= 1) in union 'u' (first at t.x:2:31)"],
    ],
    ["struct s { int a; int a; };", ["t.x:1:23: duplicate field 'a' in struct 's' (first at t.x:1:16)"]],
    [
      "union u switch (int d) { case 1: int d; };",
      ["t.x:1:38: duplicate arm name 'd' in union 'u' (first at t.x:1:21)"],
    ],
    [
      "enum e { A = 0x80000000 };",
      ["t.x:1:10: enum member 'A' = 2147483648 is outside the int range (RFC 4506 §4.3)"],
    ],
    ["const X = 0x10000000000000000;", ["t.x:1:7: const 'X' = 18446744073709551616 does not fit in 64 bits"]],
    ["const A = B;\nconst B = A;", ["t.x:1:7: 'A' is defined in terms of itself"]],
    [
      "struct node { int v; node next; };",
      [
        "t.x:1:8: struct 'node' contains itself (node -> node) and would have infinite size; use optional data (*) or a variable-length array (<>) to break the cycle",
      ],
    ],
    [
      "struct a { b x; };\nstruct b { a y[2]; };",
      [
        "t.x:1:8: struct 'a' contains itself (a -> b -> a) and would have infinite size; use optional data (*) or a variable-length array (<>) to break the cycle",
      ],
    ],
    [
      "program P { version V { void F(void) = 1; void G(void) = 1; void F(void) = 2; } = 1; } = 0x100000000;",
      [
        "t.x:1:58: procedure 'G' has the same number 1 as procedure 'F'",
        "t.x:1:66: duplicate procedure 'F' in version 'V' (first at t.x:1:30)",
        "t.x:1:66: 'F' is already defined as 1 (at t.x:1:30); it cannot also be 2",
        "t.x:1:90: the program number of 'P' must be between 0 and 4294967295, not 4294967296",
      ],
    ],
    [
      "program P { version V { void F(void) = 1; } = 1; version W { void F(void) = 1; } = 1; } = 1;\nprogram Q { version X { void H(void) = -1; } = 2; } = 1;",
      [
        "t.x:1:84: version 'W' has the same number 1 as version 'V'",
        "t.x:2:40: the procedure number of 'H' must be between 0 and 4294967295, not -1",
        "t.x:2:55: program 'Q' has the same number 1 as program 'P'",
      ],
    ],
    [
      "%#define BAD sizeof(int)\ntypedef int a<BAD>;",
      [
        "t.x:2:15: 'BAD' is defined only by '%#define BAD sizeof(int)' at t.x:1:1, which is not an integer expression ('sizeof' is not defined)",
      ],
    ],
  ];
  for (const [text, want] of cases)
    assert.deepEqual(
      errorsOf(() => compile(text)),
      want,
      text,
    );
});

test("every semantic problem of a file is reported at once", () => {
  const errors = errorsOf(() => compile("typedef foo a;\ntypedef bar b;\nconst C = D;\n"));
  assert.equal(errors.length, 3);
});
