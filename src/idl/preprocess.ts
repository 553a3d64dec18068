/**
 * The C preprocessor pass that rpcgen gets by running cpp over a `.x` file,
 * reduced to what `.x` files use: line splicing, comments, object-like
 * macros, conditionals, `#include`. Lines with `%` in column 1 are rpcgen's
 * passthrough: collected, never lexed.
 *
 * Pure: files are read through the injected `readFile`.
 */

import { posix } from "node:path";
import type { Diagnostic, Passthrough, SourceLocation } from "./ast.js";
import { CppExpressionError, evaluateCondition } from "./cpp-expression.js";
import { IdlError } from "./diagnostics.js";
import { locate, type SourceLine, type Span, sliceSpans, spliceLines } from "./source-lines.js";

/**
 * The symbols defined when the caller gives none. Our generated module plays
 * the part of rpcgen's header (types, constants, program descriptors), so we
 * see the file as `rpcgen -h` does. In real files the RPC_HDR / RPC_XDR /
 * RPC_SVC / RPC_CLNT blocks hold only `%` passthrough, so the choice changes
 * which passthrough is collected, not the types.
 */
export const DEFAULT_DEFINES: Readonly<Record<string, string>> = Object.freeze({ RPC_HDR: "1" });

/** How deeply `#include`s may nest (counting the main file as 1). */
export const DEFAULT_MAX_INCLUDE_DEPTH = 32;

/** Options of {@link preprocess}. */
export interface PreprocessOptions {
  /** Predefined object-like macros, name to replacement text. Default: {@link DEFAULT_DEFINES}. */
  readonly defines?: Readonly<Record<string, string>>;
  /** Directories searched for `#include <f>`, and for `#include "f"` after the including file's directory. */
  readonly includePaths?: readonly string[];
  /** Reads an included file; throws when it does not exist. Without it, `#include` is an error. */
  readonly readFile?: (path: string) => string;
  /** Default {@link DEFAULT_MAX_INCLUDE_DEPTH}. */
  readonly maxIncludeDepth?: number;
}

/** What the lexer and the tools get from a preprocessed file. */
export interface PreprocessResult {
  /** The lines to lex, in order, included files inlined; directive, passthrough and blank lines left out. */
  readonly lines: readonly SourceLine[];
  /** The `%` lines of active regions, in order. */
  readonly passthrough: readonly Passthrough[];
}

interface Conditional {
  readonly loc: SourceLocation;
  readonly directive: string;
  /** Whether the enclosing region is active: when not, no branch of this one is. */
  readonly parentActive: boolean;
  active: boolean;
  /** Whether some branch has been taken, so later #elif/#else are skipped. */
  taken: boolean;
  sawElse: boolean;
}

const IDENTIFIER = /^[A-Za-z_]\w*/;

/**
 * Runs the preprocessor over `text`, the contents of `file`.
 * Throws {@link IdlError} with every problem found.
 */
export function preprocess(text: string, file: string, options: PreprocessOptions = {}): PreprocessResult {
  const state = new Preprocessor(options);
  state.run(text, file, []);
  if (state.diagnostics.length > 0) throw new IdlError(state.diagnostics);
  return { lines: state.lines, passthrough: state.passthrough };
}

class Preprocessor {
  readonly lines: SourceLine[] = [];
  readonly passthrough: Passthrough[] = [];
  readonly diagnostics: Diagnostic[] = [];
  readonly #macros = new Map<string, string>();
  readonly #options: PreprocessOptions;

  constructor(options: PreprocessOptions) {
    this.#options = options;
    for (const [name, value] of Object.entries(options.defines ?? DEFAULT_DEFINES))
      this.#macros.set(name, value);
  }

  #error(loc: SourceLocation, message: string): void {
    this.diagnostics.push({ loc, message });
  }

  /** Processes one file; `stack` is the chain of files including it. */
  run(text: string, file: string, stack: readonly string[]): void {
    const conditionals: Conditional[] = [];
    let commentStart: SourceLocation | null = null;
    const active = () => conditionals.length === 0 || conditionals[conditionals.length - 1].active;

    for (const raw of spliceLines(text, file)) {
      // rpcgen looks for '%' in column 1 only, and not inside a comment.
      if (commentStart === null && raw.text.startsWith("%")) {
        if (active()) this.passthrough.push({ text: raw.text.slice(1), loc: locate(raw, 0) });
        continue;
      }
      const stripped = stripComments(raw, commentStart);
      commentStart = stripped.commentStart;
      const line: SourceLine = { ...raw, text: stripped.text };
      const hash = /^\s*#/.exec(line.text);
      if (hash) {
        this.#directive(line, hash[0].length, conditionals, active(), stack);
      } else if (active() && line.text.trim() !== "") {
        this.lines.push(this.#expandLine(line));
      }
    }
    if (commentStart !== null) this.#error(commentStart, "unterminated comment");
    for (const c of conditionals) this.#error(c.loc, `#${c.directive} without #endif`);
  }

  #directive(
    line: SourceLine,
    afterHash: number,
    conditionals: Conditional[],
    active: boolean,
    stack: readonly string[],
  ): void {
    const hashLoc = locate(line, afterHash - 1);
    const rest = line.text.slice(afterHash);
    const nameMatch = /^\s*([A-Za-z_]\w*|\d+)?/.exec(rest)!;
    const name = nameMatch[1] ?? "";
    const argStart = afterHash + nameMatch[0].length;
    const arg = line.text.slice(argStart);
    const argOffset = argStart + (arg.length - arg.trimStart().length);
    const argLoc = locate(line, argOffset);
    const top = conditionals[conditionals.length - 1];

    switch (name) {
      case "ifdef":
      case "ifndef":
      case "if": {
        let value = false;
        if (active) {
          value = name === "if" ? this.#condition(line, argStart) : this.#isDefined(name, arg, argLoc);
          if (name === "ifndef") value = !value;
        }
        conditionals.push({
          loc: hashLoc,
          directive: name,
          parentActive: active,
          active: value,
          taken: value,
          sawElse: false,
        });
        return;
      }
      case "elif":
        if (!top) {
          this.#error(hashLoc, "#elif without #if");
          return;
        }
        if (top.sawElse) {
          this.#error(hashLoc, "#elif after #else");
          return;
        }
        top.active = top.parentActive && !top.taken && this.#condition(line, argStart);
        top.taken ||= top.active;
        return;
      case "else":
        if (!top) {
          this.#error(hashLoc, "#else without #if");
          return;
        }
        if (top.sawElse) {
          this.#error(hashLoc, "#else after #else");
          return;
        }
        top.active = top.parentActive && !top.taken;
        top.taken = true;
        top.sawElse = true;
        return;
      case "endif":
        if (!top) {
          this.#error(hashLoc, "#endif without #if");
          return;
        }
        conditionals.pop();
        return;
    }
    // Skipped groups may hold anything (C11 §6.10p4): only the nesting counts.
    if (!active) return;
    switch (name) {
      case "define": {
        this.#define(line, arg, argOffset, argLoc);
        return;
      }
      case "undef": {
        const macro = IDENTIFIER.exec(arg.trimStart());
        if (!macro) {
          this.#error(argLoc, "#undef needs a macro name");
          return;
        }
        this.#macros.delete(macro[0]);
        return;
      }
      case "include": {
        this.#include(arg.trim(), line.file, argLoc, stack);
        return;
      }
      case "error": {
        this.#error(hashLoc, `#error ${arg.trim()}`.trimEnd());
        return;
      }
      // Nothing to do: locations are always the real ones, and pragmas,
      // idents and warnings carry no meaning for XDR.
      case "":
      case "pragma":
      case "line":
      case "ident":
      case "sccs":
      case "warning":
        return;
      default:
        // A bare number is a line marker from an earlier cpp run: `# 12 "file"`.
        if (/^\d+$/.test(name)) return;
        this.#error(hashLoc, `unknown preprocessor directive '#${name}'`);
    }
  }

  #isDefined(directive: string, arg: string, argLoc: SourceLocation): boolean {
    const macro = IDENTIFIER.exec(arg.trimStart());
    if (!macro) {
      this.#error(argLoc, `#${directive} needs a macro name`);
      return false;
    }
    return this.#macros.has(macro[0]);
  }

  #condition(line: SourceLine, argStart: number): boolean {
    try {
      return evaluateCondition(line.text.slice(argStart), this.#macros) !== 0n;
    } catch (e) {
      if (!(e instanceof CppExpressionError)) throw e;
      this.#error(locate(line, argStart + e.index), e.message);
      return false;
    }
  }

  #define(line: SourceLine, arg: string, argOffset: number, argLoc: SourceLocation): void {
    const trimmed = arg.trimStart();
    const macro = IDENTIFIER.exec(trimmed);
    if (!macro) {
      this.#error(argLoc, "#define needs a macro name");
      return;
    }
    const name = macro[0];
    const after = trimmed.slice(name.length);
    // Only a '(' right after the name makes a function-like macro (C11 §6.10.3p3).
    if (after.startsWith("(")) {
      this.#error(
        locate(line, argOffset),
        `function-like macros are not supported: '${name}' (only #define NAME [value])`,
      );
      return;
    }
    if (name === "defined") {
      this.#error(argLoc, "'defined' cannot be a macro name");
      return;
    }
    this.#macros.set(name, after.trim());
  }

  #include(arg: string, from: string, loc: SourceLocation, stack: readonly string[]): void {
    const m = /^(?:"([^"]+)"|<([^>]+)>)$/.exec(arg);
    if (!m) {
      this.#error(loc, '#include expects "FILE" or <FILE>');
      return;
    }
    const target = m[1] ?? m[2];
    const readFile = this.#options.readFile;
    if (!readFile) {
      this.#error(loc, `cannot #include '${target}': no file reader was given`);
      return;
    }
    const paths = this.#options.includePaths ?? [];
    const candidates = posix.isAbsolute(target)
      ? [target]
      : [...(m[1] !== undefined ? [posix.dirname(from)] : []), ...paths].map((dir) =>
          posix.join(dir, target),
        );
    for (const path of candidates) {
      let text: string;
      try {
        text = readFile(path);
      } catch {
        continue;
      }
      const chain = [...stack, from];
      const seen = chain.findIndex((f) => posix.normalize(f) === path);
      if (seen >= 0) {
        const cycle = chain.slice(seen);
        this.#error(loc, `#include cycle: ${[...cycle, path].join(" -> ")}`);
        return;
      }
      const max = this.#options.maxIncludeDepth ?? DEFAULT_MAX_INCLUDE_DEPTH;
      if (chain.length >= max) {
        this.#error(loc, `#include nested more than ${max} levels deep`);
        return;
      }
      this.run(text, path, chain);
      return;
    }
    this.#error(
      loc,
      `cannot find include file '${target}' (looked for ${candidates.join(", ") || "it in no directory"})`,
    );
  }

  /** Expands object-like macros in an ordinary line, keeping the location of the text around them. */
  #expandLine(line: SourceLine): SourceLine {
    let text = "";
    const spans: Span[] = [];
    let copiedTo = 0;
    const copy = (to: number) => {
      if (to > copiedTo) {
        spans.push(...sliceSpans(line.spans, copiedTo, to, text.length));
        text += line.text.slice(copiedTo, to);
      }
      copiedTo = to;
    };
    for (const m of line.text.matchAll(/\.?\d[\w.]*|[A-Za-z_]\w*/g)) {
      const word = m[0];
      const replacement = /^[A-Za-z_]/.test(word) ? this.#expandMacro(word, new Set()) : undefined;
      if (replacement === undefined) continue;
      copy(m.index);
      const at = locate(line, m.index);
      spans.push({ at: text.length, line: at.line, column: at.column, fixed: true });
      // Keep a replacement from gluing to its neighbours (cpp inserts a space too).
      text += ` ${replacement} `;
      copiedTo = m.index + word.length;
    }
    if (spans.length === 0) return line;
    copy(line.text.length);
    return { file: line.file, line: line.line, text, spans };
  }

  /** The full expansion of `name`, or undefined when it is not a macro or is already being expanded. */
  #expandMacro(name: string, active: ReadonlySet<string>): string | undefined {
    const value = active.has(name) ? undefined : this.#macros.get(name);
    if (value === undefined) return undefined;
    const inner = new Set(active).add(name);
    return value.replace(/\.?\d[\w.]*|[A-Za-z_]\w*/g, (word) =>
      /^[A-Za-z_]/.test(word) ? (this.#expandMacro(word, inner) ?? word) : word,
    );
  }
}

/**
 * Blanks `/* *\/` and `//` comments with spaces (newlines are already line
 * breaks), so columns stay right. `commentStart` is where a comment still
 * open from an earlier line began.
 */
function stripComments(
  line: SourceLine,
  commentStart: SourceLocation | null,
): { text: string; commentStart: SourceLocation | null } {
  const t = line.text;
  let out = "";
  let i = 0;
  let open = commentStart;
  while (i < t.length) {
    if (open !== null) {
      const end = t.indexOf("*/", i);
      const stop = end < 0 ? t.length : end + 2;
      out += " ".repeat(stop - i);
      i = stop;
      if (end >= 0) open = null;
    } else if (t.startsWith("/*", i)) {
      open = locate(line, i);
      out += "  ";
      i += 2;
    } else if (t.startsWith("//", i)) {
      out += " ".repeat(t.length - i);
      i = t.length;
    } else {
      out += t[i];
      i++;
    }
  }
  return { text: out, commentStart: open };
}
