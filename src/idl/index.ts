/**
 * The `.x` language front end: preprocess, lex, parse, resolve.
 *
 * Pure: files are read only through the `readFile` the caller injects.
 */

import type { ResolvedSpecification, Specification } from "./ast.js";
import { IdlError } from "./diagnostics.js";
import { importHeaderTypes } from "./header-imports.js";
import { tokenize } from "./lexer.js";
import { parseTokens } from "./parser.js";
import { preprocess } from "./preprocess.js";
import { resolve } from "./resolve.js";

export type * from "./ast.js";
export { BUILTIN_TYPE_NAMES, type BuiltinTypeName } from "./builtin-types.js";
export { formatDiagnostic, formatLocation, IdlError } from "./diagnostics.js";
export { DEFAULT_DEFINES, DEFAULT_MAX_INCLUDE_DEPTH, type PreprocessOptions } from "./preprocess.js";
export { PREDEFINED_CONSTANTS, resolve } from "./resolve.js";

/** Options of {@link parseSpecification}. */
export interface ParseOptions {
  /** Predefined macros, replacing the defaults. Default: `DEFAULT_DEFINES` (`RPC_HDR=1`). */
  readonly defines?: Readonly<Record<string, string>>;
  /** Directories searched for `#include <f>`, and for `#include "f"` after the including file's directory. */
  readonly includePaths?: readonly string[];
  /** Reads an `#include`d file; throws when it does not exist. Without it, `#include` is an error. */
  readonly readFile?: (path: string) => string;
}

/** Options of {@link compileSpecification}: like {@link ParseOptions}, but a reader is required. */
export interface CompileOptions extends ParseOptions {
  readonly readFile: (path: string) => string;
}

/**
 * Parses `text`, the contents of `file`, into its syntax tree (no semantic
 * checks). Throws IdlError with located diagnostics.
 */
export function parseSpecification(text: string, file: string, options: ParseOptions = {}): Specification {
  const { lines, passthrough } = preprocess(text, file, options);
  return parseTokens(tokenize(lines, file), file, passthrough);
}

/**
 * Reads, parses and checks `file`. When the file uses names it does not
 * define, the `.x` files behind its `%#include "X.h"` lines are consulted
 * (see header-imports.ts). Throws IdlError with every problem found
 * by the stage that failed (preprocessor, lexer, parser or resolver).
 */
export function compileSpecification(file: string, options: CompileOptions): ResolvedSpecification {
  let text: string;
  try {
    text = options.readFile(file);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new IdlError([{ loc: { file, line: 1, column: 1 }, message: `cannot read '${file}': ${reason}` }]);
  }
  const spec = parseSpecification(text, file, options);
  const parse = (other: string, path: string) => parseSpecification(other, path, options);
  return resolve(importHeaderTypes(spec, { ...options, parse }));
}
