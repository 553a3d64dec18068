/**
 * Types a `.x` file takes from the header of another one.
 *
 * rpcgen writes `X.h` from `X.x`, and a file may use the types of X by
 * passing `%#include <rpcsvc/X.h>` through to C, without any `#include` that
 * the preprocessor would see (nis_callback.x uses nis_object that way). When
 * a file uses names it does not define, we look for `X.x` beside it (then in
 * the include paths) for each such `%#include` and add that file's
 * definitions, programs aside, to the front of the specification.
 */

import { posix } from "node:path";
import type { Definition, Specification } from "./ast.js";
import { PREDEFINED_CONSTANTS } from "./resolve.js";

/** What {@link importHeaderTypes} needs: a parser for the other file and a way to read it. */
export interface HeaderImportOptions {
  readonly readFile: (path: string) => string;
  readonly includePaths?: readonly string[];
  readonly parse: (text: string, file: string) => Specification;
}

/** Names a definition makes: the type, constant, enum members, program/version/procedure names. */
function definedNames(d: Definition): string[] {
  switch (d.kind) {
    case "typedef":
      return [d.declaration.name];
    case "enum":
      return [d.name, ...d.body.members.map((m) => m.name)];
    case "program":
      return [d.name, ...d.versions.flatMap((v) => [v.name, ...v.procedures.map((p) => p.name)])];
    default:
      return [d.name];
  }
}

/** Every type name and constant name the tree refers to. */
function usedNames(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) usedNames(n, out);
  } else if (node !== null && typeof node === "object") {
    const o = node as Record<string, unknown>;
    if ((o.kind === "named" || o.kind === "ref") && typeof o.name === "string") out.add(o.name);
    for (const [key, value] of Object.entries(o)) if (key !== "loc") usedNames(value, out);
  }
  return out;
}

/**
 * `spec` with the definitions of the `.x` files behind its `%#include "X.h"`
 * lines put first, when it uses names it does not define; `spec` itself
 * otherwise. A definition whose name `spec` already has is left out.
 */
export function importHeaderTypes(spec: Specification, options: HeaderImportOptions): Specification {
  const defined = new Set(spec.definitions.flatMap(definedNames));
  for (const c of spec.stringConstants ?? []) defined.add(c.name);
  const missing = [...usedNames(spec.definitions, new Set())].filter(
    (n) => !defined.has(n) && !PREDEFINED_CONSTANTS.has(n),
  );
  if (missing.length === 0) return spec;

  const imported: Definition[] = [];
  for (const p of spec.passthrough) {
    const m = /^\s*#\s*include\s*[<"]([^>"]+)\.h[>"]/.exec(p.text);
    if (!m) continue;
    const header = `${m[1]}.x`;
    const candidates = [
      posix.join(posix.dirname(p.loc.file), posix.basename(header)),
      ...(options.includePaths ?? []).map((dir) => posix.join(dir, header)),
    ];
    for (const path of candidates) {
      let text: string;
      try {
        text = options.readFile(path);
      } catch {
        continue;
      }
      for (const d of options.parse(text, path).definitions) {
        if (d.kind === "program") continue;
        const names = definedNames(d);
        if (names.some((n) => defined.has(n))) continue;
        for (const n of names) defined.add(n);
        imported.push(d);
      }
      break;
    }
  }
  return imported.length === 0 ? spec : { ...spec, definitions: [...imported, ...spec.definitions] };
}
