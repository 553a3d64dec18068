/** The preprocessor options that every command reading .x files takes (-D, -U, -I). */
import { readFileSync } from "node:fs";
import { compileSpecification, DEFAULT_DEFINES, type ResolvedSpecification } from "../idl/index.js";

/** parseArgs options for -D, -U and -I. */
export const X_FILE_OPTIONS = {
  define: { type: "string", short: "D", multiple: true },
  undefine: { type: "string", short: "U", multiple: true },
  include: { type: "string", short: "I", multiple: true },
} as const;

/** What parseArgs gives for X_FILE_OPTIONS. */
export interface XFileValues {
  define?: string[];
  undefine?: string[];
  include?: string[];
}

/** Compiles one .x file from disk with the command line's defines and include paths. Throws IdlError. */
export function compileXFile(file: string, values: XFileValues): ResolvedSpecification {
  const defines: Record<string, string> = { ...DEFAULT_DEFINES };
  for (const d of values.define ?? []) {
    const eq = d.indexOf("=");
    defines[eq < 0 ? d : d.slice(0, eq)] = eq < 0 ? "1" : d.slice(eq + 1);
  }
  for (const u of values.undefine ?? []) delete defines[u];
  return compileSpecification(file, {
    readFile: (path) => readFileSync(path, "utf8"),
    defines,
    includePaths: values.include ?? [],
  });
}
