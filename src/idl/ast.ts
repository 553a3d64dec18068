/**
 * The syntax tree of a `.x` file: the XDR language of RFC 4506 §6 with the
 * program definitions of RFC 5531 §12, as rpcgen accepts it.
 *
 * The parser builds it; `resolve` checks it and answers questions about it
 * (constant values, what a type name stands for). Codegen reads it.
 */

/** Where something was written: 1-based line and column in `file`. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A number written in the source, or a name that stands for one (a `const` or an enum member). */
export type Value =
  | { readonly kind: "literal"; readonly value: bigint; readonly loc: SourceLocation }
  | { readonly kind: "ref"; readonly name: string; readonly loc: SourceLocation };

/**
 * A type as written before a declaration's name.
 *
 * rpcgen's C-flavoured spellings fold into `int` with a width: `char` and
 * `u_char` are 8 bits, `short` 16, `int`, `long`, `enum_t`, `u_int` 32, `hyper`
 * and `quad_t` 64. Every width below 64 still takes 4 bytes on the wire; the
 * width only bounds the values (RFC 4506 §4.1, xdr_char/xdr_short in C).
 */
export type TypeSpec =
  | {
      readonly kind: "int";
      readonly unsigned: boolean;
      readonly bits: 8 | 16 | 32 | 64;
      readonly loc: SourceLocation;
    }
  | { readonly kind: "float"; readonly loc: SourceLocation }
  | { readonly kind: "double"; readonly loc: SourceLocation }
  /** Parsed so that the resolver can say "not supported" at the right place. */
  | { readonly kind: "quadruple"; readonly loc: SourceLocation }
  | { readonly kind: "bool"; readonly loc: SourceLocation }
  /** A typedef, struct, union or enum by name (`struct foo` and `foo` alike). */
  | { readonly kind: "named"; readonly name: string; readonly loc: SourceLocation }
  /** Anonymous inline bodies (RFC 4506 §6.3 struct-type-spec etc.). */
  | { readonly kind: "enum"; readonly body: EnumBody; readonly loc: SourceLocation }
  | { readonly kind: "struct"; readonly body: StructBody; readonly loc: SourceLocation }
  | { readonly kind: "union"; readonly body: UnionBody; readonly loc: SourceLocation };

/**
 * One declaration (RFC 4506 §6.3 "declaration"). `max: null` means no bound was written.
 * `opaque` and `string` are only ever in the `*Opaque` / `string` forms.
 */
export type Declaration =
  | { readonly kind: "void"; readonly loc: SourceLocation }
  | { readonly kind: "plain"; readonly name: string; readonly type: TypeSpec; readonly loc: SourceLocation }
  | {
      readonly kind: "fixedArray";
      readonly name: string;
      readonly type: TypeSpec;
      readonly length: Value;
      readonly loc: SourceLocation;
    }
  | {
      readonly kind: "varArray";
      readonly name: string;
      readonly type: TypeSpec;
      readonly max: Value | null;
      readonly loc: SourceLocation;
    }
  | {
      readonly kind: "fixedOpaque";
      readonly name: string;
      readonly length: Value;
      readonly loc: SourceLocation;
    }
  | {
      readonly kind: "varOpaque";
      readonly name: string;
      readonly max: Value | null;
      readonly loc: SourceLocation;
    }
  | {
      readonly kind: "string";
      readonly name: string;
      readonly max: Value | null;
      readonly loc: SourceLocation;
    }
  | {
      readonly kind: "optional";
      readonly name: string;
      readonly type: TypeSpec;
      readonly loc: SourceLocation;
    };

/** A declaration that has a name (everything but `void`). */
export type NamedDeclaration = Exclude<Declaration, { kind: "void" }>;

export interface EnumMember {
  readonly name: string;
  readonly value: Value;
  readonly loc: SourceLocation;
}

export interface EnumBody {
  readonly members: readonly EnumMember[];
}

export interface StructBody {
  readonly fields: readonly NamedDeclaration[];
}

/** One arm: one or more `case` labels sharing a declaration (which may be `void`). */
export interface UnionCase {
  readonly values: readonly Value[];
  readonly declaration: Declaration;
  readonly loc: SourceLocation;
}

export interface UnionBody {
  /** The `switch (type name)` declaration; always `plain`. */
  readonly discriminant: Extract<Declaration, { kind: "plain" }>;
  readonly cases: readonly UnionCase[];
  /** The `default:` arm, or null when there is none. */
  readonly defaultArm: Declaration | null;
}

/** A `%` line, text after the `%`, kept for tools that want it. */
export interface Passthrough {
  readonly text: string;
  readonly loc: SourceLocation;
}

/** Where a procedure's argument or result type is written: `void`, a type, or rpcgen's bare `string`. */
export type ProcedureType =
  | { readonly kind: "void"; readonly loc: SourceLocation }
  | { readonly kind: "type"; readonly type: TypeSpec; readonly loc: SourceLocation }
  /** `string` as a procedure argument/result: unbounded, like rpcgen's xdr_wrapstring. */
  | { readonly kind: "string"; readonly loc: SourceLocation };

export interface ProcedureDefinition {
  readonly name: string;
  readonly number: Value;
  /** One entry; rpcgen -N style several arguments are several entries. */
  readonly args: readonly ProcedureType[];
  readonly result: ProcedureType;
  readonly loc: SourceLocation;
}

export interface VersionDefinition {
  readonly name: string;
  readonly number: Value;
  readonly procedures: readonly ProcedureDefinition[];
  readonly loc: SourceLocation;
}

export type Definition =
  | { readonly kind: "const"; readonly name: string; readonly value: Value; readonly loc: SourceLocation }
  | { readonly kind: "typedef"; readonly declaration: NamedDeclaration; readonly loc: SourceLocation }
  | { readonly kind: "enum"; readonly name: string; readonly body: EnumBody; readonly loc: SourceLocation }
  | {
      readonly kind: "struct";
      readonly name: string;
      readonly body: StructBody;
      readonly loc: SourceLocation;
    }
  | { readonly kind: "union"; readonly name: string; readonly body: UnionBody; readonly loc: SourceLocation }
  | {
      readonly kind: "program";
      readonly name: string;
      readonly number: Value;
      readonly versions: readonly VersionDefinition[];
      readonly loc: SourceLocation;
    };

/** A type-defining definition: what a `named` TypeSpec can point at. */
export type TypeDefinition = Extract<Definition, { kind: "typedef" | "enum" | "struct" | "union" }>;

/** A parsed file, `#include`d files inlined in place (as cpp does for rpcgen). */
export interface Specification {
  /** The file given to the compiler. */
  readonly file: string;
  readonly definitions: readonly Definition[];
  readonly passthrough: readonly Passthrough[];
  /**
   * rpcgen's string constants, `const NAME = "text";` (key_prot.x has one).
   * Kept apart from `definitions` because no XDR position can use them.
   * Always set by our parser; optional so that hand-built trees need not.
   */
  readonly stringConstants?: readonly StringConstant[];
}

/** `const NAME = "text";`: rpcgen writes it out as a C string #define. */
export interface StringConstant {
  readonly name: string;
  /** The characters between the quotes, as written (rpcgen does not interpret escapes). */
  readonly text: string;
  readonly loc: SourceLocation;
}

/** A named constant: a `const` definition or an enum member. */
export interface ConstantInfo {
  readonly value: bigint;
  /** The enum this is a member of, when it is one. */
  readonly enumName: string | null;
  readonly loc: SourceLocation;
}

/** A checked specification, with the answers codegen needs. */
export interface ResolvedSpecification {
  readonly spec: Specification;
  /** Every `const` and enum member, by name. */
  readonly constants: ReadonlyMap<string, ConstantInfo>;
  /** Every typedef, struct, union and enum, by name. */
  readonly types: ReadonlyMap<string, TypeDefinition>;
  /** The number a Value stands for (the resolver has checked that every Value resolves). */
  value(v: Value): bigint;
}

/** One problem found in a `.x` file. */
export interface Diagnostic {
  readonly loc: SourceLocation;
  readonly message: string;
}
