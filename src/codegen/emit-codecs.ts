/**
 * Straight-line encode and decode code for every kind of type: no
 * interpreter on the hot path. Each struct and union codec tracks the field
 * it is in (`f`), so an XdrError leaves it with the field path added.
 */

import { tsType, unionMembers } from "./emit-types.js";
import {
  type EnumModel,
  type Model,
  minWireBytes,
  type Shape,
  type StructModel,
  type TypedefModel,
  type UnionModel,
  unalias,
} from "./model.js";
import { isReserved } from "./names.js";

/** Collects lines with indentation, and hands out fresh local names. */
export class Emitter {
  readonly lines: string[] = [];
  #indent = 0;
  #counter = 0;
  /** Runtime imports the module turns out to need. */
  readonly imports = new Set<string>();

  constructor(readonly model: Model) {}

  line(text = ""): void {
    this.lines.push(text === "" ? "" : "  ".repeat(this.#indent) + text);
  }

  indent(): void {
    this.#indent++;
  }

  dedent(): void {
    this.#indent--;
  }

  fresh(base: string): string {
    return `${base}${++this.#counter}`;
  }

  resetCounter(): void {
    this.#counter = 0;
  }

  use(name: string): string {
    this.imports.add(name);
    return name;
  }
}

/** A .x field name as a local variable: escaped when reserved or when it clashes with the codec's own names. */
export function localName(name: string): string {
  return isReserved(name) || /^(w|r|v|f|e|link)$/.test(name) ? name + "_" : name;
}

function prop(object: string, name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `${object}.${name}` : `${object}[${JSON.stringify(name)}]`;
}

function propName(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

function codecOf(model: Model, name: string): string {
  return model.byName.get(name)?.codecName ?? "never";
}

/**
 * A shape with typedefs of scalars, strings and opaque data looked through,
 * so that `filename name` is written as `w.writeString(v.name, MAXNAMLEN)`.
 */
function inlineShape(shape: Shape, model: Model): Shape {
  if (shape.kind !== "ref") return shape;
  const t = model.byName.get(shape.name);
  if (t?.kind !== "typedef" || t.recursive) return shape;
  const under = unalias(shape, model);
  switch (under.kind) {
    case "int":
    case "hyper":
    case "float":
    case "double":
    case "bool":
    case "string":
    case "fixedOpaque":
    case "varOpaque":
      return under;
    default:
      return shape;
  }
}

const boundArg = (b: { text: string } | null): string => (b ? `, ${b.text}` : "");

function intRange(bits: 8 | 16, unsigned: boolean): [number, number] {
  const span = bits === 8 ? 0x100 : 0x10000;
  return unsigned ? [0, span - 1] : [-span / 2, span / 2 - 1];
}

/** Statements that write the value of expression `v` (a name or property access). */
export function emitEncode(e: Emitter, shapeIn: Shape, v: string): void {
  const shape = inlineShape(shapeIn, e.model);
  switch (shape.kind) {
    case "int":
      if (shape.bits !== 32) {
        const [lo, hi] = intRange(shape.bits, shape.unsigned);
        e.line(`w.writeIntInRange(${v}, ${lo}, ${hi});`);
      } else e.line(shape.unsigned ? `w.writeUnsignedInt(${v});` : `w.writeInt(${v});`);
      return;
    case "hyper":
      e.line(shape.unsigned ? `w.writeUnsignedHyper(${v});` : `w.writeHyper(${v});`);
      return;
    case "float":
      e.line(`w.writeFloat(${v});`);
      return;
    case "double":
      e.line(`w.writeDouble(${v});`);
      return;
    case "bool":
      e.line(`w.writeBool(${v});`);
      return;
    case "void":
      return;
    case "string":
      e.line(`w.writeString(${v}${boundArg(shape.max)});`);
      return;
    case "fixedOpaque":
      e.line(`w.writeFixedOpaque(${v}, ${shape.length.text});`);
      return;
    case "varOpaque":
      e.line(`w.writeVariableOpaque(${v}${boundArg(shape.max)});`);
      return;
    case "ref":
      e.line(`${codecOf(e.model, shape.name)}.encode(w, ${v});`);
      return;
    case "optional": {
      const o = e.fresh("o");
      e.line(`const ${o} = ${v};`);
      e.line(`w.writeBool(${o} !== null);`);
      e.line(`if (${o} !== null) {`);
      e.indent();
      emitEncode(e, shape.element, o);
      e.dedent();
      e.line("}");
      return;
    }
    case "fixedArray":
    case "varArray": {
      const element = inlineShape(shape.element, e.model);
      if (shape.kind === "varArray" && element.kind === "int" && element.bits === 32) {
        // Room for every element made once; each value still checked, a bad one named by its index.
        const method = element.unsigned ? "writeUnsignedIntArray" : "writeIntArray";
        e.line(`w.${method}(${v}${boundArg(shape.max)});`);
        return;
      }
      const a = e.fresh("a");
      const i = e.fresh("i");
      e.line(`const ${a} = ${v};`);
      if (shape.kind === "varArray") e.line(`w.writeLength(${a}.length${boundArg(shape.max)});`);
      else e.line(`w.checkFixedLength(${a}.length, ${shape.length.text});`);
      e.line(`let ${i} = 0;`);
      e.line("try {");
      e.indent();
      e.line(`for (; ${i} < ${a}.length; ${i}++) {`);
      e.indent();
      emitEncode(e, shape.element, `${a}[${i}]`);
      e.dedent();
      e.line("}");
      e.dedent();
      e.line("} catch (e) {");
      e.line(`  throw ${e.use("withPath")}(e, \`[\${${i}}]\`, w.length);`);
      e.line("}");
      return;
    }
  }
}

/** An expression that reads a value of a shape that is not an array. */
function decodeExpr(e: Emitter, shapeIn: Shape): string {
  const shape = inlineShape(shapeIn, e.model);
  switch (shape.kind) {
    case "int":
      if (shape.bits !== 32) {
        const [lo, hi] = intRange(shape.bits, shape.unsigned);
        return `r.readIntInRange(${lo}, ${hi})`;
      }
      return shape.unsigned ? "r.readUnsignedInt()" : "r.readInt()";
    case "hyper":
      return shape.unsigned ? "r.readUnsignedHyper()" : "r.readHyper()";
    case "float":
      return "r.readFloat()";
    case "double":
      return "r.readDouble()";
    case "bool":
      return "r.readBool()";
    case "void":
      return "null";
    case "string":
      return `r.readString(${shape.max ? shape.max.text : ""})`;
    case "fixedOpaque":
      return `r.readFixedOpaque(${shape.length.text})`;
    case "varOpaque":
      return `r.readVariableOpaque(${shape.max ? shape.max.text : ""})`;
    case "ref":
      return `${codecOf(e.model, shape.name)}.decode(r)`;
    case "optional":
      return `r.readBool() ? ${decodeExpr(e, shape.element)} : null`;
    case "fixedArray":
    case "varArray":
      throw new Error("arrays are decoded by emitDecode");
  }
}

/** Statements that declare `const target` holding the decoded value. */
export function emitDecode(e: Emitter, shape: Shape, target: string): void {
  if (shape.kind !== "fixedArray" && shape.kind !== "varArray") {
    e.line(`const ${target} = ${decodeExpr(e, shape)};`);
    return;
  }
  const element = inlineShape(shape.element, e.model);
  if (shape.kind === "varArray" && element.kind === "int" && element.bits === 32) {
    // The count proves that every element is there: one method reads them all, with no check each.
    const method = element.unsigned ? "readUnsignedIntArray" : "readIntArray";
    e.line(`const ${target} = r.${method}(${shape.max ? shape.max.text : ""});`);
    return;
  }
  const i = e.fresh("i");
  let count: string;
  if (shape.kind === "varArray") {
    count = e.fresh("n");
    const min = minWireBytes(shape.element, e.model);
    e.line(`const ${count} = r.readLength(${shape.max ? shape.max.text : e.use("MAX_XDR_LENGTH")}, ${min});`);
  } else {
    count = shape.length.text;
  }
  e.line(`const ${target}: ${tsType(shape, e.model)} = new Array(${count});`);
  e.line(`let ${i} = 0;`);
  e.line("try {");
  e.line(`  for (; ${i} < ${count}; ${i}++) ${target}[${i}] = ${decodeExpr(e, shape.element)};`);
  e.line("} catch (e) {");
  e.line(`  throw ${e.use("withPath")}(e, \`[\${${i}}]\`, r.offset);`);
  e.line("}");
}

/** Opens `encode(w, v) { let f = ...; try {` and closes it with the path-adding catch. */
function withFieldPath(
  e: Emitter,
  first: string,
  offset: string,
  body: () => void,
  finallyLeave = false,
): void {
  e.line(`let f = ${JSON.stringify(first)};`);
  e.line("try {");
  e.indent();
  body();
  e.dedent();
  e.line("} catch (e) {");
  e.line(`  throw ${e.use("withPath")}(e, f, ${offset});`);
  if (finallyLeave) {
    e.line("} finally {");
    e.line("  r.leave();");
  }
  e.line("}");
}

function codecHeader(e: Emitter, name: string, tsName: string, xName: string): void {
  e.line(`export const ${name}: ${e.use("XdrCodec")}<${tsName}> = {`);
  e.indent();
  e.line(`name: ${JSON.stringify(xName)},`);
}

function codecFooter(e: Emitter): void {
  e.dedent();
  e.line("};");
}

/** The codec and guard of an enum: values outside the enum are refused both ways. */
export function emitEnumCodec(e: Emitter, t: EnumModel): void {
  codecHeader(e, t.codecName, t.tsName, t.xName);
  e.line("encode(w, v) {");
  e.line(
    `  if (!${t.guardName}(v)) throw w.fail(\`\${${e.use("describe")}(v)} is not a value of enum ${t.xName}\`);`,
  );
  e.line("  w.writeInt(v);");
  e.line("},");
  e.line("decode(r) {");
  e.line("  const v = r.readInt();");
  e.line(
    `  if (!${t.guardName}(v)) throw r.fail("BAD_ENUM", \`\${v} is not a value of enum ${t.xName}\`, r.offset - 4);`,
  );
  e.line("  return v;");
  e.line("},");
  codecFooter(e);
  e.line();
  e.line(`/** True when \`v\` is one of the values of enum ${t.xName}. */`);
  e.line(`export function ${t.guardName}(v: unknown): v is ${t.tsName} {`);
  e.indent();
  e.line("switch (v) {");
  const distinct = [...new Set(t.members.map((m) => m.value))];
  for (const value of distinct) e.line(`  case ${value}:`);
  if (distinct.length > 0) e.line("    return true;");
  e.line("  default:");
  e.line("    return false;");
  e.line("}");
  e.dedent();
  e.line("}");
}

/** The codec of a typedef: the underlying type's code, under the typedef's name. */
export function emitTypedefCodec(e: Emitter, t: TypedefModel): void {
  e.resetCounter();
  codecHeader(e, t.codecName, t.tsName, t.xName);
  e.line("encode(w, v) {");
  e.indent();
  emitEncode(e, t.shape, "v");
  e.dedent();
  e.line("},");
  e.line("decode(r) {");
  e.indent();
  const array = t.shape.kind === "fixedArray" || t.shape.kind === "varArray";
  if (t.recursive) {
    e.line("r.enter();");
    emitDecode(e, t.shape, "value");
    e.line("r.leave();");
    e.line("return value;");
  } else if (array) {
    emitDecode(e, t.shape, "value");
    e.line("return value;");
  } else {
    e.line(`return ${decodeExpr(e, t.shape)};`);
  }
  e.dedent();
  e.line("},");
  codecFooter(e);
}

/** The codec of a struct: fields in order; a linked list is walked by a loop, not recursion. */
export function emitStructCodec(e: Emitter, t: StructModel): void {
  e.resetCounter();
  if (t.linkedList) {
    emitLinkedListCodec(e, t);
    return;
  }
  const first = t.fields[0]?.name ?? "";
  codecHeader(e, t.codecName, t.tsName, t.xName);
  e.line("encode(w, v) {");
  e.indent();
  withFieldPath(e, first, "w.length", () => {
    t.fields.forEach((field, index) => {
      if (index > 0) e.line(`f = ${JSON.stringify(field.name)};`);
      emitEncode(e, field.shape, prop("v", field.name));
    });
  });
  e.dedent();
  e.line("},");
  e.line("decode(r) {");
  e.indent();
  if (t.recursive) e.line("r.enter();");
  withFieldPath(
    e,
    first,
    "r.offset",
    () => {
      t.fields.forEach((field, index) => {
        if (index > 0) e.line(`f = ${JSON.stringify(field.name)};`);
        emitDecode(e, field.shape, localName(field.name));
      });
      e.line(`return { ${t.fields.map((f) => objectEntry(f.name)).join(", ")} };`);
    },
    t.recursive,
  );
  e.dedent();
  e.line("},");
  codecFooter(e);
}

function objectEntry(name: string): string {
  const local = localName(name);
  return local === name ? name : `${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}: ${local}`;
}

/**
 * A struct whose last field points to the next element: each element's
 * fields are read and written in a loop, so a list of a million elements
 * needs no stack. Errors name the element: `next#12.name`.
 */
function emitLinkedListCodec(e: Emitter, t: StructModel): void {
  const fields = t.fields.slice(0, -1);
  const link = t.fields[t.fields.length - 1];
  const first = fields[0]?.name ?? link.name;
  const pathFn = e.use("withLinkPath");
  codecHeader(e, t.codecName, t.tsName, t.xName);
  e.line("encode(w, v) {");
  e.indent();
  e.line(`let f = ${JSON.stringify(first)};`);
  e.line("let link = 0;");
  e.line("try {");
  e.indent();
  e.line(
    `for (let node: ${t.tsName} | null = v; node !== null; node = ${prop("node", link.name)}, link++) {`,
  );
  e.indent();
  for (const field of fields) {
    e.line(`f = ${JSON.stringify(field.name)};`);
    emitEncode(e, field.shape, prop("node", field.name));
  }
  e.line(`f = ${JSON.stringify(link.name)};`);
  e.line(`w.writeBool(${prop("node", link.name)} !== null);`);
  e.dedent();
  e.line("}");
  e.dedent();
  e.line("} catch (e) {");
  e.line(`  throw ${pathFn}(e, f, ${JSON.stringify(link.name)}, link, w.length);`);
  e.line("}");
  e.dedent();
  e.line("},");
  e.line("decode(r) {");
  e.indent();
  e.line(`let f = ${JSON.stringify(first)};`);
  e.line("let link = 0;");
  e.line("r.enter();");
  e.line("try {");
  e.indent();
  e.line(`let head: ${t.tsName} | null = null;`);
  e.line(`let tail: ${t.tsName} | null = null;`);
  e.line("for (;;) {");
  e.indent();
  for (const field of fields) {
    e.line(`f = ${JSON.stringify(field.name)};`);
    emitDecode(e, field.shape, localName(field.name));
  }
  const entries = [...fields.map((f) => objectEntry(f.name)), `${link.name}: null`];
  e.line(`const node: ${t.tsName} = { ${entries.join(", ")} };`);
  e.line(`if (tail === null) head = node;`);
  e.line(`else ${prop("tail", link.name)} = node;`);
  e.line("tail = node;");
  // The link belongs to the element just read: count the next element only once the link says it exists,
  // so that a bad link of element k is reported as `next#k.next`, as the encoder does.
  e.line(`f = ${JSON.stringify(link.name)};`);
  e.line(`if (!r.readBool()) return head as ${t.tsName};`);
  e.line("link++;");
  e.dedent();
  e.line("}");
  e.dedent();
  e.line("} catch (e) {");
  e.line(`  throw ${pathFn}(e, f, ${JSON.stringify(link.name)}, link, r.offset);`);
  e.line("} finally {");
  e.line("  r.leave();");
  e.line("}");
  e.dedent();
  e.line("},");
  codecFooter(e);
}

/** The codec of a discriminated union: the discriminant, then the arm it selects. */
export function emitUnionCodec(e: Emitter, t: UnionModel): void {
  e.resetCounter();
  const d = t.discriminant;
  // With an int discriminant and a default arm TypeScript cannot narrow by case label; say which arm we mean.
  const needsCast =
    (t.discriminantKind === "int" || t.discriminantKind === "unsigned") && t.defaultArm !== undefined;
  const members = unionMembers(t, e.model);
  const armValue = (armIndex: number, name: string) =>
    needsCast ? prop(`(v as ${members[armIndex]})`, name) : prop("v", name);

  codecHeader(e, t.codecName, t.tsName, t.xName);
  e.line("encode(w, v) {");
  e.indent();
  withFieldPath(e, d.name, "w.length", () => {
    emitEncode(e, d.shape, prop("v", d.name));
    e.line(`switch (${prop("v", d.name)}) {`);
    e.indent();
    t.arms.forEach((arm, index) => {
      for (const label of arm.labels) e.line(`case ${label.text}:`);
      e.indent();
      if (arm.field) {
        e.line(`f = ${JSON.stringify(arm.field.name)};`);
        emitEncode(e, arm.field.shape, armValue(index, arm.field.name));
      }
      e.line("break;");
      e.dedent();
    });
    e.line("default:");
    e.indent();
    if (t.defaultArm === undefined) {
      // When the cases cover every value, TypeScript sees `v` as never here: look at it as unknown.
      const seen = prop(`(v as { ${propName(d.name)}: unknown })`, d.name);
      e.line(`throw w.fail(\`no arm of union ${t.xName} for ${d.name} \${${e.use("describe")}(${seen})}\`);`);
    } else {
      if (t.defaultArm) {
        e.line(`f = ${JSON.stringify(t.defaultArm.name)};`);
        emitEncode(e, t.defaultArm.shape, armValue(members.length - 1, t.defaultArm.name));
      }
      e.line("break;");
    }
    e.dedent();
    e.dedent();
    e.line("}");
  });
  e.dedent();
  e.line("},");

  e.line("decode(r) {");
  e.indent();
  if (t.recursive) e.line("r.enter();");
  const dl = localName(d.name);
  withFieldPath(
    e,
    d.name,
    "r.offset",
    () => {
      emitDecode(e, d.shape, dl);
      e.line(`switch (${dl}) {`);
      e.indent();
      for (const arm of t.arms) {
        for (const label of arm.labels) e.line(`case ${label.text}:`);
        emitArmDecode(e, d.name, arm.field);
      }
      e.line("default:");
      if (t.defaultArm === undefined) {
        e.line(
          `  throw r.fail("BAD_DISCRIMINANT", \`no arm of union ${t.xName} for ${d.name} \${${dl}}\`, r.offset - 4);`,
        );
      } else {
        emitArmDecode(e, d.name, t.defaultArm);
      }
      e.dedent();
      e.line("}");
    },
    t.recursive,
  );
  e.dedent();
  e.line("},");
  codecFooter(e);
}

function emitArmDecode(e: Emitter, discriminant: string, field: { name: string; shape: Shape } | null): void {
  const dEntry = objectEntry(discriminant);
  e.indent();
  if (!field) {
    e.line(`return { ${dEntry} };`);
  } else {
    e.line("{");
    e.indent();
    e.line(`f = ${JSON.stringify(field.name)};`);
    emitDecode(e, field.shape, localName(field.name));
    e.line(`return { ${dEntry}, ${objectEntry(field.name)} };`);
    e.dedent();
    e.line("}");
  }
  e.dedent();
}

/** A codec expression for a procedure's argument or result. */
export function codecExpression(e: Emitter, shape: Shape, name: string): string {
  switch (shape.kind) {
    case "void":
      return e.use("xdrVoid");
    case "int":
      if (shape.bits === 32) return e.use(shape.unsigned ? "xdrUnsignedInt" : "xdrInt");
      break;
    case "hyper":
      return e.use(shape.unsigned ? "xdrUnsignedHyper" : "xdrHyper");
    case "bool":
      return e.use("xdrBool");
    case "float":
      return e.use("xdrFloat");
    case "double":
      return e.use("xdrDouble");
    case "string":
      return `${e.use("xdrString")}(${shape.max ? shape.max.text : ""})`;
    case "ref":
      return codecOf(e.model, shape.name);
    default:
      break;
  }
  return inlineCodec(e, [shape], name);
}

/** A codec object literal for a shape (or a tuple of shapes, for rpcgen -N procedures with several arguments). */
export function inlineCodec(e: Emitter, shapes: readonly Shape[], name: string): string {
  const sub = new Emitter(e.model);
  const tuple = shapes.length !== 1;
  const type = tuple ? `[${shapes.map((s) => tsType(s, e.model)).join(", ")}]` : tsType(shapes[0], e.model);
  sub.line(`{`);
  sub.indent();
  sub.line(`name: ${JSON.stringify(name)},`);
  sub.line(`encode(w: ${e.use("XdrWriter")}, v: ${type}) {`);
  sub.indent();
  if (tuple) {
    for (const [i, s] of shapes.entries()) emitEncode(sub, s, `v[${i}]`);
  } else {
    emitEncode(sub, shapes[0], "v");
  }
  sub.dedent();
  sub.line("},");
  sub.line(`decode(r: ${e.use("XdrReader")}): ${type} {`);
  sub.indent();
  if (tuple) {
    for (const [i, s] of shapes.entries()) emitDecode(sub, s, `a${i}`);
    sub.line(`return [${shapes.map((_, i) => `a${i}`).join(", ")}];`);
  } else if (shapes[0].kind === "fixedArray" || shapes[0].kind === "varArray") {
    emitDecode(sub, shapes[0], "value");
    sub.line("return value;");
  } else {
    sub.line(`return ${decodeExpr(sub, shapes[0])};`);
  }
  sub.dedent();
  sub.line("},");
  sub.dedent();
  sub.line("}");
  for (const i of sub.imports) e.imports.add(i);
  return sub.lines.join("\n");
}
