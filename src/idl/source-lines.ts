/**
 * Lines of text that remember where they came from.
 *
 * The preprocessor splices lines, blanks comments and expands macros; the
 * lexer must still report `file:line:col` of the text the user wrote. Each
 * {@link SourceLine} therefore carries spans: runs of its text with the
 * physical line and column where each run starts.
 */

import type { SourceLocation } from "./ast.js";

/**
 * From index `at` of a line's text on, characters come from `line`:`column`
 * onwards, one column per character; or, when `fixed`, all from that one
 * place (the text a macro use expanded to).
 */
export interface Span {
  readonly at: number;
  readonly line: number;
  readonly column: number;
  readonly fixed?: boolean;
}

/** One logical line as the lexer sees it. `spans` is sorted by `at` and starts at 0. */
export interface SourceLine {
  readonly file: string;
  /** The physical line where this logical line starts. */
  readonly line: number;
  readonly text: string;
  readonly spans: readonly Span[];
}

/** Where the character at `index` of `line.text` was written (an index past the end maps past the last character). */
export function locate(line: SourceLine, index: number): SourceLocation {
  let span = line.spans[0];
  for (const s of line.spans) {
    if (s.at > index) break;
    span = s;
  }
  const column = span.fixed ? span.column : span.column + (index - span.at);
  return { file: line.file, line: span.line, column };
}

/**
 * The spans covering `text[from, to)` of a line, moved to start at `outAt`
 * in a new text. Used to rebuild a line around an expanded macro.
 */
export function sliceSpans(spans: readonly Span[], from: number, to: number, outAt: number): Span[] {
  const out: Span[] = [];
  let first = spans[0];
  for (const s of spans) {
    if (s.at > from) break;
    first = s;
  }
  out.push({
    at: outAt,
    line: first.line,
    column: first.fixed ? first.column : first.column + (from - first.at),
    fixed: first.fixed,
  });
  for (const s of spans) {
    if (s.at > from && s.at < to) out.push({ ...s, at: outAt + (s.at - from) });
  }
  return out;
}

/**
 * Splits a file into logical lines: a backslash right before a newline joins
 * the next physical line to this one (C translation phase 2, which cpp runs
 * before anything else, so `%` lines and comments are spliced too).
 * Accepts `\n` and `\r\n` line ends.
 */
export function spliceLines(text: string, file: string): SourceLine[] {
  const physical = text.split(/\r?\n/);
  // A final newline ends the last line; it does not start an empty one.
  if (physical.length > 1 && physical[physical.length - 1] === "") physical.pop();
  const out: SourceLine[] = [];
  for (let i = 0; i < physical.length; i++) {
    const start = i + 1;
    const spans: Span[] = [{ at: 0, line: start, column: 1 }];
    let joined = physical[i];
    while (joined.endsWith("\\")) {
      joined = joined.slice(0, -1);
      if (i + 1 >= physical.length) break;
      i++;
      spans.push({ at: joined.length, line: i + 1, column: 1 });
      joined += physical[i];
    }
    out.push({ file, line: start, text: joined, spans });
  }
  return out;
}
