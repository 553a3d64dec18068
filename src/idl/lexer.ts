/**
 * Tokens of the XDR language (RFC 4506 §6.2 lexical notes, RFC 5531 §12.2
 * for `program` and `version`), read from preprocessed lines.
 */

import type { Diagnostic, SourceLocation } from "./ast.js";
import { IdlError } from "./diagnostics.js";
import { locate, type SourceLine } from "./source-lines.js";

/**
 * Reserved words: RFC 4506 §6.4 plus RFC 5531's `program`/`version` and the C
 * type words rpcgen also reserves (`char`, `short`, `long`).
 */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "bool",
  "case",
  "char",
  "const",
  "default",
  "double",
  "enum",
  "float",
  "hyper",
  "int",
  "long",
  "opaque",
  "program",
  "quadruple",
  "short",
  "string",
  "struct",
  "switch",
  "typedef",
  "union",
  "unsigned",
  "version",
  "void",
]);

/** The punctuation of the grammar; `-` only ever starts a negative number. */
export const PUNCTUATION = "{}()[]<>;,=*:-";

/** One token. `value` is set for numbers; `text` is the source spelling. */
export type Token =
  | {
      readonly kind: "identifier" | "keyword" | "punctuation";
      readonly text: string;
      readonly loc: SourceLocation;
    }
  | { readonly kind: "number"; readonly text: string; readonly value: bigint; readonly loc: SourceLocation }
  /** `"text"`: only rpcgen's string constants use it; `text` is without the quotes. */
  | { readonly kind: "string"; readonly text: string; readonly loc: SourceLocation }
  | { readonly kind: "end"; readonly text: ""; readonly loc: SourceLocation };

/**
 * Splits preprocessed lines into tokens, ending with one `end` token located
 * just past the last line of `file` (or at 1:1 of an empty file).
 * Throws {@link IdlError} listing every stray character and malformed number.
 */
export function tokenize(lines: readonly SourceLine[], file: string): Token[] {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const line of lines) {
    const text = line.text;
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\f" || c === "\v" || c === "\r") {
        i++;
        continue;
      }
      const loc = locate(line, i);
      const word = /^[A-Za-z_]\w*/.exec(text.slice(i));
      if (word) {
        tokens.push({ kind: KEYWORDS.has(word[0]) ? "keyword" : "identifier", text: word[0], loc });
        i += word[0].length;
        continue;
      }
      const number = /^\d\w*/.exec(text.slice(i));
      if (number) {
        const value = readNumber(number[0]);
        if (typeof value === "string") diagnostics.push({ loc, message: value });
        else tokens.push({ kind: "number", text: number[0], value, loc });
        i += number[0].length;
        continue;
      }
      if (c === '"') {
        // rpcgen reads to the next quote, escapes and all, and writes it back out as C.
        const end = text.indexOf('"', i + 1);
        if (end < 0) {
          diagnostics.push({ loc, message: "unterminated string" });
          break;
        }
        tokens.push({ kind: "string", text: text.slice(i + 1, end), loc });
        i = end + 1;
        continue;
      }
      if (PUNCTUATION.includes(c)) {
        tokens.push({ kind: "punctuation", text: c, loc });
        i++;
        continue;
      }
      const code = text.codePointAt(i)!;
      diagnostics.push({ loc, message: `unexpected character ${describeChar(code)}` });
      i += code > 0xffff ? 2 : 1;
    }
  }
  if (diagnostics.length > 0) throw new IdlError(diagnostics);
  const last = lines[lines.length - 1];
  const endLoc = last ? locate(last, last.text.trimEnd().length) : { file, line: 1, column: 1 };
  tokens.push({ kind: "end", text: "", loc: endLoc });
  return tokens;
}

/** The value of a number token (decimal, `0x` hex, `0` octal as in C), or what is wrong with it. */
function readNumber(text: string): bigint | string {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
  if (/^0[0-7]*$/.test(text)) return text.length > 1 ? BigInt("0o" + text.slice(1)) : 0n;
  if (/^[1-9]\d*$/.test(text)) return BigInt(text);
  if (/^0\d+$/.test(text)) return `invalid octal number '${text}' (a leading 0 means octal)`;
  return `invalid number '${text}'`;
}

function describeChar(code: number): string {
  if (code >= 0x21 && code < 0x7f) return `'${String.fromCodePoint(code)}'`;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** How a token is named in "expected X, found Y" messages. */
export function describeToken(t: Token): string {
  if (t.kind === "end") return "end of file";
  if (t.kind === "string") return `string "${t.text}"`;
  return `'${t.text}'`;
}
