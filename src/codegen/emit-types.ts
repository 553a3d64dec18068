/**
 * TypeScript types for XDR shapes, and the .x text of declarations for doc
 * comments. The mapping is the one in docs/xdr.md: int and unsigned int are
 * `number`, hyper is `bigint`, opaque is `Uint8Array`, `T<>` is `T[]`, `*T`
 * is `T | null`, an enum is a union of its numbers, a union is discriminated
 * on its declared discriminant.
 */
import type { Declaration, TypeSpec, Value } from "../idl/ast.js";
import type { Model, Shape, UnionModel } from "./model.js";

/** The TypeScript type of a shape. */
export function tsType(shape: Shape, model: Model): string {
  switch (shape.kind) {
    case "int":
    case "float":
    case "double":
      return "number";
    case "hyper":
      return "bigint";
    case "bool":
      return "boolean";
    case "void":
      return "null";
    case "string":
      return "string";
    case "fixedOpaque":
    case "varOpaque":
      return "Uint8Array";
    case "fixedArray":
    case "varArray": {
      const element = tsType(shape.element, model);
      return element.includes(" ") ? `(${element})[]` : `${element}[]`;
    }
    case "optional":
      return `${tsType(shape.element, model)} | null`;
    case "ref":
      return model.byName.get(shape.name)?.tsName ?? "never";
  }
}

/** The members of a union's type, one per arm, then the default's. */
export function unionMembers(u: UnionModel, model: Model): string[] {
  const d = u.discriminant.name;
  const prop = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
  const members: string[] = [];
  for (const arm of u.arms) {
    const labelType = arm.labels.map((l) => labelTypeText(l.text, u)).join(" | ");
    const armField = arm.field ? `; ${prop(arm.field.name)}: ${tsType(arm.field.shape, model)}` : "";
    members.push(`{ ${prop(d)}: ${labelType}${armField} }`);
  }
  if (u.defaultArm !== undefined) {
    const rest = defaultDiscriminantType(u, model);
    if (rest !== "never") {
      const armField = u.defaultArm
        ? `; ${prop(u.defaultArm.name)}: ${tsType(u.defaultArm.shape, model)}`
        : "";
      members.push(`{ ${prop(d)}: ${rest}${armField} }`);
    }
  }
  return members;
}

function labelTypeText(text: string, u: UnionModel): string {
  if (u.discriminantKind === "bool" || /^-?[0-9]/.test(text)) return text;
  return `typeof ${text}`;
}

/** The discriminant values that fall to the default arm. */
function defaultDiscriminantType(u: UnionModel, model: Model): string {
  const labels = u.arms.flatMap((a) => a.labels);
  switch (u.discriminantKind) {
    case "bool": {
      const rest = ["true", "false"].filter((b) => !labels.some((l) => l.text === b));
      return rest.length === 0 ? "never" : rest.join(" | ");
    }
    case "enum": {
      const e = model.byName.get(u.discriminantEnum ?? "");
      if (e?.kind !== "enum") return "number";
      const used = new Set(labels.map((l) => l.value));
      const rest = e.members.filter((m) => !used.has(m.value));
      if (rest.length === 0) return "never";
      return labels.length === 0
        ? e.tsName
        : `Exclude<${e.tsName}, ${labels.map((l) => labelTypeText(l.text, u)).join(" | ")}>`;
    }
    default:
      return "number";
  }
}

/** A declaration written back as .x text, for doc comments: `string name<MAXNAMLEN>`. */
export function declarationText(d: Declaration): string {
  switch (d.kind) {
    case "void":
      return "void";
    case "plain":
      return `${typeText(d.type)} ${d.name}`;
    case "fixedArray":
      return `${typeText(d.type)} ${d.name}[${valueText(d.length)}]`;
    case "varArray":
      return `${typeText(d.type)} ${d.name}<${d.max ? valueText(d.max) : ""}>`;
    case "fixedOpaque":
      return `opaque ${d.name}[${valueText(d.length)}]`;
    case "varOpaque":
      return `opaque ${d.name}<${d.max ? valueText(d.max) : ""}>`;
    case "string":
      return `string ${d.name}<${d.max ? valueText(d.max) : ""}>`;
    case "optional":
      return `${typeText(d.type)} *${d.name}`;
  }
}

function typeText(t: TypeSpec): string {
  switch (t.kind) {
    case "int": {
      const base = { 8: "char", 16: "short", 32: "int", 64: "hyper" }[t.bits];
      return t.unsigned ? `unsigned ${base}` : base;
    }
    case "named":
      return t.name;
    case "enum":
    case "struct":
    case "union":
      return `${t.kind} { … }`;
    default:
      return t.kind;
  }
}

function valueText(v: Value): string {
  return v.kind === "ref" ? v.name : String(v.value);
}
