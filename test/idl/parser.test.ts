import assert from "node:assert/strict";
import { test } from "node:test";
import type { Definition, Specification, TypeSpec } from "../../src/idl/index.js";
import { parseSpecification } from "../../src/idl/index.js";
import { errorsOf } from "./support.js";

const parse = (text: string): Specification => parseSpecification(text, "t.x");

/** The tree without locations, to compare shapes. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "loc")
        .map(([k, v]) => [k, strip(v)]),
    );
  }
  return value;
}

const only = (text: string): unknown => {
  const spec = parse(text);
  assert.equal(spec.definitions.length, 1);
  return strip(spec.definitions[0]);
};

/** The TypeSpec of `typedef <type> x;`, without its location. */
const typeOf = (type: string): unknown => {
  const d = parse(`typedef ${type} x;`).definitions[0];
  assert.equal(d.kind, "typedef");
  return strip((d as Extract<Definition, { kind: "typedef" }>).declaration) as { type: TypeSpec };
};

const lit = (value: bigint) => ({ kind: "literal", value });
const ref = (name: string) => ({ kind: "ref", name });

test("const: number, negative number, hex, octal, another constant", () => {
  assert.deepEqual(only("const A = 10;"), { kind: "const", name: "A", value: lit(10n) });
  assert.deepEqual(only("const A = -10;"), { kind: "const", name: "A", value: lit(-10n) });
  assert.deepEqual(only("const A = 0x7f;"), { kind: "const", name: "A", value: lit(127n) });
  assert.deepEqual(only("const A = 0755;"), { kind: "const", name: "A", value: lit(493n) });
  assert.deepEqual(only("const A = B;"), { kind: "const", name: "A", value: ref("B") });
});

test("string constants are kept apart from the definitions", () => {
  const spec = parse('const HEX = "d4a0";\nconst N = 1;');
  assert.deepEqual(strip(spec.stringConstants), [{ name: "HEX", text: "d4a0" }]);
  assert.deepEqual(strip(spec.definitions), [{ kind: "const", name: "N", value: lit(1n) }]);
});

test("every declaration form", () => {
  const spec = parse(`struct s {
    int a; int b[3]; int c<5>; int d<>; opaque e[N]; opaque f<>; opaque g<9>;
    string h<>; string i<MAX>; s *next; struct s *other;
  };`);
  assert.deepEqual(strip(spec.definitions[0]), {
    kind: "struct",
    name: "s",
    body: {
      fields: [
        { kind: "plain", name: "a", type: { kind: "int", unsigned: false, bits: 32 } },
        { kind: "fixedArray", name: "b", type: { kind: "int", unsigned: false, bits: 32 }, length: lit(3n) },
        { kind: "varArray", name: "c", type: { kind: "int", unsigned: false, bits: 32 }, max: lit(5n) },
        { kind: "varArray", name: "d", type: { kind: "int", unsigned: false, bits: 32 }, max: null },
        { kind: "fixedOpaque", name: "e", length: ref("N") },
        { kind: "varOpaque", name: "f", max: null },
        { kind: "varOpaque", name: "g", max: lit(9n) },
        { kind: "string", name: "h", max: null },
        { kind: "string", name: "i", max: ref("MAX") },
        { kind: "optional", name: "next", type: { kind: "named", name: "s" } },
        { kind: "optional", name: "other", type: { kind: "named", name: "s" } },
      ],
    },
  });
});

test("type specifiers, with rpcgen's C spellings folded into int widths", () => {
  const int = (unsigned: boolean, bits: number) => ({
    kind: "plain",
    name: "x",
    type: { kind: "int", unsigned, bits },
  });
  assert.deepEqual(typeOf("int"), int(false, 32));
  assert.deepEqual(typeOf("unsigned int"), int(true, 32));
  assert.deepEqual(typeOf("unsigned"), int(true, 32));
  assert.deepEqual(typeOf("hyper"), int(false, 64));
  assert.deepEqual(typeOf("unsigned hyper"), int(true, 64));
  assert.deepEqual(typeOf("char"), int(false, 8));
  assert.deepEqual(typeOf("unsigned char"), int(true, 8));
  assert.deepEqual(typeOf("short"), int(false, 16));
  assert.deepEqual(typeOf("unsigned short"), int(true, 16));
  assert.deepEqual(typeOf("long"), int(false, 32));
  assert.deepEqual(typeOf("unsigned long"), int(true, 32));
  assert.deepEqual(typeOf("u_int"), int(true, 32));
  assert.deepEqual(typeOf("u_char"), int(true, 8));
  assert.deepEqual(typeOf("int64_t"), int(false, 64));
  assert.deepEqual(typeOf("u_quad_t"), int(true, 64));
  assert.deepEqual(typeOf("enum_t"), int(false, 32));
  assert.deepEqual(typeOf("bool_t"), { kind: "plain", name: "x", type: { kind: "bool" } });
  for (const k of ["float", "double", "quadruple", "bool"]) {
    assert.deepEqual(typeOf(k), { kind: "plain", name: "x", type: { kind: k } });
  }
  assert.deepEqual(typeOf("enum color"), {
    kind: "plain",
    name: "x",
    type: { kind: "named", name: "color" },
  });
  assert.deepEqual(typeOf("union u"), { kind: "plain", name: "x", type: { kind: "named", name: "u" } });
});

test("a C library name is a builtin only when the file does not define it", () => {
  const spec = parse("typedef hyper u_int;\nstruct s { u_int a; uint32_t b; };");
  const s = strip(spec.definitions[1]) as { body: { fields: { type: unknown }[] } };
  assert.deepEqual(s.body.fields[0].type, { kind: "named", name: "u_int" });
  assert.deepEqual(s.body.fields[1].type, { kind: "int", unsigned: true, bits: 32 });
});

test("library types used but not defined are put first (netobj, netbuf)", () => {
  const spec = parse("struct s { netobj fh; struct netbuf addr; };");
  assert.deepEqual(
    spec.definitions.map((d) => (d.kind === "typedef" ? d.declaration.name : d.name)),
    ["netbuf", "netobj", "s"],
  );
  assert.equal(spec.definitions[0].loc.file, "<xdr library>");
  assert.deepEqual(strip(spec.definitions[1]), {
    kind: "typedef",
    declaration: { kind: "varOpaque", name: "netobj", max: lit(1024n) },
  });
});

test("typedef struct foo *foolist; anonymous inline enum/struct/union bodies", () => {
  assert.deepEqual(only("typedef struct foo *foolist;"), {
    kind: "typedef",
    declaration: { kind: "optional", name: "foolist", type: { kind: "named", name: "foo" } },
  });
  assert.deepEqual(only("typedef enum { A = 1, B = 2 } ab;"), {
    kind: "typedef",
    declaration: {
      kind: "plain",
      name: "ab",
      type: {
        kind: "enum",
        body: {
          members: [
            { name: "A", value: lit(1n) },
            { name: "B", value: lit(2n) },
          ],
        },
      },
    },
  });
  const d = only("struct s { struct { int a; } inner; union switch (bool b) { case TRUE: int x; } u; };") as {
    body: { fields: { type: { kind: string } }[] };
  };
  assert.deepEqual(
    d.body.fields.map((f) => f.type.kind),
    ["struct", "union"],
  );
});

test("`typedef struct foo foo;` restates rpcgen's own alias and defines nothing", () => {
  assert.deepEqual(parse("struct foo { int a; };\ntypedef struct foo foo;").definitions.length, 1);
});

test("enum members without '=' count up from the previous value, as C does", () => {
  assert.deepEqual(only("enum e { A, B, C = 10, D, };"), {
    kind: "enum",
    name: "e",
    body: {
      members: [
        { name: "A", value: lit(0n) },
        { name: "B", value: lit(1n) },
        { name: "C", value: lit(10n) },
        { name: "D", value: lit(11n) },
      ],
    },
  });
});

test("union: shared case labels, void arms, default", () => {
  assert.deepEqual(
    only("union u switch (int d) { case 1: case 2: int x; case X: void; default: opaque o<>; };"),
    {
      kind: "union",
      name: "u",
      body: {
        discriminant: { kind: "plain", name: "d", type: { kind: "int", unsigned: false, bits: 32 } },
        cases: [
          {
            values: [lit(1n), lit(2n)],
            declaration: { kind: "plain", name: "x", type: { kind: "int", unsigned: false, bits: 32 } },
          },
          { values: [ref("X")], declaration: { kind: "void" } },
        ],
        defaultArm: { kind: "varOpaque", name: "o", max: null },
      },
    },
  );
});

test("programs: void, bare string, struct references, several arguments", () => {
  const p = only(`program P {
    version V1 { void NUL(void) = 0; string GET(string) = 1; struct r PUT(unsigned int, struct r) = 2; } = 1;
    version V2 { bool_t OK(void) = N; } = 2;
  } = 0x20000001;`) as {
    number: unknown;
    versions: { name: string; procedures: { name: string; args: unknown; result: unknown }[] }[];
  };
  assert.deepEqual(p.number, lit(0x20000001n));
  assert.deepEqual(
    p.versions.map((v) => v.name),
    ["V1", "V2"],
  );
  const [nul, get, put] = p.versions[0].procedures;
  assert.deepEqual(nul.args, [{ kind: "void" }]);
  assert.deepEqual(get.result, { kind: "string" });
  assert.deepEqual(get.args, [{ kind: "string" }]);
  assert.deepEqual(put.args, [
    { kind: "type", type: { kind: "int", unsigned: true, bits: 32 } },
    { kind: "type", type: { kind: "named", name: "r" } },
  ]);
  assert.deepEqual(p.versions[1].procedures[0].result, { kind: "type", type: { kind: "bool" } });
});

test("locations: definitions and declarations at their name, types at their first word, values at their first token", () => {
  const spec = parse("const A = -5;\nstruct s {\n  unsigned int x;\n};");
  const [a, s] = spec.definitions;
  assert.deepEqual(a.loc, { file: "t.x", line: 1, column: 7 });
  assert.equal(a.kind, "const");
  if (a.kind === "const") assert.deepEqual(a.value.loc, { file: "t.x", line: 1, column: 11 });
  assert.equal(s.kind, "struct");
  if (s.kind === "struct") {
    const x = s.body.fields[0];
    assert.deepEqual(x.loc, { file: "t.x", line: 3, column: 16 });
    if (x.kind === "plain") assert.deepEqual(x.type.loc, { file: "t.x", line: 3, column: 3 });
  }
});

test("syntax errors say what was expected and what was found, where", () => {
  const cases: [string, string[]][] = [
    ["struct foo { int x; int y }", ["t.x:1:27: expected ';' after declaration of 'y', found '}'"]],
    [
      "int x;",
      ["t.x:1:1: expected a definition (const, enum, struct, union, typedef or program), found 'int'"],
    ],
    ["struct s { int x[3 };", ["t.x:1:20: expected ']' after the length of 'x', found '}'"]],
    [
      "struct s { opaque o; };",
      ["t.x:1:20: expected '[' or '<' after opaque 'o' (opaque data needs a length), found ';'"],
    ],
    [
      "struct s { string s[3]; };",
      ["t.x:1:20: expected '<' after string 's' (a string is variable-length: string s<> or <N>), found '['"],
    ],
    ["const X = -Y;", ["t.x:1:12: expected a number after '-', found 'Y'"]],
    ["struct s { int x; }", ["t.x:1:20: expected ';' after the definition of struct 's', found end of file"]],
    ["struct s { int int; };", ["t.x:1:16: expected a name after type 'int', found keyword 'int'"]],
    ["enum e { A = 1 B = 2 };", ["t.x:1:16: expected '}' or ',' after member 'A' of enum 'e', found 'B'"]],
    [
      "union u switch (int d) { case 1: void; default: void; case 2: void; };",
      ["t.x:1:55: expected '}' after the default arm of union 'u' (default comes last), found 'case'"],
    ],
    [
      "union u switch (int d[2]) { case 1: void; };",
      ["t.x:1:21: the union discriminant must be a plain declaration: switch (type name)"],
    ],
    [
      "typedef struct foo { int a; } x;",
      [
        "t.x:1:20: a type defined inside a declaration must be anonymous: write 'struct { ... }' without a name",
      ],
    ],
    [
      "program P { version V { void F(void) = 1; } = 1; }",
      ["t.x:1:51: expected '=' after the body of program 'P', found end of file"],
    ],
    [
      "struct s { void; int a; };\ntypedef void;\nenum e { A = X, B };\nprogram P { version V { void F(void, int) = 1; } = 1; } = 1;",
      [
        "t.x:1:12: 'void' cannot be a field of struct 's' (only a union arm can be void)",
        "t.x:2:9: 'void' cannot be given a type name (typedef void)",
        "t.x:3:17: enum member 'B' needs '= value': the member before it is given by name",
        "t.x:4:32: 'void' must be the only argument",
      ],
    ],
  ];
  for (const [text, want] of cases)
    assert.deepEqual(
      errorsOf(() => parse(text)),
      want,
      text,
    );
});
