/**
 * Semantic checks of a parsed `.x` file, and the answers codegen needs:
 * what each constant is worth and what each type name stands for.
 *
 * Every problem is collected before one {@link IdlError} is thrown. Names
 * follow C's rules as rpcgen's output sees them: types, constants and enum
 * members share one namespace (rpcgen makes a typedef of every struct, union
 * and enum, and a #define or enumerator of every constant).
 */

import type {
  ConstantInfo,
  Declaration,
  Definition,
  Diagnostic,
  EnumBody,
  ResolvedSpecification,
  SourceLocation,
  Specification,
  StructBody,
  TypeDefinition,
  TypeSpec,
  UnionBody,
  Value,
} from "./ast.js";
import { CppExpressionError, evaluateCondition } from "./cpp-expression.js";
import { formatLocation, IdlError } from "./diagnostics.js";
import { findSizeCycles } from "./size-cycles.js";

/**
 * Constants every file may use without defining them: C's TRUE and FALSE,
 * the case labels of a `bool` discriminant. `value()` knows them; they are
 * not listed in `constants`, because the file does not define them. A file's
 * own definition of either name wins.
 */
export const PREDEFINED_CONSTANTS: ReadonlyMap<string, bigint> = new Map([
  ["TRUE", 1n],
  ["FALSE", 0n],
]);

const UINT32_MAX = 0xffff_ffffn;
const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
/** A `const` must fit in hyper or unsigned hyper: the widest XDR integers (RFC 4506 §4.5). */
const CONST_MIN = -(2n ** 63n);
const CONST_MAX = 2n ** 64n - 1n;

/** What a union discriminant's type comes to once typedefs are followed. */
type Scalar =
  | { readonly kind: "int"; readonly unsigned: boolean; readonly bits: 8 | 16 | 32 | 64 }
  | { readonly kind: "bool" }
  | { readonly kind: "enum"; readonly body: EnumBody; readonly name: string }
  | { readonly kind: "other"; readonly description: string };

/**
 * Checks `spec` and answers questions about it.
 * Throws {@link IdlError} listing every semantic problem.
 */
export function resolve(spec: Specification): ResolvedSpecification {
  return new Resolver(spec).run();
}

class Resolver {
  readonly #spec: Specification;
  readonly #diagnostics: Diagnostic[] = [];
  /** Every name in C's global namespace, with what it is, for "already defined" messages. */
  readonly #names = new Map<string, { what: string; loc: SourceLocation }>();
  readonly #types = new Map<string, TypeDefinition>();
  /**
   * Where each named number's value is written: a const, an enum member, or
   * a program, version or procedure name (rpcgen #defines those, and
   * rpcb_prot.x uses RPCBPROC_CALLIT as a value).
   */
  readonly #constantSources = new Map<string, ConstantSource>();
  /** Program, version and procedure names defined again (by a later version), to check they agree. */
  readonly #redefinitions: { name: string; value: Value; loc: SourceLocation }[] = [];
  readonly #stringConstants = new Set<string>();
  /** `%#define NAME text` lines, consulted for names the file uses but does not define. */
  readonly #passthroughDefines = new Map<string, { text: string; loc: SourceLocation }>();
  /** The `%#define`s that were needed, with their values. */
  readonly #usedDefines = new Map<string, ConstantInfo>();
  /** The enum body each member belongs to, and that body's display name. */
  readonly #memberOf = new Map<string, { body: EnumBody; name: string }>();
  readonly #constantValues = new Map<string, bigint | null>();
  readonly #resolving = new Set<string>();
  /** Each Value is resolved once, so a bad reference is reported once. */
  readonly #values = new Map<Value, bigint | null>();

  constructor(spec: Specification) {
    this.#spec = spec;
  }

  #error(loc: SourceLocation, message: string): void {
    this.#diagnostics.push({ loc, message });
  }

  run(): ResolvedSpecification {
    for (const d of this.#spec.definitions) this.#declare(d);
    for (const c of this.#spec.stringConstants ?? []) {
      this.#define(c.name, "a string constant", c.loc);
      this.#stringConstants.add(c.name);
    }
    for (const p of this.#spec.passthrough) {
      // Object-like only: a '(' right after the name makes a C macro function.
      const m = /^\s*#\s*define\s+([A-Za-z_]\w*)(?!\()\s*(.*)$/.exec(p.text);
      if (m && !this.#passthroughDefines.has(m[1]))
        this.#passthroughDefines.set(m[1], { text: m[2], loc: p.loc });
    }
    const constants = this.#checkConstants();
    for (const d of this.#spec.definitions) this.#check(d);
    this.#checkPrograms();
    this.#checkRedefinitions();
    for (const cycle of findSizeCycles(this.#spec.definitions, this.#types)) {
      const path = [...cycle.map((d) => nameOf(d)), nameOf(cycle[0])].join(" -> ");
      this.#error(
        cycle[0].loc,
        `${describeDefinition(cycle[0])} contains itself (${path}) and would have infinite size; ` +
          "use optional data (*) or a variable-length array (<>) to break the cycle",
      );
    }
    if (this.#diagnostics.length > 0) throw new IdlError(inSourceOrder(this.#diagnostics));
    for (const [name, info] of this.#usedDefines) constants.set(name, info);
    return {
      spec: this.#spec,
      constants,
      types: this.#types,
      value: (v: Value): bigint => {
        // Every Value of the specification was resolved above; this answers from that cache.
        const n = this.#value(v);
        if (n === null)
          throw new Error(`value(): '${formatValue(v)}' at ${formatLocation(v.loc)} has no value`);
        return n;
      },
    };
  }

  // ---- names ---------------------------------------------------------------

  #define(name: string, what: string, loc: SourceLocation): void {
    const previous = this.#names.get(name);
    if (previous) {
      this.#error(
        loc,
        `'${name}' is already defined (as ${previous.what} at ${formatLocation(previous.loc)})`,
      );
      return;
    }
    this.#names.set(name, { what, loc });
  }

  #declare(d: Definition): void {
    switch (d.kind) {
      case "const":
        this.#defineNumber(d.name, "const", d.value, d.loc);
        return;
      case "typedef":
        this.#defineType(d.declaration.name, d, "a typedef");
        this.#declareInlineEnums(d.declaration);
        return;
      case "enum":
        this.#defineType(d.name, d, "an enum");
        this.#declareMembers(d.body, d.name, d.name);
        return;
      case "struct":
        this.#defineType(d.name, d, "a struct");
        for (const f of d.body.fields) this.#declareInlineEnums(f);
        return;
      case "union":
        this.#defineType(d.name, d, "a union");
        this.#declareUnionEnums(d.body);
        return;
      case "program":
        this.#defineNumber(d.name, "program", d.number, d.loc);
        for (const v of d.versions) {
          this.#defineNumber(v.name, "version", v.number, v.loc);
          for (const p of v.procedures) this.#defineNumber(p.name, "procedure", p.number, p.loc);
        }
        return;
    }
  }

  #defineNumber(name: string, kind: ConstantSource["kind"], value: Value, loc: SourceLocation): void {
    const existing = this.#constantSources.get(name);
    // RPCBPROC_SET is procedure 1 of rpcbind versions 3 and 4 alike: C accepts
    // the same #define twice, so we accept it when the numbers agree.
    if (existing && kind !== "const" && existing.kind === kind) {
      this.#redefinitions.push({ name, value, loc });
      return;
    }
    const duplicate = this.#names.has(name);
    this.#define(name, kind === "const" ? "a constant" : `a ${kind} name`, loc);
    if (!duplicate) this.#constantSources.set(name, { value, kind, enumName: null, loc });
  }

  #defineType(name: string, d: TypeDefinition, what: string): void {
    if (!this.#names.has(name)) this.#types.set(name, d);
    this.#define(name, what, d.loc);
  }

  #declareMembers(body: EnumBody, enumName: string | null, displayName: string): void {
    for (const m of body.members) {
      const duplicate = this.#names.has(m.name);
      this.#define(m.name, `a member of enum '${displayName}'`, m.loc);
      if (duplicate) continue;
      this.#constantSources.set(m.name, { value: m.value, kind: "member", enumName, loc: m.loc });
      this.#memberOf.set(m.name, { body, name: displayName });
    }
  }

  /** Members of anonymous enums are C enumerators too, so they join the namespace. */
  #declareInlineEnums(d: Declaration): void {
    if (!("type" in d)) return;
    const t = d.type;
    if (t.kind === "enum") this.#declareMembers(t.body, null, "(anonymous)");
    else if (t.kind === "struct") for (const f of t.body.fields) this.#declareInlineEnums(f);
    else if (t.kind === "union") this.#declareUnionEnums(t.body);
  }

  #declareUnionEnums(body: UnionBody): void {
    this.#declareInlineEnums(body.discriminant);
    for (const c of body.cases) this.#declareInlineEnums(c.declaration);
    if (body.defaultArm) this.#declareInlineEnums(body.defaultArm);
  }

  // ---- constants -----------------------------------------------------------

  #checkConstants(): Map<string, ConstantInfo> {
    const constants = new Map<string, ConstantInfo>();
    for (const [name, source] of this.#constantSources) {
      const value = this.#constant(name);
      if (value === null) continue;
      if (source.kind === "member") {
        if (value < INT32_MIN || value > INT32_MAX) {
          this.#error(
            source.loc,
            `enum member '${name}' = ${value} is outside the int range (RFC 4506 §4.3)`,
          );
        }
      } else if (source.kind === "const" && (value < CONST_MIN || value > CONST_MAX)) {
        this.#error(source.loc, `const '${name}' = ${value} does not fit in 64 bits`);
      }
      // Program, version and procedure names answer value() but are not constants to emit.
      if (source.kind === "const" || source.kind === "member") {
        constants.set(name, { value, enumName: source.enumName, loc: source.loc });
      }
    }
    return constants;
  }

  #constant(name: string): bigint | null {
    const known = this.#constantValues.get(name);
    if (known !== undefined) return known;
    const source = this.#constantSources.get(name)!;
    if (this.#resolving.has(name)) {
      this.#error(source.loc, `'${name}' is defined in terms of itself`);
      this.#constantValues.set(name, null);
      return null;
    }
    this.#resolving.add(name);
    const value = this.#value(source.value);
    this.#resolving.delete(name);
    // A cycle may already have recorded null for this name; keep that.
    if (!this.#constantValues.has(name)) this.#constantValues.set(name, value);
    return this.#constantValues.get(name)!;
  }

  /** The number `v` stands for, or null after reporting why it has none. */
  #value(v: Value): bigint | null {
    const known = this.#values.get(v);
    if (known !== undefined) return known;
    let value: bigint | null = null;
    if (v.kind === "literal") {
      value = v.value;
    } else if (this.#constantSources.has(v.name)) {
      value = this.#constant(v.name);
    } else if (PREDEFINED_CONSTANTS.has(v.name)) {
      value = PREDEFINED_CONSTANTS.get(v.name)!;
    } else if (this.#types.has(v.name)) {
      this.#error(v.loc, `'${v.name}' is a type, not a constant`);
    } else if (this.#stringConstants.has(v.name)) {
      this.#error(v.loc, `'${v.name}' is a string constant, not a number`);
    } else if (this.#passthroughDefines.has(v.name)) {
      value = this.#passthroughDefine(v.name, v.loc);
    } else {
      this.#error(v.loc, `unknown constant '${v.name}'`);
    }
    this.#values.set(v, value);
    return value;
  }

  /**
   * The value of a name that only a `%#define` gives (nlm_prot.x bounds
   * strings by LM_MAXSTRLEN that way): rpcgen's C sees the #define, so we
   * read it as an integer expression of other defines and constants.
   */
  #passthroughDefine(name: string, useLoc: SourceLocation): bigint | null {
    const used = this.#usedDefines.get(name);
    if (used) return used.value;
    const define = this.#passthroughDefines.get(name)!;
    if (this.#resolving.has(name)) return null;
    this.#resolving.add(name);
    const lookup = {
      get: (macro: string): string | undefined => {
        if (this.#constantSources.has(macro)) {
          const n = this.#constant(macro);
          return n === null ? undefined : `(${n})`;
        }
        const predefined = PREDEFINED_CONSTANTS.get(macro);
        if (predefined !== undefined) return String(predefined);
        return this.#passthroughDefines.get(macro)?.text;
      },
    };
    try {
      const value = evaluateCondition(define.text, lookup, true);
      this.#usedDefines.set(name, { value, enumName: null, loc: define.loc });
      return value;
    } catch (e) {
      if (!(e instanceof CppExpressionError)) throw e;
      this.#error(
        useLoc,
        `'${name}' is defined only by '%#define ${name} ${define.text.trim()}' at ` +
          `${formatLocation(define.loc)}, which is not an integer expression (${e.message})`,
      );
      return null;
    } finally {
      this.#resolving.delete(name);
    }
  }

  // ---- types and declarations ----------------------------------------------

  #check(d: Definition): void {
    switch (d.kind) {
      case "typedef": {
        this.#checkDeclaration(d.declaration);
        return;
      }
      case "struct": {
        this.#checkStruct(d.body, `struct '${d.name}'`);
        return;
      }
      case "union": {
        this.#checkUnion(d.body, `union '${d.name}'`);
        return;
      }
      case "enum":
      case "const":
      case "program":
        return;
    }
  }

  #checkType(t: TypeSpec): void {
    switch (t.kind) {
      case "quadruple": {
        this.#error(t.loc, "quadruple is not supported (RFC 4506 §4.8: no portable 128-bit float)");
        return;
      }
      case "named":
        if (this.#types.has(t.name)) return;
        if (this.#constantSources.has(t.name) || PREDEFINED_CONSTANTS.has(t.name)) {
          this.#error(t.loc, `'${t.name}' is a constant, not a type`);
          return;
        }
        {
          this.#error(t.loc, `unknown type '${t.name}'`);
          return;
        }
      case "struct": {
        this.#checkStruct(t.body, "anonymous struct");
        return;
      }
      case "union": {
        this.#checkUnion(t.body, "anonymous union");
        return;
      }
      default:
        return;
    }
  }

  #checkDeclaration(d: Declaration): void {
    switch (d.kind) {
      case "void":
        return;
      case "plain":
      case "optional": {
        this.#checkType(d.type);
        return;
      }
      case "fixedArray":
        this.#checkType(d.type);
        {
          this.#checkSize(d.length, `length of '${d.name}'`);
          return;
        }
      case "fixedOpaque": {
        this.#checkSize(d.length, `length of '${d.name}'`);
        return;
      }
      case "varArray":
        this.#checkType(d.type);
        if (d.max) this.#checkSize(d.max, `maximum size of '${d.name}'`);
        return;
      case "varOpaque":
      case "string":
        if (d.max) this.#checkSize(d.max, `maximum size of '${d.name}'`);
        return;
    }
  }

  /** Lengths and bounds are unsigned 32-bit on the wire (RFC 4506 §4.10–§4.13). */
  #checkSize(v: Value, what: string): void {
    const n = this.#value(v);
    if (n === null) return;
    if (n < 0n || n > UINT32_MAX)
      this.#error(v.loc, `the ${what} must be between 0 and 4294967295, not ${n}`);
  }

  #checkStruct(body: StructBody, owner: string): void {
    const seen = new Map<string, SourceLocation>();
    for (const f of body.fields) {
      const first = seen.get(f.name);
      if (first)
        this.#error(f.loc, `duplicate field '${f.name}' in ${owner} (first at ${formatLocation(first)})`);
      else seen.set(f.name, f.loc);
      this.#checkDeclaration(f);
    }
  }

  #checkUnion(body: UnionBody, owner: string): void {
    const discriminant = body.discriminant;
    this.#checkDeclaration(discriminant);
    const arms = new Map<string, SourceLocation>([[discriminant.name, discriminant.loc]]);
    const checkArm = (d: Declaration) => {
      this.#checkDeclaration(d);
      if (d.kind === "void") return;
      const first = arms.get(d.name);
      if (first)
        this.#error(d.loc, `duplicate arm name '${d.name}' in ${owner} (first at ${formatLocation(first)})`);
      else arms.set(d.name, d.loc);
    };

    const scalar = this.#scalar(discriminant.type, new Set());
    const switchable =
      scalar.kind === "bool" || scalar.kind === "enum" || (scalar.kind === "int" && scalar.bits <= 32);
    if (!switchable && !(discriminant.type.kind === "named" && !this.#types.has(discriminant.type.name))) {
      const hyper = `${scalar.kind === "int" && scalar.unsigned ? "unsigned " : ""}hyper`;
      const named = discriminant.type.kind === "named" ? `'${discriminant.type.name}' ` : "";
      const what = scalar.kind === "other" ? scalar.description : named ? `${named}(${hyper})` : hyper;
      this.#error(
        discriminant.type.loc,
        `cannot switch on ${what}: a union discriminant must be int, unsigned int, an enum or bool (RFC 4506 §4.15)`,
      );
    }
    const caseValues = new Map<bigint, Value>();
    for (const c of body.cases) {
      for (const v of c.values) {
        const n = switchable ? this.#checkCase(v, scalar, owner) : this.#value(v);
        if (n === null) continue;
        const first = caseValues.get(n);
        if (first) {
          this.#error(
            v.loc,
            `duplicate case value ${spell(v, n)} in ${owner} (first at ${formatLocation(first.loc)})`,
          );
        } else {
          caseValues.set(n, v);
        }
      }
      checkArm(c.declaration);
    }
    if (body.defaultArm) checkArm(body.defaultArm);
  }

  /** Checks one case label against the discriminant's type; gives its number, or null. */
  #checkCase(v: Value, scalar: Scalar, owner: string): bigint | null {
    const n = this.#value(v);
    if (n === null) return null;
    if (scalar.kind === "enum") {
      const member = v.kind === "ref" ? this.#memberOf.get(v.name) : undefined;
      if (member && member.body !== scalar.body) {
        this.#error(
          v.loc,
          `case ${spell(v, n)} is a member of enum '${member.name}', not of enum '${scalar.name}'`,
        );
        return null;
      }
      if (!member && !scalar.body.members.some((m) => this.#value(m.value) === n)) {
        this.#error(v.loc, `case ${spell(v, n)} is not a value of enum '${scalar.name}' in ${owner}`);
        return null;
      }
    } else if (scalar.kind === "bool") {
      if (n !== 0n && n !== 1n) {
        this.#error(v.loc, `case ${spell(v, n)} is not a bool: use TRUE or FALSE`);
        return null;
      }
    } else if (scalar.kind === "int") {
      const [min, max] = intRange(scalar.unsigned, scalar.bits);
      if (n < min || n > max) {
        const type = `${scalar.unsigned ? "unsigned " : ""}${INT_WORDS[scalar.bits]}`;
        this.#error(v.loc, `case ${spell(v, n)} is out of range for the discriminant type ${type}`);
        return null;
      }
    }
    return n;
  }

  /** What a type comes to once typedefs are followed, for the discriminant check. */
  #scalar(t: TypeSpec, seen: Set<string>): Scalar {
    switch (t.kind) {
      case "int":
        return t;
      case "bool":
        return { kind: "bool" };
      case "enum":
        return { kind: "enum", body: t.body, name: "(anonymous)" };
      case "named": {
        const d = this.#types.get(t.name);
        if (!d || seen.has(t.name)) return { kind: "other", description: `'${t.name}'` };
        if (d.kind === "enum") return { kind: "enum", body: d.body, name: d.name };
        if (d.kind === "typedef" && d.declaration.kind === "plain") {
          const inner = this.#scalar(d.declaration.type, seen.add(t.name));
          return inner.kind === "other"
            ? { kind: "other", description: `'${t.name}' (${inner.description})` }
            : inner;
        }
        return { kind: "other", description: describeDefinition(d) };
      }
      default:
        return {
          kind: "other",
          description:
            t.kind === "quadruple" || t.kind === "float" || t.kind === "double"
              ? t.kind
              : `an anonymous ${t.kind}`,
        };
    }
  }

  // ---- programs (RFC 5531 §12.2) -------------------------------------------

  #checkPrograms(): void {
    const programNames = new Map<string, SourceLocation>();
    const programNumbers = new Map<bigint, string>();
    for (const p of this.#spec.definitions) {
      if (p.kind !== "program") continue;
      unique(programNames, p.name, p.loc, (first) =>
        this.#error(p.loc, `duplicate program '${p.name}' (first at ${first})`),
      );
      const number = this.#uint32(p.number, `program number of '${p.name}'`);
      if (number !== null) {
        const first = programNumbers.get(number);
        if (first)
          this.#error(
            p.number.loc,
            `program '${p.name}' has the same number ${number} as program '${first}'`,
          );
        else programNumbers.set(number, p.name);
      }
      const versionNames = new Map<string, SourceLocation>();
      const versionNumbers = new Map<bigint, string>();
      for (const v of p.versions) {
        unique(versionNames, v.name, v.loc, (first) =>
          this.#error(v.loc, `duplicate version '${v.name}' in program '${p.name}' (first at ${first})`),
        );
        const vn = this.#uint32(v.number, `version number of '${v.name}'`);
        if (vn !== null) {
          const first = versionNumbers.get(vn);
          // A repeated name was reported above; its number is no news.
          if (first && first !== v.name)
            this.#error(v.number.loc, `version '${v.name}' has the same number ${vn} as version '${first}'`);
          else versionNumbers.set(vn, v.name);
        }
        const procNames = new Map<string, SourceLocation>();
        const procNumbers = new Map<bigint, string>();
        for (const proc of v.procedures) {
          unique(procNames, proc.name, proc.loc, (first) =>
            this.#error(
              proc.loc,
              `duplicate procedure '${proc.name}' in version '${v.name}' (first at ${first})`,
            ),
          );
          const pn = this.#uint32(proc.number, `procedure number of '${proc.name}'`);
          if (pn !== null) {
            const first = procNumbers.get(pn);
            if (first && first !== proc.name) {
              this.#error(
                proc.number.loc,
                `procedure '${proc.name}' has the same number ${pn} as procedure '${first}'`,
              );
            } else {
              procNumbers.set(pn, proc.name);
            }
          }
          for (const t of [...proc.args, proc.result]) if (t.kind === "type") this.#checkType(t.type);
        }
      }
    }
  }

  /** A program, version or procedure name used twice must stand for one number, as two C #defines must. */
  #checkRedefinitions(): void {
    for (const r of this.#redefinitions) {
      const first = this.#constantSources.get(r.name)!;
      const a = this.#constant(r.name);
      const b = this.#value(r.value);
      if (a !== null && b !== null && a !== b) {
        this.#error(
          r.loc,
          `'${r.name}' is already defined as ${a} (at ${formatLocation(first.loc)}); it cannot also be ${b}`,
        );
      }
    }
  }

  /** Program, version and procedure numbers are unsigned 32-bit on the wire (RFC 5531 §9). */
  #uint32(v: Value, what: string): bigint | null {
    const n = this.#value(v);
    if (n === null) return null;
    if (n < 0n || n > UINT32_MAX) {
      this.#error(v.loc, `the ${what} must be between 0 and 4294967295, not ${n}`);
      return null;
    }
    return n;
  }
}

/** Diagnostics by line and column, files in the order they first appear (the checks run in passes). */
function inSourceOrder(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const files = [...new Set(diagnostics.map((d) => d.loc.file))];
  return [...diagnostics].sort(
    (a, b) =>
      files.indexOf(a.loc.file) - files.indexOf(b.loc.file) ||
      a.loc.line - b.loc.line ||
      a.loc.column - b.loc.column,
  );
}

/** Where a named number comes from. */
interface ConstantSource {
  readonly value: Value;
  readonly kind: "const" | "member" | "program" | "version" | "procedure";
  readonly enumName: string | null;
  readonly loc: SourceLocation;
}

function formatValue(v: Value): string {
  return v.kind === "literal" ? String(v.value) : v.name;
}

const INT_WORDS = { 8: "char", 16: "short", 32: "int", 64: "hyper" } as const;

function intRange(unsigned: boolean, bits: number): [bigint, bigint] {
  const b = BigInt(bits);
  return unsigned ? [0n, 2n ** b - 1n] : [-(2n ** (b - 1n)), 2n ** (b - 1n) - 1n];
}

/** A value as the user wrote it, with its number when written by name: `RED (= 2)`. */
function spell(v: Value, n: bigint): string {
  return v.kind === "ref" ? `'${v.name}' (= ${n})` : `${n}`;
}

function unique(
  seen: Map<string, SourceLocation>,
  name: string,
  loc: SourceLocation,
  onDuplicate: (first: string) => void,
) {
  const first = seen.get(name);
  if (first) onDuplicate(formatLocation(first));
  else seen.set(name, loc);
}

function nameOf(d: TypeDefinition): string {
  return d.kind === "typedef" ? d.declaration.name : d.name;
}

/** `struct 'foo'`, `typedef 'bar'`... */
function describeDefinition(d: TypeDefinition): string {
  return `${d.kind} '${nameOf(d)}'`;
}
