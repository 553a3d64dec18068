/**
 * How .x names become TypeScript names, and how clashes are settled.
 *
 * Types: PascalCase from snake_case (`rpcb_entry` -> `RpcbEntry`); the rest
 * of each word keeps its case, so `RPCB` stays `RPCB`. Constants keep their
 * .x spelling. Procedure methods: the prefix every procedure of a version
 * shares is dropped and the rest is camelCased (`NFSPROC_GETATTR` -> `getattr`).
 */

/** Words that cannot name a local variable or a top-level declaration in a module. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "implements interface let package private protected public static yield await arguments eval undefined NaN " +
    "Infinity any boolean number string symbol bigint never unknown object"
  ).split(" "),
);

/** True when `name` may not be used as a binding in strict-mode module code (or is confusing as a type). */
export function isReserved(name: string): boolean {
  return RESERVED.has(name);
}

/** `rpcb_entry` -> `RpcbEntry`, `nfsstat` -> `Nfsstat`, `RPCB` -> `RPCB`. */
export function pascalCase(name: string): string {
  const words = name.split("_").filter((w) => w !== "");
  const out = words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  return out === "" ? "T" : /^[0-9]/.test(out) ? "T" + out : out;
}

/** `NFS_PROGRAM` -> `NfsProgram`: for names written in capitals. */
export function pascalCaseFromUpper(name: string): string {
  return pascalCase(name.toLowerCase());
}

/** `GET_DATE` -> `getDate`, `getattr` -> `getattr`. */
export function camelCase(name: string): string {
  const words = name
    .toLowerCase()
    .split("_")
    .filter((w) => w !== "");
  if (words.length === 0) return "proc";
  return (
    words[0] +
    words
      .slice(1)
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join("")
  );
}

/**
 * Method names for the procedures of one version: the longest prefix ending
 * in `_` that every name shares is dropped, unless that would leave a name
 * that does not start with a letter.
 */
export function procedureMethodNames(names: readonly string[]): string[] {
  let common = names.length > 0 ? names[0] : "";
  for (const name of names) {
    let i = 0;
    while (i < common.length && i < name.length && common[i] === name[i]) i++;
    common = common.slice(0, i);
  }
  const prefix = common.slice(0, common.lastIndexOf("_") + 1);
  const stripped = names.map((n) => n.slice(prefix.length));
  const usable = prefix !== "" && stripped.every((n) => /^[A-Za-z]/.test(n));
  return (usable ? stripped : names).map(camelCase);
}

/**
 * Hands out names in one TypeScript namespace, first come first served: a
 * name already taken gets `_2`, `_3`, … so output stays deterministic.
 */
export class NameTable {
  readonly #taken = new Set<string>();

  /** Marks names as used without handing them out (imports, helpers). */
  reserve(...names: string[]): void {
    for (const n of names) this.#taken.add(n);
  }

  /** `wanted`, or the first free `wanted_N`. */
  claim(wanted: string): string {
    let name = isReserved(wanted) ? wanted + "_" : wanted;
    for (let n = 2; this.#taken.has(name); n++) name = `${wanted}_${n}`;
    this.#taken.add(name);
    return name;
  }
}
