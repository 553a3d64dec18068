/**
 * How the `.x` front end reports problems: every stage collects
 * {@link Diagnostic}s and throws one {@link IdlError} holding them all, so a
 * user sees every problem of a file in one run, each as `file:line:col: message`.
 */

import type { Diagnostic, SourceLocation } from "./ast.js";

/** One diagnostic as compilers print it: `file:line:col: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${formatLocation(d.loc)}: ${d.message}`;
}

/** A location as `file:line:col`, the form editors and terminals link. */
export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/**
 * The one error the `.x` front end throws. `diagnostics` is never empty; the
 * message is the diagnostics formatted one per line.
 */
export class IdlError extends Error {
  /** Every problem found, in source order of discovery. */
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "IdlError";
    this.diagnostics = diagnostics;
  }
}
