/**
 * What codegen needs to know about a checked specification, in one place:
 * every type as a `Shape`, anonymous inline bodies hoisted into named types,
 * TypeScript names settled, and which types are recursive or linked lists.
 */
import type {
  Declaration,
  EnumBody,
  NamedDeclaration,
  ProcedureType,
  ResolvedSpecification,
  SourceLocation,
  StructBody,
  TypeSpec,
  UnionBody,
  Value,
} from "../idl/ast.js";
import { NameTable, pascalCase } from "./names.js";

/** A bound or length: its number and the TypeScript text that names it (a constant, or the literal). */
export interface Bound {
  readonly value: number;
  readonly text: string;
}

/** An XDR type as codegen sees it. Inline bodies have become `ref`s to hoisted types. */
export type Shape =
  | { readonly kind: "int"; readonly unsigned: boolean; readonly bits: 8 | 16 | 32 }
  | { readonly kind: "hyper"; readonly unsigned: boolean }
  | { readonly kind: "float" }
  | { readonly kind: "double" }
  | { readonly kind: "bool" }
  | { readonly kind: "void" }
  | { readonly kind: "string"; readonly max: Bound | null }
  | { readonly kind: "fixedOpaque"; readonly length: Bound }
  | { readonly kind: "varOpaque"; readonly max: Bound | null }
  | { readonly kind: "fixedArray"; readonly element: Shape; readonly length: Bound }
  | { readonly kind: "varArray"; readonly element: Shape; readonly max: Bound | null }
  | { readonly kind: "optional"; readonly element: Shape }
  /** A named type of the specification, by its .x name. */
  | { readonly kind: "ref"; readonly name: string };

/** A struct field or union arm. */
export interface Field {
  readonly name: string;
  readonly shape: Shape;
  /** The declaration as written, for doc comments. */
  readonly declaration: Declaration;
}

/** A union's case label: the number, and how to write it in TypeScript. */
export interface CaseLabel {
  readonly value: number;
  /** An expression: `Nfsstat.NFS_OK`, `MY_CONST`, `3`, `true`. */
  readonly text: string;
}

export interface UnionArm {
  readonly labels: readonly CaseLabel[];
  /** null for a `void` arm. */
  readonly field: Field | null;
}

interface NamedModel {
  /** The .x name (hoisted bodies get `parent_field`). */
  readonly xName: string;
  /** The TypeScript type name. */
  readonly tsName: string;
  /** The codec constant's name. */
  readonly codecName: string;
  readonly loc: SourceLocation;
  /** Part of a cycle of types: decoding counts depth. */
  recursive: boolean;
}

export interface EnumModel extends NamedModel {
  readonly kind: "enum";
  readonly guardName: string;
  readonly members: readonly { readonly name: string; readonly value: number }[];
}

export interface StructModel extends NamedModel {
  readonly kind: "struct";
  readonly fields: readonly Field[];
  /** The struct ends in an optional pointer to its own type: encoded and decoded by a loop. */
  linkedList: boolean;
}

export interface UnionModel extends NamedModel {
  readonly kind: "union";
  readonly discriminant: Field;
  /** What the discriminant switches on, after following typedefs. */
  readonly discriminantKind: "int" | "unsigned" | "bool" | "enum";
  /** The enum's .x name when discriminantKind is "enum". */
  readonly discriminantEnum: string | null;
  readonly arms: readonly UnionArm[];
  /** undefined: no default arm; null: a `void` default; else the default's field. */
  readonly defaultArm: Field | null | undefined;
}

export interface TypedefModel extends NamedModel {
  readonly kind: "typedef";
  readonly shape: Shape;
  readonly declaration: NamedDeclaration;
}

export type TypeModel = EnumModel | StructModel | UnionModel | TypedefModel;

export interface ConstModel {
  readonly name: string;
  readonly value: bigint;
  readonly loc: SourceLocation;
}

export interface ProcedureModel {
  readonly name: string;
  readonly number: number;
  readonly args: readonly Shape[];
  readonly result: Shape;
  readonly loc: SourceLocation;
}

export interface VersionModel {
  readonly name: string;
  readonly number: number;
  readonly procedures: readonly ProcedureModel[];
  readonly loc: SourceLocation;
}

export interface ProgramModel {
  readonly name: string;
  readonly number: number;
  readonly versions: readonly VersionModel[];
  readonly loc: SourceLocation;
}

export interface Model {
  readonly resolved: ResolvedSpecification;
  /** Constants in the order written. */
  readonly constants: readonly ConstModel[];
  /** Types in the order written, each hoisted body just before its parent. */
  readonly types: readonly TypeModel[];
  readonly byName: ReadonlyMap<string, TypeModel>;
  readonly programs: readonly ProgramModel[];
  /** Names for the module's values (constants, codecs, guards, descriptors). */
  readonly values: NameTable;
}

/** Names the generated module uses for itself (its imports), which the .x file's names must not take. */
export interface ReservedNames {
  readonly values: readonly string[];
  readonly types: readonly string[];
}

/** Builds the model of a resolved specification. */
export function buildModel(resolved: ResolvedSpecification, reserved: ReservedNames): Model {
  const constants: ConstModel[] = [];
  const types: TypeModel[] = [];
  const byName = new Map<string, TypeModel>();
  const programs: ProgramModel[] = [];
  const typeNames = new NameTable();
  const values = new NameTable();
  values.reserve(...reserved.values);
  typeNames.reserve(...reserved.types);
  const takenX = new Set(resolved.types.keys());
  // Constants first: bounds and case labels refer to them by their TypeScript name.
  const constNames = new Map<string, string>();
  for (const def of resolved.spec.definitions) {
    if (def.kind === "const") constNames.set(def.name, values.claim(def.name));
  }

  const bound = (v: Value): Bound => {
    const value = Number(resolved.value(v));
    if (v.kind === "ref") {
      const info = resolved.constants.get(v.name);
      if (info && info.enumName !== null) {
        const owner = byName.get(info.enumName);
        return { value, text: owner ? `${owner.tsName}.${v.name}` : String(value) };
      }
      return { value, text: constNames.get(v.name) ?? String(value) };
    }
    return { value, text: String(value) };
  };

  const add = (model: TypeModel): void => {
    types.push(model);
    byName.set(model.xName, model);
  };

  const naming = (xName: string, loc: SourceLocation) => {
    const tsName = typeNames.claim(pascalCase(xName));
    return { xName, tsName, codecName: values.claim(tsName + "Codec"), loc, recursive: false };
  };

  const hoistName = (parent: string, field: string): string => {
    let name = `${parent}_${field}`;
    while (takenX.has(name)) name += "_";
    takenX.add(name);
    return name;
  };

  const addEnum = (xName: string, body: EnumBody, loc: SourceLocation): void => {
    const names = naming(xName, loc);
    // An enum's const object is a value too.
    values.reserve(names.tsName);
    add({
      kind: "enum",
      ...names,
      guardName: values.claim("is" + names.tsName),
      members: body.members.map((m) => ({ name: m.name, value: Number(resolved.value(m.value)) })),
    });
  };

  const typeShape = (t: TypeSpec, owner: string, field: string): Shape => {
    switch (t.kind) {
      case "int":
        return t.bits === 64
          ? { kind: "hyper", unsigned: t.unsigned }
          : { kind: "int", unsigned: t.unsigned, bits: t.bits };
      case "float":
      case "double":
      case "bool":
        return { kind: t.kind };
      case "quadruple":
        // The resolver refuses quadruple; reaching here is a bug in it.
        throw new Error(`${t.loc.file}:${t.loc.line}:${t.loc.column}: quadruple is not supported`);
      case "named":
        return { kind: "ref", name: t.name };
      case "enum": {
        const name = hoistName(owner, field);
        addEnum(name, t.body, t.loc);
        return { kind: "ref", name };
      }
      case "struct": {
        const name = hoistName(owner, field);
        addStruct(name, t.body, t.loc);
        return { kind: "ref", name };
      }
      case "union": {
        const name = hoistName(owner, field);
        addUnion(name, t.body, t.loc);
        return { kind: "ref", name };
      }
    }
  };

  const declShape = (d: Declaration, owner: string): Shape => {
    switch (d.kind) {
      case "void":
        return { kind: "void" };
      case "plain":
        return typeShape(d.type, owner, d.name);
      case "fixedArray":
        return { kind: "fixedArray", element: typeShape(d.type, owner, d.name), length: bound(d.length) };
      case "varArray":
        return {
          kind: "varArray",
          element: typeShape(d.type, owner, d.name),
          max: d.max ? bound(d.max) : null,
        };
      case "fixedOpaque":
        return { kind: "fixedOpaque", length: bound(d.length) };
      case "varOpaque":
        return { kind: "varOpaque", max: d.max ? bound(d.max) : null };
      case "string":
        return { kind: "string", max: d.max ? bound(d.max) : null };
      case "optional":
        return { kind: "optional", element: typeShape(d.type, owner, d.name) };
    }
  };

  const field = (d: Declaration, owner: string): Field | null =>
    d.kind === "void" ? null : { name: d.name, shape: declShape(d, owner), declaration: d };

  function addStruct(xName: string, body: StructBody, loc: SourceLocation): void {
    // Claim the name first so that hoisted children come out in a stable order.
    const names = naming(xName, loc);
    const fields = body.fields.map((d) => field(d, xName) as Field);
    add({ kind: "struct", ...names, fields, linkedList: false });
  }

  function addUnion(xName: string, body: UnionBody, loc: SourceLocation): void {
    const names = naming(xName, loc);
    const discriminant = field(body.discriminant, xName) as Field;
    const { kind, enumName } = discriminantKind(discriminant.shape, resolved);
    const label = (v: Value): CaseLabel => {
      const value = Number(resolved.value(v));
      if (kind === "bool") return { value, text: value ? "true" : "false" };
      if (v.kind === "ref") {
        const info = resolved.constants.get(v.name);
        if (info?.enumName) {
          const owner = byName.get(info.enumName);
          if (owner) return { value, text: `${owner.tsName}.${v.name}` };
        } else if (constNames.has(v.name)) {
          return { value, text: constNames.get(v.name) as string };
        }
      }
      return { value, text: String(value) };
    };
    const arms = body.cases.map((c) => ({ labels: c.values.map(label), field: field(c.declaration, xName) }));
    const defaultArm = body.defaultArm === null ? undefined : field(body.defaultArm, xName);
    add({
      kind: "union",
      ...names,
      discriminant,
      discriminantKind: kind,
      discriminantEnum: enumName,
      arms,
      defaultArm,
    });
  }

  for (const def of resolved.spec.definitions) {
    switch (def.kind) {
      case "const":
        constants.push({
          name: constNames.get(def.name) as string,
          value: resolved.value(def.value),
          loc: def.loc,
        });
        break;
      case "enum":
        addEnum(def.name, def.body, def.loc);
        break;
      case "struct":
        addStruct(def.name, def.body, def.loc);
        break;
      case "union":
        addUnion(def.name, def.body, def.loc);
        break;
      case "typedef": {
        const d = def.declaration;
        // `typedef struct { … } name;` is C's way to name a body: define the body under that name.
        if (
          d.kind === "plain" &&
          (d.type.kind === "struct" || d.type.kind === "union" || d.type.kind === "enum")
        ) {
          if (d.type.kind === "struct") addStruct(d.name, d.type.body, def.loc);
          else if (d.type.kind === "union") addUnion(d.name, d.type.body, def.loc);
          else addEnum(d.name, d.type.body, def.loc);
          break;
        }
        const names = naming(def.declaration.name, def.loc);
        const model: TypedefModel = {
          kind: "typedef",
          ...names,
          shape: declShape(def.declaration, def.declaration.name),
          declaration: def.declaration,
        };
        add(model);
        break;
      }
      case "program":
        programs.push({
          name: def.name,
          number: Number(resolved.value(def.number)),
          loc: def.loc,
          versions: def.versions.map((v) => ({
            name: v.name,
            number: Number(resolved.value(v.number)),
            loc: v.loc,
            procedures: v.procedures.map((p) => ({
              name: p.name,
              number: Number(resolved.value(p.number)),
              loc: p.loc,
              args: p.args.filter((a) => a.kind !== "void").map((a) => procShape(a, p.name)),
              result: procShape(p.result, p.name),
            })),
          })),
        });
        break;
    }
  }

  function procShape(t: ProcedureType, proc: string): Shape {
    if (t.kind === "void") return { kind: "void" };
    if (t.kind === "string") return { kind: "string", max: null };
    return typeShape(t.type, proc, "arg");
  }

  const model: Model = { resolved, constants, types, byName, programs, values };
  markRecursion(model);
  return model;
}

/** What a union's discriminant switches on, following typedefs. */
function discriminantKind(
  shape: Shape,
  resolved: ResolvedSpecification,
): { kind: UnionModel["discriminantKind"]; enumName: string | null } {
  let s = shape;
  for (let hops = 0; s.kind === "ref" && hops < 100; hops++) {
    const def = resolved.types.get(s.name);
    if (!def) break;
    if (def.kind === "enum") return { kind: "enum", enumName: def.name };
    if (def.kind !== "typedef" || def.declaration.kind !== "plain") break;
    const t = def.declaration.type;
    if (t.kind === "named") s = { kind: "ref", name: t.name };
    else if (t.kind === "bool") return { kind: "bool", enumName: null };
    else if (t.kind === "int") return { kind: t.unsigned ? "unsigned" : "int", enumName: null };
    else break;
  }
  if (s.kind === "bool") return { kind: "bool", enumName: null };
  if (s.kind === "int") return { kind: s.unsigned ? "unsigned" : "int", enumName: null };
  return { kind: "int", enumName: null };
}

/** Follows typedefs that merely rename: the shape a `ref` finally stands for. */
export function unalias(shape: Shape, model: Model): Shape {
  let s = shape;
  for (let hops = 0; s.kind === "ref" && hops < 100; hops++) {
    const t = model.byName.get(s.name);
    if (t?.kind !== "typedef") return s;
    s = t.shape;
  }
  return s;
}

/** The named types a shape mentions directly. */
function refsOf(shape: Shape, out: string[]): void {
  switch (shape.kind) {
    case "ref":
      out.push(shape.name);
      break;
    case "fixedArray":
    case "varArray":
    case "optional":
      refsOf(shape.element, out);
      break;
    default:
      break;
  }
}

function edgesOf(t: TypeModel): string[] {
  const out: string[] = [];
  if (t.kind === "struct") for (const f of t.fields) refsOf(f.shape, out);
  else if (t.kind === "typedef") refsOf(t.shape, out);
  else if (t.kind === "union") {
    refsOf(t.discriminant.shape, out);
    for (const a of t.arms) if (a.field) refsOf(a.field.shape, out);
    if (t.defaultArm) refsOf(t.defaultArm.shape, out);
  }
  return out;
}

/** Marks types that can reach themselves, and structs that are linked lists. */
function markRecursion(model: Model): void {
  const edges = new Map<string, string[]>();
  for (const t of model.types) edges.set(t.xName, edgesOf(t));
  for (const t of model.types) {
    const seen = new Set<string>();
    const stack = [...(edges.get(t.xName) ?? [])];
    while (stack.length > 0) {
      const n = stack.pop() as string;
      if (n === t.xName) {
        t.recursive = true;
        break;
      }
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(edges.get(n) ?? []));
    }
    if (t.kind === "struct" && t.recursive && t.fields.length > 0) {
      const last = unalias(t.fields[t.fields.length - 1].shape, model);
      if (last.kind === "optional") {
        const target = unalias(last.element, model);
        t.linkedList = target.kind === "ref" && target.name === t.xName;
      }
    }
  }
}

/** The fewest bytes a value of this shape takes on the wire: readers refuse counts the input cannot hold. */
export function minWireBytes(shape: Shape, model: Model, visiting: Set<string> = new Set()): number {
  switch (shape.kind) {
    case "int":
    case "float":
    case "bool":
    case "string":
    case "varOpaque":
    case "varArray":
    case "optional":
      return 4;
    case "hyper":
    case "double":
      return 8;
    case "void":
      return 0;
    case "fixedOpaque":
      return (shape.length.value + 3) & ~3;
    case "fixedArray":
      return shape.length.value * minWireBytes(shape.element, model, visiting);
    case "ref": {
      const t = model.byName.get(shape.name);
      if (!t || visiting.has(shape.name)) return 4;
      visiting.add(shape.name);
      try {
        switch (t.kind) {
          case "enum":
            return 4;
          case "typedef":
            return minWireBytes(t.shape, model, visiting);
          case "struct":
            return t.fields.reduce((sum, f) => sum + minWireBytes(f.shape, model, visiting), 0);
          case "union": {
            const arms = t.arms.map((a) => (a.field ? minWireBytes(a.field.shape, model, visiting) : 0));
            if (t.defaultArm !== undefined) {
              arms.push(t.defaultArm ? minWireBytes(t.defaultArm.shape, model, visiting) : 0);
            }
            return 4 + (arms.length > 0 ? Math.min(...arms) : 0);
          }
        }
      } finally {
        visiting.delete(shape.name);
      }
    }
  }
}
