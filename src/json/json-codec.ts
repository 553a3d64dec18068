/**
 * JSON-form codecs built at run time from a resolved specification: an
 * interpreter of the type graph that writes and reads the same bytes as the
 * generated codecs, with the same bounds, depth counting and error paths.
 * Meant for tools (`once call`), not for the hot path.
 */
import type { Declaration, ResolvedSpecification, TypeSpec } from "../idl/index.js";
import { withLinkPath, withPath, type XdrWriter } from "../xdr/index.js";
import { boundText, fixedArrayCodec, optionalCodec, variableArrayCodec } from "./array-codecs.js";
import { enumCodec } from "./enum-codec.js";
import {
  describeJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  listNames,
  setField,
} from "./json-value.js";
import {
  type JsonCodec,
  jsonBool,
  jsonFixedOpaque,
  jsonFloat,
  jsonHyper,
  jsonInt,
  jsonString,
  jsonVariableOpaque,
  jsonVoid,
} from "./scalar-codecs.js";
import {
  type FieldNode,
  type JsonShape,
  minWireBytes,
  type StructNode,
  type TypedefNode,
  TypeGraph,
  type TypeNode,
  type UnionNode,
  unalias,
} from "./type-graph.js";

/** What {@link createJsonCodec} builds a codec for: a type's .x name, a type specifier, or a declaration. */
export type JsonTypeRef = string | TypeSpec | Declaration;

/**
 * A JSON-form codec for a named type (by its .x name), a type specifier or a
 * declaration of a resolved specification. `encode` takes the JSON form and
 * writes XDR; `decode` reads XDR and returns the JSON form (docs/json.md).
 * Throws an Error when `type` names no type of the specification.
 */
export function createJsonCodec(spec: ResolvedSpecification, type: JsonTypeRef): JsonCodec {
  const factory = jsonCodecFactory(spec);
  if (typeof type === "string") return factory.node(factory.graph.named(type));
  if (DECLARATION_KINDS.has(type.kind)) {
    const d = type as Declaration;
    return factory.shape(factory.graph.declaration(d, d.kind === "void" ? "void" : d.name));
  }
  return factory.shape(factory.graph.typeSpec(type as TypeSpec, "anonymous", "type"));
}

const DECLARATION_KINDS: ReadonlySet<string> = new Set<Declaration["kind"]>([
  "void",
  "plain",
  "fixedArray",
  "varArray",
  "fixedOpaque",
  "varOpaque",
  "string",
  "optional",
]);

const factories = new WeakMap<ResolvedSpecification, JsonCodecFactory>();

/** The factory of a specification, made once: its type graph and the codec of each node are shared. */
export function jsonCodecFactory(spec: ResolvedSpecification): JsonCodecFactory {
  let factory = factories.get(spec);
  if (factory === undefined) {
    factory = new JsonCodecFactory(new TypeGraph(spec));
    factories.set(spec, factory);
  }
  return factory;
}

function notReady(): never {
  throw new Error("once-rpc/json: a codec was used while it was being built");
}

/** Builds JSON-form codecs for the shapes and nodes of one type graph; one codec per node. */
export class JsonCodecFactory {
  readonly graph: TypeGraph;
  readonly #codecs = new Map<TypeNode, JsonCodec>();

  constructor(graph: TypeGraph) {
    this.graph = graph;
  }

  /** The codec of a shape. */
  shape(shape: JsonShape): JsonCodec {
    switch (shape.kind) {
      case "int":
        return jsonInt(shape.unsigned, shape.bits);
      case "hyper":
        return jsonHyper(shape.unsigned);
      case "float":
        return jsonFloat(false);
      case "double":
        return jsonFloat(true);
      case "bool":
        return jsonBool;
      case "void":
        return jsonVoid;
      case "string":
        return jsonString(shape.max, `string<${boundText(shape.max)}>`);
      case "fixedOpaque":
        return jsonFixedOpaque(shape.length);
      case "varOpaque":
        return jsonVariableOpaque(shape.max, `opaque<${boundText(shape.max)}>`);
      case "fixedArray":
        return fixedArrayCodec(this.shape(shape.element), shape.length);
      case "varArray":
        return variableArrayCodec(this.shape(shape.element), shape.max, minWireBytes(shape.element));
      case "optional":
        return optionalCodec(this.shape(shape.element));
      case "node":
        return this.node(shape.node);
    }
  }

  /** The codec of a node, built once. Nodes that refer to each other get each other's codec objects. */
  node(node: TypeNode): JsonCodec {
    const known = this.#codecs.get(node);
    if (known !== undefined) return known;
    // Registered before it is built, so that a cycle of types finds it; its methods are set below.
    const codec: JsonCodec = { name: node.name, encode: notReady, decode: notReady };
    this.#codecs.set(node, codec);
    let built: Pick<JsonCodec, "encode" | "decode">;
    switch (node.kind) {
      case "enum":
        built = enumCodec(node);
        break;
      case "typedef":
        built = this.#typedef(node);
        break;
      case "struct":
        built = node.linkedList ? this.#linkedList(node) : this.#struct(node);
        break;
      case "union":
        built = this.#union(node);
        break;
    }
    codec.encode = built.encode;
    codec.decode = built.decode;
    return codec;
  }

  #typedef(node: TypedefNode): Pick<JsonCodec, "encode" | "decode"> {
    const inner = this.shape(node.shape);
    return {
      encode: (w, v) => inner.encode(w, v),
      decode: node.recursive
        ? (r) => {
            r.enter();
            const value = inner.decode(r);
            r.leave();
            return value;
          }
        : (r) => inner.decode(r),
    };
  }

  #fields(fields: readonly FieldNode[]): { name: string; codec: JsonCodec }[] {
    return fields.map((f) => ({ name: f.name, codec: this.shape(f.shape) }));
  }

  /** RFC 4506 §4.14: the fields in order; the JSON object must have every field and no other. */
  #struct(node: StructNode): Pick<JsonCodec, "encode" | "decode"> {
    const fields = this.#fields(node.fields);
    const names = new Set(fields.map((f) => f.name));
    const first = fields[0]?.name ?? "";
    const recursive = node.recursive;
    return {
      encode(w, v) {
        const o = structObject(w, v, node);
        let f = first;
        try {
          const extra = unknownField(o, names);
          if (extra !== undefined) {
            f = extra;
            throw w.fail(noSuchField(node, extra, names));
          }
          for (const field of fields) {
            f = field.name;
            field.codec.encode(w, fieldValue(w, o, f, node));
          }
        } catch (e) {
          throw withPath(e, f, w.length);
        }
      },
      decode(r) {
        if (recursive) r.enter();
        let f = first;
        try {
          const out: JsonObject = {};
          for (const field of fields) {
            f = field.name;
            setField(out, f, field.codec.decode(r));
          }
          return out;
        } catch (e) {
          throw withPath(e, f, r.offset);
        } finally {
          if (recursive) r.leave();
        }
      },
    };
  }

  /**
   * A struct whose last field points to the next element, walked by a loop
   * both ways, so that a list of any length needs no stack; the JSON form is
   * still nested objects. Errors name the element: `next#12.name`.
   */
  #linkedList(node: StructNode): Pick<JsonCodec, "encode" | "decode"> {
    const fields = this.#fields(node.fields.slice(0, -1));
    const link = node.fields[node.fields.length - 1].name;
    const names = new Set([...fields.map((f) => f.name), link]);
    const first = fields[0]?.name ?? link;
    return {
      encode(w, v) {
        let o = structObject(w, v, node);
        let f = first;
        let index = 0;
        try {
          for (;;) {
            const extra = unknownField(o, names);
            if (extra !== undefined) {
              f = extra;
              throw w.fail(noSuchField(node, extra, names));
            }
            for (const field of fields) {
              f = field.name;
              field.codec.encode(w, fieldValue(w, o, f, node));
            }
            f = link;
            const next = fieldValue(w, o, link, node);
            if (next === null) {
              w.writeBool(false);
              return;
            }
            // Checked before its bool is written, so that a link of the wrong type is reported as this element's.
            if (!isJsonObject(next)) {
              throw w.fail(`expected struct ${node.name} (an object) or null, got ${describeJson(next)}`);
            }
            w.writeBool(true);
            o = next;
            index++;
          }
        } catch (e) {
          throw withLinkPath(e, f, link, index, w.length);
        }
      },
      decode(r) {
        let f = first;
        let index = 0;
        r.enter();
        try {
          let head: JsonObject | null = null;
          let tail: JsonObject | null = null;
          for (;;) {
            const element: JsonObject = {};
            for (const field of fields) {
              f = field.name;
              setField(element, f, field.codec.decode(r));
            }
            setField(element, link, null);
            if (tail === null) head = element;
            else setField(tail, link, element);
            tail = element;
            // The link belongs to the element just read: count the next one only once the link says it exists.
            f = link;
            if (!r.readBool()) return head as JsonObject;
            index++;
          }
        } catch (e) {
          throw withLinkPath(e, f, link, index, r.offset);
        } finally {
          r.leave();
        }
      },
    };
  }

  /**
   * RFC 4506 §4.15: the discriminant, then the arm it selects. The JSON
   * object holds the discriminant's field and, unless the arm is void, the arm's.
   */
  #union(node: UnionNode): Pick<JsonCodec, "encode" | "decode"> {
    const d = node.discriminant.name;
    const discriminant = this.shape(node.discriminant.shape);
    const key = discriminantKey(node.discriminant.shape);
    type Arm = { name: string; codec: JsonCodec } | null;
    const arms = new Map<number, Arm>();
    for (const [value, field] of node.arms) {
      arms.set(value, field && { name: field.name, codec: this.shape(field.shape) });
    }
    const fallback: Arm | undefined =
      node.defaultArm === undefined
        ? undefined
        : node.defaultArm && { name: node.defaultArm.name, codec: this.shape(node.defaultArm.shape) };
    const armOf = (value: number): Arm | undefined => (arms.has(value) ? arms.get(value) : fallback);
    const recursive = node.recursive;
    return {
      encode(w, v) {
        if (!isJsonObject(v)) throw w.fail(`expected union ${node.name} (an object), got ${describeJson(v)}`);
        let f = d;
        try {
          const dv = fieldValue(w, v, d, node);
          discriminant.encode(w, dv);
          const arm = armOf(key(dv));
          if (arm === undefined) throw w.fail(`no arm of union ${node.name} for ${d} ${describeJson(dv)}`);
          for (const k of Object.keys(v)) {
            if (k === d || k === arm?.name) continue;
            f = k;
            const has =
              arm === null ? "no arm field" : `only ${JSON.stringify(d)} and ${JSON.stringify(arm.name)}`;
            throw w.fail(
              `union ${node.name} has no field ${JSON.stringify(k)} when ${d} is ${describeJson(dv)} (${has})`,
            );
          }
          if (arm !== null) {
            f = arm.name;
            arm.codec.encode(w, fieldValue(w, v, arm.name, node));
          }
        } catch (e) {
          throw withPath(e, f, w.length);
        }
      },
      decode(r) {
        if (recursive) r.enter();
        let f = d;
        try {
          const dv = discriminant.decode(r);
          const value = key(dv);
          const arm = armOf(value);
          if (arm === undefined) {
            throw r.fail("BAD_DISCRIMINANT", `no arm of union ${node.name} for ${d} ${value}`, r.offset - 4);
          }
          const out: JsonObject = {};
          setField(out, d, dv);
          if (arm !== null) {
            f = arm.name;
            setField(out, arm.name, arm.codec.decode(r));
          }
          return out;
        } catch (e) {
          throw withPath(e, f, r.offset);
        } finally {
          if (recursive) r.leave();
        }
      },
    };
  }
}

/** `v` as the JSON object of a struct. */
function structObject(w: XdrWriter, v: JsonValue, node: StructNode): JsonObject {
  if (!isJsonObject(v)) throw w.fail(`expected struct ${node.name} (an object), got ${describeJson(v)}`);
  return v;
}

/** A key of `o` that is not one of `names`, if there is one: input with unknown fields is refused. */
function unknownField(o: JsonObject, names: ReadonlySet<string>): string | undefined {
  for (const k of Object.keys(o)) if (!names.has(k)) return k;
  return undefined;
}

function noSuchField(node: StructNode, key: string, names: ReadonlySet<string>): string {
  return `struct ${node.name} has no field ${JSON.stringify(key)} (its fields: ${listNames([...names])})`;
}

/** A field the JSON object must have. */
function fieldValue(w: XdrWriter, o: JsonObject, name: string, node: TypeNode): JsonValue {
  if (!Object.hasOwn(o, name))
    throw w.fail(`field ${JSON.stringify(name)} of ${node.kind} ${node.name} is missing`);
  return o[name];
}

/** The number a discriminant's JSON form stands for, once its codec has accepted it. */
function discriminantKey(shape: JsonShape): (v: JsonValue) => number {
  const s = unalias(shape);
  if (s.kind === "bool") return (v) => (v ? 1 : 0);
  if (s.kind === "node" && s.node.kind === "enum") {
    const values = new Map(s.node.members.map((m) => [m.name, m.value]));
    return (v) => (typeof v === "string" ? (values.get(v) as number) : (v as number));
  }
  return (v) => v as number;
}
