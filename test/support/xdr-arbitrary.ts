/**
 * fast-check arbitraries for the values of any type in a `.x` file, derived
 * from the checked syntax tree (src/idl/ast.ts), in the TypeScript mapping
 * the generator uses: int, unsigned, float, double, enums -> number; hyper ->
 * bigint; bool -> boolean; opaque -> Uint8Array; string -> string; arrays ->
 * arrays; `*T` -> T | null; structs -> objects with the .x field names;
 * unions -> `{ <discriminant>: value, <arm>: value }` (no arm field for void).
 *
 * Values respect every bound of the .x file, and lean on the edges that
 * break codecs: integer extremes, -0, NaN and the infinities, strings and
 * opaque data exactly at their bound, and union discriminants that only a
 * default arm accepts. Unbounded data is kept small so that thousands of
 * samples stay fast.
 *
 * Strings contain no NUL (C strings end at the first one) and no lone
 * surrogates (they cannot be UTF-8); floats are 32-bit exact (`Math.fround`).
 */
import fc from "fast-check";
import type {
  Declaration,
  EnumBody,
  NamedDeclaration,
  ResolvedSpecification,
  StructBody,
  TypeSpec,
  UnionBody,
  Value,
} from "../../src/idl/index.js";

/** Options of {@link createXdrArbitraries}. */
export interface XdrArbitraryOptions {
  /** Most elements in a variable-length array. Default 8. */
  maxArrayLength?: number;
  /** Most bytes of random string or opaque data. Default 40. */
  maxBytes?: number;
  /**
   * How deep optional data and variable arrays nest; deeper ones are null or
   * empty. This is what keeps recursive types finite: a linked list has at
   * most this many nodes. Default 6.
   */
  maxDepth?: number;
  /** Strings, opaque data and arrays bounded by at most this are sometimes generated exactly at their bound. Default 1024. */
  maxExactBound?: number;
}

/** Arbitraries for the types of one specification. */
export interface XdrArbitraries {
  /** Values of the type `name` (a typedef, struct, union or enum of the .x file). */
  forType(name: string): fc.Arbitrary<unknown>;
  /** The .x names of every type of the specification, in definition order. */
  readonly typeNames: readonly string[];
}

/** Builds arbitraries for every type of `resolved`. */
export function createXdrArbitraries(
  resolved: ResolvedSpecification,
  options: XdrArbitraryOptions = {},
): XdrArbitraries {
  const builder = new Builder(resolved, {
    maxArrayLength: options.maxArrayLength ?? 8,
    maxBytes: options.maxBytes ?? 40,
    maxDepth: options.maxDepth ?? 6,
    maxExactBound: options.maxExactBound ?? 1024,
  });
  return {
    forType: (name) => builder.named(name, 0),
    typeNames: [...resolved.types.keys()],
  };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const HYPER_MIN = -(2n ** 63n);
const HYPER_MAX = 2n ** 63n - 1n;
const UHYPER_MAX = 2n ** 64n - 1n;

/** What a union's discriminant can be, once typedefs are looked through. */
interface DiscriminantInfo {
  /** The TypeScript value of a case label. */
  toTs(v: bigint): unknown;
  /** Discriminant values that no case lists (for the default arm), or null when there are none. */
  others(listed: ReadonlySet<bigint>): fc.Arbitrary<unknown> | null;
}

class Builder {
  readonly #spec: ResolvedSpecification;
  readonly #o: Required<XdrArbitraryOptions>;
  readonly #memo = new Map<string, fc.Arbitrary<unknown>>();

  constructor(spec: ResolvedSpecification, options: Required<XdrArbitraryOptions>) {
    this.#spec = spec;
    this.#o = options;
  }

  named(name: string, depth: number): fc.Arbitrary<unknown> {
    const key = `${name}@${depth}`;
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    const def = this.#spec.types.get(name);
    if (def === undefined) throw new Error(`xdr-arbitrary: no type '${name}' in ${this.#spec.spec.file}`);
    let arb: fc.Arbitrary<unknown>;
    switch (def.kind) {
      case "typedef":
        arb = this.declaration(def.declaration, depth);
        break;
      case "enum":
        arb = this.enumeration(def.body);
        break;
      case "struct":
        arb = this.struct(def.body, depth);
        break;
      case "union":
        arb = this.union(def.body, depth);
        break;
    }
    this.#memo.set(key, arb);
    return arb;
  }

  typeSpec(t: TypeSpec, depth: number): fc.Arbitrary<unknown> {
    switch (t.kind) {
      case "int":
        return integer(t.unsigned, t.bits);
      case "float":
        return float32();
      case "double":
        return float64();
      case "bool":
        return fc.boolean();
      case "named":
        return this.named(t.name, depth);
      case "enum":
        return this.enumeration(t.body);
      case "struct":
        return this.struct(t.body, depth);
      case "union":
        return this.union(t.body, depth);
      case "quadruple":
        throw new Error("xdr-arbitrary: quadruple is not supported");
    }
  }

  declaration(d: NamedDeclaration, depth: number): fc.Arbitrary<unknown> {
    const o = this.#o;
    switch (d.kind) {
      case "plain":
        return this.typeSpec(d.type, depth);
      case "fixedArray": {
        const n = this.#number(d.length);
        return fc.array(this.typeSpec(d.type, depth), { minLength: n, maxLength: n });
      }
      case "varArray": {
        // Depth grows through variable arrays too, so recursion through `T<>` ends.
        if (depth >= o.maxDepth) return fc.constant([]);
        const element = this.typeSpec(d.type, depth + 1);
        const bound = d.max === null ? null : this.#number(d.max);
        const limit = bound === null ? o.maxArrayLength : Math.min(bound, o.maxArrayLength);
        const free = fc.array(element, { maxLength: limit });
        if (bound === null || bound > o.maxArrayLength) return free;
        return fc.oneof(
          { weight: 4, arbitrary: free },
          { weight: 1, arbitrary: fc.array(element, { minLength: bound, maxLength: bound }) },
        );
      }
      case "fixedOpaque": {
        const n = this.#number(d.length);
        return fc.uint8Array({ minLength: n, maxLength: n });
      }
      case "varOpaque":
        return this.#opaque(d.max === null ? null : this.#number(d.max));
      case "string":
        return this.#string(d.max === null ? null : this.#number(d.max));
      case "optional":
        if (depth >= o.maxDepth) return fc.constant(null);
        return fc.option(this.typeSpec(d.type, depth + 1), { nil: null, freq: 4 });
    }
  }

  enumeration(body: EnumBody): fc.Arbitrary<unknown> {
    return fc.constantFrom(...body.members.map((m) => this.#number(m.value)));
  }

  struct(body: StructBody, depth: number): fc.Arbitrary<unknown> {
    const fields = body.fields.map((f) => [f.name, this.declaration(f, depth)] as const);
    // A tuple then an object, so that field names like `constructor` need no special care.
    return fc.tuple(...fields.map(([, arb]) => arb)).map((values) => {
      const out: Record<string, unknown> = {};
      fields.forEach(([name], i) => {
        out[name] = values[i];
      });
      return out;
    });
  }

  union(body: UnionBody, depth: number): fc.Arbitrary<unknown> {
    const disc = this.#discriminant(body.discriminant.type);
    const discName = body.discriminant.name;
    const arms: fc.Arbitrary<unknown>[] = [];
    const listed = new Set<bigint>();
    for (const c of body.cases) {
      for (const v of c.values) {
        const n = this.#spec.value(v);
        listed.add(n);
        arms.push(this.#arm(discName, fc.constant(disc.toTs(n)), c.declaration, depth));
      }
    }
    if (body.defaultArm !== null) {
      const others = disc.others(listed);
      if (others !== null) arms.push(this.#arm(discName, others, body.defaultArm, depth));
    }
    if (arms.length === 0) throw new Error("xdr-arbitrary: a union with no arm that can be generated");
    return fc.oneof(...arms);
  }

  #arm(
    discName: string,
    discValue: fc.Arbitrary<unknown>,
    decl: Declaration,
    depth: number,
  ): fc.Arbitrary<unknown> {
    if (decl.kind === "void") return discValue.map((v) => ({ [discName]: v }));
    return fc
      .tuple(discValue, this.declaration(decl, depth))
      .map(([v, x]) => ({ [discName]: v, [decl.name]: x }));
  }

  #discriminant(t: TypeSpec): DiscriminantInfo {
    switch (t.kind) {
      case "bool":
        return {
          toTs: (v) => v !== 0n,
          others: (listed) => {
            const rest = [0n, 1n].filter((v) => !listed.has(v));
            return rest.length === 0 ? null : fc.constantFrom(...rest.map((v) => v !== 0n));
          },
        };
      case "enum":
        return this.#enumDiscriminant(t.body);
      case "int": {
        if (t.bits === 64) throw new Error("xdr-arbitrary: a 64-bit union discriminant");
        const [min, max] = intRange(t.unsigned, t.bits);
        return {
          toTs: (v) => Number(v),
          others: (listed) =>
            fc
              .oneof(
                fc.integer({ min, max }),
                fc.integer({ min: Math.max(min, -16), max: Math.min(max, 16) }),
              )
              .filter((v) => !listed.has(BigInt(v))),
        };
      }
      case "named": {
        const def = this.#spec.types.get(t.name);
        if (def?.kind === "enum") return this.#enumDiscriminant(def.body);
        if (def?.kind === "typedef" && def.declaration.kind === "plain") {
          return this.#discriminant(def.declaration.type);
        }
        throw new Error(`xdr-arbitrary: '${t.name}' cannot be a union discriminant`);
      }
      default:
        throw new Error(`xdr-arbitrary: a ${t.kind} cannot be a union discriminant`);
    }
  }

  #enumDiscriminant(body: EnumBody): DiscriminantInfo {
    const values = body.members.map((m) => this.#spec.value(m.value));
    return {
      toTs: (v) => Number(v),
      others: (listed) => {
        const rest = values.filter((v) => !listed.has(v));
        return rest.length === 0 ? null : fc.constantFrom(...rest.map(Number));
      },
    };
  }

  #opaque(bound: number | null): fc.Arbitrary<Uint8Array> {
    const o = this.#o;
    const limit = bound === null ? o.maxBytes : Math.min(bound, o.maxBytes);
    const free = fc.uint8Array({ maxLength: limit });
    if (bound === null || bound > o.maxExactBound) return free;
    return fc.oneof(
      { weight: 4, arbitrary: free },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: bound, maxLength: bound }) },
    );
  }

  #string(bound: number | null): fc.Arbitrary<string> {
    const o = this.#o;
    const limit = bound === null ? o.maxBytes : Math.min(bound, o.maxBytes);
    const text = fc.array(codePoint, { maxLength: limit }).map((cps) => String.fromCodePoint(...cps));
    const free = text.map((s) => truncateUtf8(s, limit));
    if (bound === null || bound > o.maxExactBound) return free;
    // Exactly `bound` bytes: ASCII filler in front of random (often multi-byte) text.
    const full = text.map((s) => {
      const tail = truncateUtf8(s, bound);
      return "a".repeat(bound - utf8Length(tail)) + tail;
    });
    return fc.oneof({ weight: 4, arbitrary: free }, { weight: 1, arbitrary: full });
  }

  #number(v: Value): number {
    return Number(this.#spec.value(v));
  }
}

function intRange(unsigned: boolean, bits: 8 | 16 | 32): [number, number] {
  return unsigned ? [0, 2 ** bits - 1] : [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
}

/** Integers of a width, with the extremes (-2^31, 2^32-1, ±2^63, 2^64-1) often. */
function integer(unsigned: boolean, bits: 8 | 16 | 32 | 64): fc.Arbitrary<unknown> {
  if (bits === 64) {
    const [min, max] = unsigned ? [0n, UHYPER_MAX] : [HYPER_MIN, HYPER_MAX];
    const edges = unsigned
      ? [0n, 1n, 2n ** 63n, 2n ** 32n, UHYPER_MAX]
      : [HYPER_MIN, HYPER_MAX, 0n, -1n, 2n ** 32n];
    return fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(...edges) },
      { weight: 3, arbitrary: fc.bigInt({ min, max }) },
    );
  }
  const [min, max] = intRange(unsigned, bits);
  const edges = [...new Set([min, max, 0, unsigned ? 1 : -1])];
  if (bits === 32) edges.push(unsigned ? INT32_MAX + 1 : INT32_MIN + 1);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...edges) },
    { weight: 3, arbitrary: fc.integer({ min, max }) },
  );
}

/** 32-bit floats: every value is `Math.fround`-exact. fc.float also yields NaN, ±0 and ±Infinity. */
function float32(): fc.Arbitrary<number> {
  return fc.oneof(
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        Number.NaN,
        0,
        -0,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        1.401298464324817e-45, // smallest subnormal float
        3.4028234663852886e38, // largest float
        -1.5,
      ),
    },
    { weight: 3, arbitrary: fc.float() },
  );
}

function float64(): fc.Arbitrary<number> {
  return fc.oneof(
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        Number.NaN,
        0,
        -0,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        Number.MIN_VALUE,
        Number.MAX_VALUE,
        -1.5,
      ),
    },
    { weight: 3, arbitrary: fc.double() },
  );
}

/**
 * Code points for strings: mostly printable ASCII, then every UTF-8 length,
 * and the characters that trip decoders (a BOM, U+FFFD, noncharacters).
 * Never NUL, never a surrogate.
 */
const codePoint: fc.Arbitrary<number> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x01, max: 0x1f }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x800, max: 0xd7ff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0xfeff, 0xfffd, 0xfffe, 0xffff, 0x7f, 0x80, 0x7ff, 0x800, 0x10000),
  },
);

/** Bytes of `s` in UTF-8. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** The longest prefix of `s`, in whole code points, that takes at most `maxBytes` in UTF-8. */
export function truncateUtf8(s: string, maxBytes: number): string {
  let out = "";
  let n = 0;
  for (const ch of s) {
    const len = utf8Length(ch);
    if (n + len > maxBytes) break;
    out += ch;
    n += len;
  }
  return out;
}
