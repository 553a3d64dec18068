/**
 * The types of a resolved specification as the JSON codecs interpret them:
 * builtins inline, every typedef, struct, union and enum (named, or an
 * anonymous body written inline) as a node. Which nodes are recursive and
 * which structs are linked lists is worked out exactly as the generator does
 * (src/codegen/model.ts), so that decoding counts depth in the same places.
 */
import type {
  Declaration,
  EnumBody,
  ProcedureType,
  ResolvedSpecification,
  StructBody,
  TypeSpec,
  UnionBody,
  Value,
} from "../idl/index.js";
import { MAX_XDR_LENGTH } from "../xdr/index.js";

/** A type as the JSON codecs see it. Bounds are numbers; an unbounded one is `MAX_XDR_LENGTH`. */
export type JsonShape =
  | { readonly kind: "int"; readonly unsigned: boolean; readonly bits: 8 | 16 | 32 }
  | { readonly kind: "hyper"; readonly unsigned: boolean }
  | { readonly kind: "float" }
  | { readonly kind: "double" }
  | { readonly kind: "bool" }
  | { readonly kind: "void" }
  | { readonly kind: "string"; readonly max: number }
  | { readonly kind: "fixedOpaque"; readonly length: number }
  | { readonly kind: "varOpaque"; readonly max: number }
  | { readonly kind: "fixedArray"; readonly element: JsonShape; readonly length: number }
  | { readonly kind: "varArray"; readonly element: JsonShape; readonly max: number }
  | { readonly kind: "optional"; readonly element: JsonShape }
  | { readonly kind: "node"; readonly node: TypeNode };

/** A struct field or union arm. */
export interface FieldNode {
  readonly name: string;
  readonly shape: JsonShape;
}

interface NodeBase {
  /** The .x name; an anonymous body is named `owner_field`, as the generator names it. */
  readonly name: string;
  /** Part of a cycle of types: decoding enters one level of depth here. */
  recursive: boolean;
}

/** An enum: its members in the order written. */
export interface EnumNode extends NodeBase {
  readonly kind: "enum";
  readonly members: readonly { readonly name: string; readonly value: number }[];
}

/** A struct; `linkedList` when its last field points to its own type (decoded by a loop). */
export interface StructNode extends NodeBase {
  readonly kind: "struct";
  fields: FieldNode[];
  linkedList: boolean;
}

/** A discriminated union. An arm's field is null when the arm is `void`. */
export interface UnionNode extends NodeBase {
  readonly kind: "union";
  discriminant: FieldNode;
  /** Arm by case value. */
  arms: Map<number, FieldNode | null>;
  /** undefined: no default arm; null: a `void` default. */
  defaultArm: FieldNode | null | undefined;
}

/** A typedef that is not merely the name of an inline body. */
export interface TypedefNode extends NodeBase {
  readonly kind: "typedef";
  shape: JsonShape;
}

/** A named or anonymous type of the specification. */
export type TypeNode = EnumNode | StructNode | UnionNode | TypedefNode;

const VOID: JsonShape = { kind: "void" };

/**
 * The type graph of one specification. Every named type is built when the
 * graph is made, so that recursion can be marked over all of them; bodies
 * given later (a procedure's inline argument type) cannot be part of a cycle.
 */
export class TypeGraph {
  readonly spec: ResolvedSpecification;
  readonly #named = new Map<string, TypeNode>();
  /** While the constructor runs: every node made, for recursion to be marked over. */
  #created: TypeNode[] | null = null;

  constructor(spec: ResolvedSpecification) {
    this.spec = spec;
    const nodes: TypeNode[] = [];
    this.#created = nodes;
    for (const name of spec.types.keys()) this.named(name);
    this.#created = null;
    markRecursion(nodes);
  }

  /** The node of the named type `name`; throws an Error when the specification has none. */
  named(name: string): TypeNode {
    const known = this.#named.get(name);
    if (known !== undefined) return known;
    const def = this.spec.types.get(name);
    if (def === undefined) {
      const names = [...this.spec.types.keys()];
      const list = names.length === 0 ? "it defines no types" : `its types: ${names.join(", ")}`;
      throw new Error(`no type '${name}' in ${this.spec.spec.file} (${list})`);
    }
    switch (def.kind) {
      case "enum":
        return this.#enum(name, def.body, true);
      case "struct":
        return this.#struct(name, def.body, true);
      case "union":
        return this.#union(name, def.body, true);
      case "typedef": {
        const d = def.declaration;
        // `typedef struct { … } name;` names the body: the body is the type, as in the generator.
        if (d.kind === "plain") {
          if (d.type.kind === "struct") return this.#struct(name, d.type.body, true);
          if (d.type.kind === "union") return this.#union(name, d.type.body, true);
          if (d.type.kind === "enum") return this.#enum(name, d.type.body, true);
        }
        const node: TypedefNode = { kind: "typedef", name, recursive: false, shape: VOID };
        this.#register(node, true);
        node.shape = this.declaration(d, name);
        return node;
      }
    }
  }

  /** The shape of a type specifier; `owner` and `field` name an anonymous body. */
  typeSpec(t: TypeSpec, owner: string, field: string): JsonShape {
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
        // The resolver refuses quadruple; reaching here means it was bypassed.
        throw new Error(`${t.loc.file}:${t.loc.line}:${t.loc.column}: quadruple is not supported`);
      case "named":
        return { kind: "node", node: this.named(t.name) };
      case "enum":
        return { kind: "node", node: this.#enum(`${owner}_${field}`, t.body, false) };
      case "struct":
        return { kind: "node", node: this.#struct(`${owner}_${field}`, t.body, false) };
      case "union":
        return { kind: "node", node: this.#union(`${owner}_${field}`, t.body, false) };
    }
  }

  /** The shape of a declaration (RFC 4506 §6.3); `owner` names anonymous bodies inside it. */
  declaration(d: Declaration, owner: string): JsonShape {
    switch (d.kind) {
      case "void":
        return VOID;
      case "plain":
        return this.typeSpec(d.type, owner, d.name);
      case "fixedArray":
        return {
          kind: "fixedArray",
          element: this.typeSpec(d.type, owner, d.name),
          length: this.#n(d.length),
        };
      case "varArray":
        return { kind: "varArray", element: this.typeSpec(d.type, owner, d.name), max: this.#bound(d.max) };
      case "fixedOpaque":
        return { kind: "fixedOpaque", length: this.#n(d.length) };
      case "varOpaque":
        return { kind: "varOpaque", max: this.#bound(d.max) };
      case "string":
        return { kind: "string", max: this.#bound(d.max) };
      case "optional":
        return { kind: "optional", element: this.typeSpec(d.type, owner, d.name) };
    }
  }

  /** The shape of a procedure's argument or result; bare `string` is unbounded (xdr_wrapstring). */
  procedureType(t: ProcedureType, procedure: string): JsonShape {
    if (t.kind === "void") return VOID;
    if (t.kind === "string") return { kind: "string", max: MAX_XDR_LENGTH };
    return this.typeSpec(t.type, procedure, "arg");
  }

  #register(node: TypeNode, named: boolean): void {
    if (named) this.#named.set(node.name, node);
    this.#created?.push(node);
  }

  #enum(name: string, body: EnumBody, named: boolean): EnumNode {
    const members = body.members.map((m) => ({ name: m.name, value: this.#n(m.value) }));
    const node: EnumNode = { kind: "enum", name, recursive: false, members };
    this.#register(node, named);
    return node;
  }

  #struct(name: string, body: StructBody, named: boolean): StructNode {
    // Registered before its fields are built, so that a field can refer back to it.
    const node: StructNode = { kind: "struct", name, recursive: false, fields: [], linkedList: false };
    this.#register(node, named);
    node.fields = body.fields.map((f) => ({ name: f.name, shape: this.declaration(f, name) }));
    return node;
  }

  #union(name: string, body: UnionBody, named: boolean): UnionNode {
    const node: UnionNode = {
      kind: "union",
      name,
      recursive: false,
      discriminant: { name: body.discriminant.name, shape: VOID },
      arms: new Map(),
      defaultArm: undefined,
    };
    this.#register(node, named);
    node.discriminant = { name: body.discriminant.name, shape: this.declaration(body.discriminant, name) };
    const field = (d: Declaration): FieldNode | null =>
      d.kind === "void" ? null : { name: d.name, shape: this.declaration(d, name) };
    for (const c of body.cases) {
      const arm = field(c.declaration);
      for (const v of c.values) node.arms.set(this.#n(v), arm);
    }
    if (body.defaultArm !== null) node.defaultArm = field(body.defaultArm);
    return node;
  }

  #n(v: Value): number {
    return Number(this.spec.value(v));
  }

  #bound(v: Value | null): number {
    return v === null ? MAX_XDR_LENGTH : this.#n(v);
  }
}

/** Follows typedefs that merely rename: the shape a node reference finally stands for. */
export function unalias(shape: JsonShape): JsonShape {
  let s = shape;
  for (let hops = 0; s.kind === "node" && s.node.kind === "typedef" && hops < 100; hops++) s = s.node.shape;
  return s;
}

/** The nodes a shape mentions directly. */
function refsOf(shape: JsonShape, out: TypeNode[]): void {
  if (shape.kind === "node") out.push(shape.node);
  else if (shape.kind === "fixedArray" || shape.kind === "varArray" || shape.kind === "optional") {
    refsOf(shape.element, out);
  }
}

function edgesOf(node: TypeNode): TypeNode[] {
  const out: TypeNode[] = [];
  switch (node.kind) {
    case "struct":
      for (const f of node.fields) refsOf(f.shape, out);
      break;
    case "typedef":
      refsOf(node.shape, out);
      break;
    case "union":
      refsOf(node.discriminant.shape, out);
      for (const arm of node.arms.values()) if (arm) refsOf(arm.shape, out);
      if (node.defaultArm) refsOf(node.defaultArm.shape, out);
      break;
    case "enum":
      break;
  }
  return out;
}

/** Marks the nodes that can reach themselves, and the structs that are linked lists. */
function markRecursion(nodes: readonly TypeNode[]): void {
  const edges = new Map<TypeNode, TypeNode[]>();
  for (const n of nodes) edges.set(n, edgesOf(n));
  for (const n of nodes) {
    const seen = new Set<TypeNode>();
    const stack = [...(edges.get(n) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() as TypeNode;
      if (next === n) {
        n.recursive = true;
        break;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(edges.get(next) ?? edgesOf(next)));
    }
    if (n.kind === "struct" && n.recursive && n.fields.length > 0) {
      const last = unalias(n.fields[n.fields.length - 1].shape);
      if (last.kind === "optional") {
        const target = unalias(last.element);
        n.linkedList = target.kind === "node" && target.node === n;
      }
    }
  }
}

/**
 * The fewest bytes a value of this shape takes on the wire, as the generator
 * works it out: a reader refuses array counts that the input cannot hold.
 */
export function minWireBytes(shape: JsonShape, visiting: Set<TypeNode> = new Set()): number {
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
      return shape.length + (-shape.length & 3);
    case "fixedArray":
      return shape.length * minWireBytes(shape.element, visiting);
    case "node": {
      const node = shape.node;
      // A type met again on the way down is a cycle, which only optional data or arrays close: 4 bytes.
      if (visiting.has(node)) return 4;
      visiting.add(node);
      const n = nodeMinBytes(node, visiting);
      visiting.delete(node);
      return n;
    }
  }
}

function nodeMinBytes(node: TypeNode, visiting: Set<TypeNode>): number {
  switch (node.kind) {
    case "enum":
      return 4;
    case "typedef":
      return minWireBytes(node.shape, visiting);
    case "struct":
      return node.fields.reduce((sum, f) => sum + minWireBytes(f.shape, visiting), 0);
    case "union": {
      const arms = [...node.arms.values()].map((a) => (a ? minWireBytes(a.shape, visiting) : 0));
      if (node.defaultArm !== undefined) {
        arms.push(node.defaultArm ? minWireBytes(node.defaultArm.shape, visiting) : 0);
      }
      return 4 + (arms.length > 0 ? Math.min(...arms) : 0);
    }
  }
}
