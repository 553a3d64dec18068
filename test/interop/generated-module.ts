/**
 * The generated module of a `.x` file, imported at test time (through
 * test/support/load-generated.ts), with its checked specification and a way
 * to find the codec of each .x type.
 */
import { readFileSync } from "node:fs";
import { compileSpecification, DEFAULT_DEFINES, type ResolvedSpecification } from "../../src/idl/index.js";
import type { XdrCodec } from "../../src/xdr/index.js";
import { codecsByTypeName, loadGenerated } from "../support/load-generated.js";

/** A generated module, imported, with the specification it came from. */
export interface GeneratedModule {
  readonly resolved: ResolvedSpecification;
  readonly exports: Readonly<Record<string, unknown>>;
  /** The codec the module exports for the .x type `typeName` (found by the codec's `name`, not by guessing its export name). */
  codec(typeName: string): XdrCodec<unknown>;
}

/** Compiles `xFile` (absolute) and imports its generated module. */
export async function importGeneratedModule(xFile: string): Promise<GeneratedModule> {
  // The same options as loadGenerated, so that the specification is the one the module was made from.
  const resolved = compileSpecification(xFile, {
    readFile: (path) => readFileSync(path, "utf8"),
    defines: { ...DEFAULT_DEFINES },
    includePaths: [],
  });
  const exports = await loadGenerated(xFile);
  const codecs = codecsByTypeName(exports);
  return {
    resolved,
    exports,
    codec(typeName) {
      const c = codecs.get(typeName);
      if (c === undefined)
        throw new Error(`the module generated from ${xFile} has no codec for '${typeName}'`);
      return c;
    },
  };
}
