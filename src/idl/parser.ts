/**
 * Recursive descent from tokens to a {@link Specification}: the grammar of
 * RFC 4506 §6.3 and RFC 5531 §12.2, widened to what rpcgen accepts and real
 * files contain (C type spellings, enum members without `=`, bare `string`
 * procedure types, several procedure arguments as with `rpcgen -N`).
 *
 * A syntax error stops the parse with the problem located; a few problems
 * that leave the grammar intact (a `void` struct field, say) are collected
 * and reported together at the end.
 *
 * Locations: a definition or declaration is located at its name, a type at
 * its first word, a value at its first token (the `-` of a negative number).
 */

import type {
  Declaration,
  Definition,
  Diagnostic,
  EnumBody,
  EnumMember,
  NamedDeclaration,
  Passthrough,
  ProcedureDefinition,
  ProcedureType,
  SourceLocation,
  Specification,
  StringConstant,
  StructBody,
  TypeSpec,
  UnionBody,
  UnionCase,
  Value,
  VersionDefinition,
} from "./ast.js";
import { foldBuiltinTypeNames, libraryConstants } from "./builtin-types.js";
import { IdlError } from "./diagnostics.js";
import { describeToken, type Token } from "./lexer.js";

/** Parses the tokens of `file` (from {@link tokenize}). Throws {@link IdlError}. */
export function parseTokens(
  tokens: readonly Token[],
  file: string,
  passthrough: readonly Passthrough[],
): Specification {
  const parser = new Parser(tokens);
  const definitions = parser.specification();
  const used = new Set(tokens.filter((t) => t.kind === "identifier").map((t) => t.text));
  return {
    file,
    definitions: [...libraryConstants(definitions, used), ...foldBuiltinTypeNames(definitions)],
    passthrough,
    stringConstants: parser.stringConstants,
  };
}

class Parser {
  #pos = 0;
  readonly #tokens: readonly Token[];
  readonly stringConstants: StringConstant[] = [];
  /** Problems that do not stop the parse. */
  readonly #soft: Diagnostic[] = [];

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  specification(): Definition[] {
    const definitions: Definition[] = [];
    while (this.#peek().kind !== "end") {
      const d = this.#definition();
      if (d) definitions.push(d);
    }
    if (this.#soft.length > 0) throw new IdlError(this.#soft);
    return definitions;
  }

  // ---- token helpers -------------------------------------------------------

  #peek(ahead = 0): Token {
    return this.#tokens[Math.min(this.#pos + ahead, this.#tokens.length - 1)];
  }

  #next(): Token {
    const t = this.#peek();
    if (t.kind !== "end") this.#pos++;
    return t;
  }

  /** Whether the next token is the keyword or punctuation `text`. */
  #is(text: string, ahead = 0): boolean {
    const t = this.#peek(ahead);
    return (t.kind === "keyword" || t.kind === "punctuation") && t.text === text;
  }

  #accept(text: string): Token | null {
    return this.#is(text) ? this.#next() : null;
  }

  /** Consumes `text` or stops with "expected 'text' <context>, found ...". */
  #expect(text: string, context: string): Token {
    if (this.#is(text)) return this.#next();
    return this.#fail(`expected '${text}' ${context}`);
  }

  #name(context: string): Token {
    const t = this.#peek();
    if (t.kind === "identifier") return this.#next();
    if (t.kind === "keyword")
      return this.#fail(`expected a name ${context}, found keyword '${t.text}'`, true);
    return this.#fail(`expected a name ${context}`);
  }

  /** Stops the parse at the next token; "found ..." is appended unless `complete`. */
  #fail(message: string, complete = false): never {
    const t = this.#peek();
    const full = complete ? message : `${message}, found ${describeToken(t)}`;
    throw new IdlError([...this.#soft, { loc: t.loc, message: full }]);
  }

  #report(loc: SourceLocation, message: string): void {
    this.#soft.push({ loc, message });
  }

  // ---- definitions (RFC 4506 §6.3 "definition", RFC 5531 §12.2) ----------

  #definition(): Definition | null {
    const t = this.#peek();
    switch (t.kind === "keyword" ? t.text : "") {
      case "typedef": {
        this.#next();
        const declaration = this.#declaration("after 'typedef'");
        if (declaration.kind === "void") {
          this.#report(declaration.loc, "'void' cannot be given a type name (typedef void)");
          this.#expect(";", "after 'typedef void'");
          return null;
        }
        this.#expect(";", `after typedef '${declaration.name}'`);
        // `typedef struct foo foo;` restates the alias rpcgen makes for every
        // struct anyway (nis.x has several): it defines nothing.
        if (
          declaration.kind === "plain" &&
          declaration.type.kind === "named" &&
          declaration.type.name === declaration.name
        ) {
          return null;
        }
        return { kind: "typedef", declaration, loc: declaration.loc };
      }
      case "enum": {
        this.#next();
        const name = this.#name("after 'enum'");
        const body = this.#enumBody(name.text);
        this.#expect(";", `after the definition of enum '${name.text}'`);
        return { kind: "enum", name: name.text, body, loc: name.loc };
      }
      case "struct": {
        this.#next();
        const name = this.#name("after 'struct'");
        const body = this.#structBody(name.text);
        this.#expect(";", `after the definition of struct '${name.text}'`);
        return { kind: "struct", name: name.text, body, loc: name.loc };
      }
      case "union": {
        this.#next();
        const name = this.#name("after 'union'");
        const body = this.#unionBody(name.text);
        this.#expect(";", `after the definition of union '${name.text}'`);
        return { kind: "union", name: name.text, body, loc: name.loc };
      }
      case "const": {
        this.#next();
        const name = this.#name("after 'const'");
        this.#expect("=", `after const '${name.text}'`);
        const text = this.#peek();
        if (text.kind === "string") {
          this.#next();
          this.#expect(";", `after const '${name.text}'`);
          this.stringConstants.push({ name: name.text, text: text.text, loc: name.loc });
          return null;
        }
        const value = this.#value(`as the value of const '${name.text}'`);
        this.#expect(";", `after const '${name.text}'`);
        return { kind: "const", name: name.text, value, loc: name.loc };
      }
      case "program":
        return this.#program();
      default:
        return this.#fail("expected a definition (const, enum, struct, union, typedef or program)");
    }
  }

  /** A number, a negative number, or the name of a constant. */
  #value(context: string): Value {
    const t = this.#peek();
    if (t.kind === "number") {
      this.#next();
      return { kind: "literal", value: t.value, loc: t.loc };
    }
    if (t.kind === "identifier") {
      this.#next();
      return { kind: "ref", name: t.text, loc: t.loc };
    }
    if (this.#is("-")) {
      this.#next();
      const n = this.#peek();
      if (n.kind !== "number") return this.#fail("expected a number after '-'");
      this.#next();
      return { kind: "literal", value: -n.value, loc: t.loc };
    }
    return this.#fail(`expected a number or a constant name ${context}`);
  }

  #enumBody(enumName: string): EnumBody {
    this.#expect("{", `after enum '${enumName}'`);
    const members: EnumMember[] = [];
    do {
      const name = this.#name(`as a member of enum '${enumName}'`);
      let value: Value;
      if (this.#accept("=")) {
        value = this.#value(`as the value of '${name.text}'`);
      } else {
        // rpcgen lets C number the members: one more than the previous.
        const previous = members[members.length - 1]?.value;
        if (previous?.kind === "ref") {
          this.#report(
            name.loc,
            `enum member '${name.text}' needs '= value': the member before it is given by name`,
          );
        }
        const next = previous?.kind === "literal" ? previous.value + 1n : 0n;
        value = { kind: "literal", value: next, loc: name.loc };
      }
      members.push({ name: name.text, value, loc: name.loc });
      // A trailing comma before '}' is accepted, as in C.
    } while (this.#accept(",") && !this.#is("}"));
    this.#expect("}", `or ',' after member '${members[members.length - 1].name}' of enum '${enumName}'`);
    return { members };
  }

  #structBody(structName: string): StructBody {
    this.#expect("{", `after struct '${structName}'`);
    const fields: NamedDeclaration[] = [];
    if (this.#is("}")) this.#report(this.#peek().loc, `struct '${structName}' has no fields`);
    while (!this.#accept("}")) {
      const d = this.#declaration(`in struct '${structName}'`);
      if (d.kind === "void") {
        this.#report(
          d.loc,
          `'void' cannot be a field of struct '${structName}' (only a union arm can be void)`,
        );
        this.#expect(";", "after 'void'");
        continue;
      }
      this.#expect(";", `after declaration of '${d.name}'`);
      fields.push(d);
    }
    return { fields };
  }

  #unionBody(unionName: string): UnionBody {
    this.#expect("switch", `after union '${unionName}'`);
    this.#expect("(", "after 'switch'");
    const discriminant = this.#declaration("as the union discriminant");
    if (discriminant.kind !== "plain") {
      throw new IdlError([
        ...this.#soft,
        {
          loc: discriminant.loc,
          message: "the union discriminant must be a plain declaration: switch (type name)",
        },
      ]);
    }
    this.#expect(")", `after the discriminant '${discriminant.name}'`);
    this.#expect("{", `after 'switch (...)' of union '${unionName}'`);
    const cases: UnionCase[] = [];
    while (this.#is("case")) {
      const loc = this.#peek().loc;
      const values: Value[] = [];
      while (this.#accept("case")) {
        values.push(this.#value("after 'case'"));
        this.#expect(":", "after the case value");
      }
      const declaration = this.#declaration(`in union '${unionName}'`);
      this.#expect(";", `after declaration of ${armName(declaration)}`);
      cases.push({ values, declaration, loc });
    }
    if (cases.length === 0) this.#expect("case", `in the body of union '${unionName}'`);
    let defaultArm: Declaration | null = null;
    if (this.#accept("default")) {
      this.#expect(":", "after 'default'");
      defaultArm = this.#declaration(`in union '${unionName}'`);
      this.#expect(";", `after declaration of ${armName(defaultArm)}`);
      this.#expect("}", `after the default arm of union '${unionName}' (default comes last)`);
    } else {
      this.#expect("}", `or 'case' or 'default' in union '${unionName}'`);
    }
    return { discriminant, cases, defaultArm };
  }

  // ---- declarations (RFC 4506 §6.3 "declaration") --------------------------

  #declaration(context: string): Declaration {
    const first = this.#peek();
    if (this.#accept("void")) return { kind: "void", loc: first.loc };
    if (this.#accept("opaque")) {
      const name = this.#name("after 'opaque'");
      if (this.#accept("[")) {
        const length = this.#value(`as the length of '${name.text}'`);
        this.#expect("]", `after the length of '${name.text}'`);
        return { kind: "fixedOpaque", name: name.text, length, loc: name.loc };
      }
      if (this.#accept("<")) {
        const max = this.#bound(name.text);
        return { kind: "varOpaque", name: name.text, max, loc: name.loc };
      }
      return this.#fail(`expected '[' or '<' after opaque '${name.text}' (opaque data needs a length)`);
    }
    if (this.#accept("string")) {
      const name = this.#name("after 'string'");
      this.#expect(
        "<",
        `after string '${name.text}' (a string is variable-length: string ${name.text}<> or <N>)`,
      );
      const max = this.#bound(name.text);
      return { kind: "string", name: name.text, max, loc: name.loc };
    }
    const type = this.#typeSpecifier(context);
    if (this.#accept("*")) {
      const name = this.#name(`after '*'`);
      return { kind: "optional", name: name.text, type, loc: name.loc };
    }
    if (this.#is("{") && type.kind === "named") {
      return this.#fail(
        `a type defined inside a declaration must be anonymous: write '${first.text} { ... }' without a name`,
        true,
      );
    }
    const name = this.#name(`after type ${typeName(type)}`);
    if (this.#accept("[")) {
      const length = this.#value(`as the length of '${name.text}'`);
      this.#expect("]", `after the length of '${name.text}'`);
      return { kind: "fixedArray", name: name.text, type, length, loc: name.loc };
    }
    if (this.#accept("<")) {
      const max = this.#bound(name.text);
      return { kind: "varArray", name: name.text, type, max, loc: name.loc };
    }
    return { kind: "plain", name: name.text, type, loc: name.loc };
  }

  /** The rest of `<bound>` or `<>` after the `<`. */
  #bound(name: string): Value | null {
    if (this.#accept(">")) return null;
    const max = this.#value(`as the maximum size of '${name}'`);
    this.#expect(">", `after the maximum size of '${name}'`);
    return max;
  }

  /** RFC 4506 §6.3 "type-specifier", plus rpcgen's C spellings. */
  #typeSpecifier(context: string): TypeSpec {
    const t = this.#peek();
    const loc = t.loc;
    if (t.kind === "identifier") {
      this.#next();
      return { kind: "named", name: t.text, loc };
    }
    if (t.kind !== "keyword") return this.#fail(`expected a type ${context}`);
    switch (t.text) {
      case "unsigned": {
        this.#next();
        // `unsigned` alone is `unsigned int`, as in C.
        const width = this.#intWidth() ?? 32;
        return { kind: "int", unsigned: true, bits: width, loc };
      }
      case "int":
      case "hyper":
      case "char":
      case "short":
      case "long":
        return { kind: "int", unsigned: false, bits: this.#intWidth()!, loc };
      case "float":
      case "double":
      case "quadruple":
      case "bool":
        this.#next();
        return { kind: t.text, loc };
      case "enum":
        this.#next();
        if (this.#is("{")) return { kind: "enum", body: this.#enumBody("(anonymous)"), loc };
        return { kind: "named", name: this.#name("after 'enum'").text, loc };
      case "struct":
        this.#next();
        if (this.#is("{")) return { kind: "struct", body: this.#structBody("(anonymous)"), loc };
        return { kind: "named", name: this.#name("after 'struct'").text, loc };
      case "union":
        this.#next();
        if (this.#is("switch")) return { kind: "union", body: this.#unionBody("(anonymous)"), loc };
        return { kind: "named", name: this.#name("after 'union'").text, loc };
      default:
        return this.#fail(`expected a type ${context}`);
    }
  }

  /** Consumes `int`, `hyper`, `char`, `short` or `long` (`short int`/`long int` too) and gives its width. */
  #intWidth(): 8 | 16 | 32 | 64 | null {
    const word = this.#peek();
    if (word.kind !== "keyword") return null;
    const bits = INT_WIDTHS.get(word.text);
    if (bits === undefined) return null;
    this.#next();
    if ((word.text === "short" || word.text === "long") && this.#is("int")) this.#next();
    return bits;
  }

  // ---- programs (RFC 5531 §12.2 "program-def") -----------------------------

  #program(): Definition {
    this.#next();
    const name = this.#name("after 'program'");
    this.#expect("{", `after program '${name.text}'`);
    const versions: VersionDefinition[] = [];
    do {
      versions.push(this.#version());
    } while (this.#is("version"));
    this.#expect("}", `or 'version' in program '${name.text}'`);
    this.#expect("=", `after the body of program '${name.text}'`);
    const number = this.#value(`as the number of program '${name.text}'`);
    this.#expect(";", `after program '${name.text}'`);
    return { kind: "program", name: name.text, number, versions, loc: name.loc };
  }

  #version(): VersionDefinition {
    this.#expect("version", "in program body");
    const name = this.#name("after 'version'");
    this.#expect("{", `after version '${name.text}'`);
    const procedures: ProcedureDefinition[] = [];
    do {
      procedures.push(this.#procedure());
    } while (!this.#accept("}"));
    this.#expect("=", `after the body of version '${name.text}'`);
    const number = this.#value(`as the number of version '${name.text}'`);
    this.#expect(";", `after version '${name.text}'`);
    return { name: name.text, number, procedures, loc: name.loc };
  }

  #procedure(): ProcedureDefinition {
    const result = this.#procedureType("as a procedure result");
    const name = this.#name("as the procedure name");
    this.#expect("(", `after procedure '${name.text}'`);
    const args: ProcedureType[] = [this.#procedureType(`as the argument of '${name.text}'`)];
    while (this.#accept(",")) args.push(this.#procedureType(`as an argument of '${name.text}'`));
    if (args.length > 1) {
      for (const a of args) if (a.kind === "void") this.#report(a.loc, "'void' must be the only argument");
    }
    this.#expect(")", `after the argument${args.length > 1 ? "s" : ""} of '${name.text}'`);
    this.#expect("=", `after procedure '${name.text}'`);
    const number = this.#value(`as the number of procedure '${name.text}'`);
    this.#expect(";", `after procedure '${name.text}'`);
    return { name: name.text, number, args, result, loc: name.loc };
  }

  #procedureType(context: string): ProcedureType {
    const t = this.#peek();
    if (this.#accept("void")) return { kind: "void", loc: t.loc };
    // Bare `string` (rpcb_prot.x): unbounded, rpcgen's xdr_wrapstring.
    if (this.#accept("string")) return { kind: "string", loc: t.loc };
    return { kind: "type", type: this.#typeSpecifier(context), loc: t.loc };
  }
}

const INT_WIDTHS: ReadonlyMap<string, 8 | 16 | 32 | 64> = new Map([
  ["int", 32],
  ["hyper", 64],
  ["char", 8],
  ["short", 16],
  ["long", 32],
]);

function armName(d: Declaration): string {
  return d.kind === "void" ? "'void'" : `'${d.name}'`;
}

/** A type as it reads in messages: `'int'`, `'foo'`, `'unsigned hyper'`. */
function typeName(t: TypeSpec): string {
  switch (t.kind) {
    case "int": {
      const word = { 8: "char", 16: "short", 32: "int", 64: "hyper" }[t.bits];
      return `'${t.unsigned ? "unsigned " : ""}${word}'`;
    }
    case "named":
      return `'${t.name}'`;
    case "enum":
    case "struct":
    case "union":
      return `'${t.kind} { ... }'`;
    default:
      return `'${t.kind}'`;
  }
}
