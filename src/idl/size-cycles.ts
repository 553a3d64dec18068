/**
 * Types that contain themselves. XDR data has no pointers (RFC 4506 §4.19):
 * a type may refer to itself only through optional data (`*`) or a
 * variable-length array, where the recursion can stop. A struct, union or
 * typedef that contains itself by value would have infinite size.
 */

import type { Declaration, Definition, TypeDefinition, TypeSpec } from "./ast.js";

/** The names a type contains by value: what must be complete before it is. */
function directNames(d: TypeDefinition): string[] {
  const names: string[] = [];
  const type = (t: TypeSpec): void => {
    if (t.kind === "named") names.push(t.name);
    else if (t.kind === "struct") for (const f of t.body.fields) declaration(f);
    else if (t.kind === "union") {
      for (const c of t.body.cases) declaration(c.declaration);
      if (t.body.defaultArm) declaration(t.body.defaultArm);
    }
  };
  // Optional data and variable-length arrays may be empty: they end a recursion.
  const declaration = (decl: Declaration): void => {
    if (decl.kind === "plain" || decl.kind === "fixedArray") type(decl.type);
  };
  switch (d.kind) {
    case "typedef":
      declaration(d.declaration);
      break;
    case "struct":
      type({ kind: "struct", body: d.body, loc: d.loc });
      break;
    case "union":
      type({ kind: "union", body: d.body, loc: d.loc });
      break;
    case "enum":
      break;
  }
  return names;
}

/**
 * Each cycle of types containing themselves by value, as the definitions
 * along it starting from the first in source order. A type is reported in
 * at most one cycle.
 */
export function findSizeCycles(
  definitions: readonly Definition[],
  types: ReadonlyMap<string, TypeDefinition>,
): TypeDefinition[][] {
  const edges = new Map<string, string[]>();
  for (const [name, d] of types)
    edges.set(
      name,
      directNames(d).filter((n) => types.has(n)),
    );

  const reported = new Set<string>();
  const cycles: TypeDefinition[][] = [];
  for (const d of definitions) {
    if (d.kind === "const" || d.kind === "program") continue;
    const start = d.kind === "typedef" ? d.declaration.name : d.name;
    if (reported.has(start) || types.get(start) !== d) continue;
    const path = shortestPathBack(start, edges);
    if (!path) continue;
    for (const n of path) reported.add(n);
    cycles.push(path.map((n) => types.get(n)!));
  }
  return cycles;
}

/** The shortest chain start -> ... -> start (without the final start), or null. */
function shortestPathBack(start: string, edges: ReadonlyMap<string, readonly string[]>): string[] | null {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    for (const next of edges.get(node) ?? []) {
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(parent.get(path[0])!);
        return path;
      }
      if (!parent.has(next) && next !== start) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  return null;
}
