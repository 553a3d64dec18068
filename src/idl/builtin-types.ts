/**
 * Type names that rpcgen's C output gets from the C xdr library rather than
 * from the `.x` file (`u_int`, `uint32_t`, `bool_t`, ...). A file may use them
 * without defining them; we fold them into the builtin types, unless the file
 * defines a type of that name itself, which then wins.
 */

import type {
  Declaration,
  Definition,
  SourceLocation,
  StructBody,
  TypeDefinition,
  TypeSpec,
  UnionBody,
} from "./ast.js";

/** What a C library type name stands for. */
export type BuiltinTypeName =
  | { readonly kind: "int"; readonly unsigned: boolean; readonly bits: 8 | 16 | 32 | 64 }
  | { readonly kind: "bool" };

const int = (unsigned: boolean, bits: 8 | 16 | 32 | 64): BuiltinTypeName => ({ kind: "int", unsigned, bits });

/** The C library names accepted as builtins, with the XDR type each folds into. */
export const BUILTIN_TYPE_NAMES: ReadonlyMap<string, BuiltinTypeName> = new Map([
  ["u_char", int(true, 8)],
  ["u_short", int(true, 16)],
  ["u_int", int(true, 32)],
  ["u_long", int(true, 32)],
  ["int32_t", int(false, 32)],
  ["uint32_t", int(true, 32)],
  ["u_int32_t", int(true, 32)],
  ["enum_t", int(false, 32)],
  ["int64_t", int(false, 64)],
  ["uint64_t", int(true, 64)],
  ["u_int64_t", int(true, 64)],
  ["quad_t", int(false, 64)],
  ["u_quad_t", int(true, 64)],
  ["u_hyper", int(true, 64)],
  ["bool_t", { kind: "bool" }],
  // libtirpc's <rpc/types.h>: rpcb_prot.x declares its fields with these.
  ["rpcprog_t", int(true, 32)],
  ["rpcvers_t", int(true, 32)],
  ["rpcproc_t", int(true, 32)],
  ["rpcprot_t", int(true, 32)],
  ["rpcport_t", int(true, 32)],
]);

/** Where the definitions of {@link LIBRARY_TYPES} are said to come from. */
export const LIBRARY_LOCATION: SourceLocation = { file: "<xdr library>", line: 1, column: 1 };

const at = LIBRARY_LOCATION;

/**
 * Composite types of the C rpc library that real files use without defining
 * (nlm_prot.x uses `netobj`, rpcb_prot.x `struct netbuf`, key_prot.x
 * `des_block`), written as the `.x` definitions that encode as the library's
 * C functions do: xdr_netobj is xdr_bytes with MAX_NETOBJ_SZ (1024);
 * xdr_netbuf is the maxlen as an unsigned int, then the bytes; xdr_des_block
 * is 8 opaque bytes.
 */
export const LIBRARY_TYPES: ReadonlyMap<string, TypeDefinition> = new Map<string, TypeDefinition>([
  [
    "netobj",
    {
      kind: "typedef",
      declaration: {
        kind: "varOpaque",
        name: "netobj",
        max: { kind: "literal", value: 1024n, loc: at },
        loc: at,
      },
      loc: at,
    },
  ],
  [
    "des_block",
    {
      kind: "typedef",
      declaration: {
        kind: "fixedOpaque",
        name: "des_block",
        length: { kind: "literal", value: 8n, loc: at },
        loc: at,
      },
      loc: at,
    },
  ],
  [
    "netbuf",
    {
      kind: "struct",
      name: "netbuf",
      body: {
        fields: [
          {
            kind: "plain",
            name: "maxlen",
            type: { kind: "int", unsigned: true, bits: 32, loc: at },
            loc: at,
          },
          { kind: "varOpaque", name: "buf", max: null, loc: at },
        ],
      },
      loc: at,
    },
  ],
]);

/** Constants of the C rpc headers that real files use without defining (key_prot.x: MAXNETNAMELEN, <rpc/auth.h>). */
export const LIBRARY_CONSTANTS: ReadonlyMap<string, bigint> = new Map([["MAXNETNAMELEN", 255n]]);

/**
 * The `const` definitions of the {@link LIBRARY_CONSTANTS} among `usedNames`
 * that `definitions` do not define, to put first.
 */
export function libraryConstants(
  definitions: readonly Definition[],
  usedNames: ReadonlySet<string>,
): Definition[] {
  const defined = new Set<string>();
  for (const d of definitions) {
    if (d.kind === "const" || d.kind === "struct" || d.kind === "union") defined.add(d.name);
    else if (d.kind === "enum") for (const m of [d, ...d.body.members]) defined.add(m.name);
    else if (d.kind === "program") {
      for (const v of [d, ...d.versions]) defined.add(v.name);
      for (const v of d.versions) for (const p of v.procedures) defined.add(p.name);
    }
  }
  return [...LIBRARY_CONSTANTS]
    .filter(([name]) => usedNames.has(name) && !defined.has(name))
    .map(([name, value]) => ({ kind: "const", name, value: { kind: "literal", value, loc: at }, loc: at }));
}

/**
 * Rewrites every `named` reference to a C library type name that `definitions`
 * do not define themselves into the builtin it stands for, and puts the
 * definitions of the {@link LIBRARY_TYPES} used but not defined first (located
 * at {@link LIBRARY_LOCATION}), so that codegen sees them like any other type.
 */
export function foldBuiltinTypeNames(definitions: readonly Definition[]): Definition[] {
  const defined = new Set<string>();
  for (const d of definitions) {
    if (d.kind === "typedef") defined.add(d.declaration.name);
    else if (d.kind === "enum" || d.kind === "struct" || d.kind === "union") defined.add(d.name);
  }

  const used = new Set<string>();
  const type = (t: TypeSpec): TypeSpec => {
    switch (t.kind) {
      case "named": {
        if (!defined.has(t.name) && LIBRARY_TYPES.has(t.name)) used.add(t.name);
        const builtin = defined.has(t.name) ? undefined : BUILTIN_TYPE_NAMES.get(t.name);
        return builtin ? { ...builtin, loc: t.loc } : t;
      }
      case "struct":
        return { ...t, body: struct(t.body) };
      case "union":
        return { ...t, body: union(t.body) };
      default:
        return t;
    }
  };
  const struct = (b: StructBody): StructBody => ({ fields: b.fields.map(named) });
  const union = (b: UnionBody): UnionBody => ({
    discriminant: { ...b.discriminant, type: type(b.discriminant.type) },
    cases: b.cases.map((c) => ({ ...c, declaration: declaration(c.declaration) })),
    defaultArm: b.defaultArm && declaration(b.defaultArm),
  });
  const named = <D extends Declaration>(d: D): D => ("type" in d ? { ...d, type: type(d.type) } : d);
  const declaration = (d: Declaration): Declaration => named(d);

  const folded = definitions.map((d): Definition => {
    switch (d.kind) {
      case "typedef":
        return { ...d, declaration: named(d.declaration) };
      case "struct":
        return { ...d, body: struct(d.body) };
      case "union":
        return { ...d, body: union(d.body) };
      case "program":
        return {
          ...d,
          versions: d.versions.map((v) => ({
            ...v,
            procedures: v.procedures.map((p) => ({
              ...p,
              args: p.args.map((a) => (a.kind === "type" ? { ...a, type: type(a.type) } : a)),
              result: p.result.kind === "type" ? { ...p.result, type: type(p.result.type) } : p.result,
            })),
          })),
        };
      default:
        return d;
    }
  });
  // Sorted by name, so that the output does not depend on where a type is first used.
  const library = [...used].sort().map((name) => LIBRARY_TYPES.get(name)!);
  return [...library, ...folded];
}
