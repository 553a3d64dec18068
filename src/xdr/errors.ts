/**
 * The codec's one error type. Every failure to encode or decode, whatever
 * its cause, is an `XdrError` with a stable `code`, the byte offset where it
 * happened and the path of the field being read or written.
 */

/**
 * Every XdrError code, with what it means. docs/errors.md lists the same
 * codes; a test keeps the two in step.
 */
export const XDR_ERROR_CODES = {
  SHORT_BUFFER: "fewer bytes remain than the next item needs",
  BOUND_EXCEEDED: "a length read from the wire exceeds the <N> bound declared in the .x file",
  LENGTH_LIMIT: "a length read from the wire exceeds the reader's maxLength ceiling",
  BAD_ENUM: "an enum value that the enum does not declare",
  BAD_BOOL: "a bool other than 0 or 1 (RFC 4506 §4.4)",
  BAD_DISCRIMINANT: "a union discriminant with no arm and no default arm",
  BAD_STRING: "string bytes that are not valid UTF-8 (read strings as latin1 to keep any bytes)",
  NONZERO_PADDING: "padding bytes that are not zero (RFC 4506 §4.9–§4.11)",
  DEPTH_LIMIT: "recursive data nested deeper than maxDepth",
  TRAILING_BYTES: "bytes left over after the top-level value was decoded",
  BAD_VALUE: "a value to encode that does not fit its XDR type (range, shape, length)",
} as const;

/** Why a value could not be encoded or decoded: a key of XDR_ERROR_CODES. */
export type XdrErrorCode = keyof typeof XDR_ERROR_CODES;

const MAX_PATH_SEGMENTS = 64;

/** An encoding or decoding failure, with where it happened. */
export class XdrError extends Error {
  override readonly name = "XdrError";
  readonly code: XdrErrorCode;
  /** Byte offset into the input (decoding) or the output (encoding). */
  readonly offset: number;
  /** Field path from the outermost value inward, for example `["lookup_res", "found", "next", "name"]`. */
  readonly path: string[];
  /** The message without offset and path. */
  readonly detail: string;

  constructor(code: XdrErrorCode, detail: string, offset: number, options?: { cause?: unknown }) {
    super(`${code}: ${detail} at byte ${offset}`, options);
    this.code = code;
    this.detail = detail;
    this.offset = offset;
    this.path = [];
  }

  /** The path written the way a reader would: `lookup_res.found.next.name`, `list[3]`. */
  get pathString(): string {
    let out = "";
    for (const segment of this.path) {
      out += segment.startsWith("[") || out === "" ? segment : `.${segment}`;
    }
    return out;
  }

  /** Adds an outer path segment as the error travels up through the codecs. */
  prependPath(segment: string): this {
    // Deeply recursive data would make the path, and the work to build it, grow without end.
    if (this.path.length >= MAX_PATH_SEGMENTS) this.path.pop();
    this.path.unshift(segment);
    this.message = `${this.code}: ${this.detail} at byte ${this.offset} in ${this.pathString}`;
    return this;
  }
}

/**
 * Used by codecs in their `catch`: adds `segment` to the path of an
 * XdrError, and turns any other failure (a value of the wrong shape, a stack
 * overflow) into one, so that only XdrError ever leaves the codec.
 */
export function withPath(error: unknown, segment: string, offset: number): XdrError {
  if (error instanceof XdrError) return error.prependPath(segment);
  // includes(), not a regular expression: compiling one with the stack nearly
  // full throws a SyntaxError of its own, which was then reported as BAD_VALUE.
  if (error instanceof RangeError && error.message.includes("call stack")) {
    return new XdrError("DEPTH_LIMIT", "data nested too deep for the stack", offset, {
      cause: error,
    }).prependPath(segment);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new XdrError("BAD_VALUE", detail, offset, { cause: error }).prependPath(segment);
}

/**
 * `withPath` for a linked list decoded by a loop: element `link` (0 is the
 * head) is named `next#link`, so a path reads `entries.next#41.name`.
 */
export function withLinkPath(
  error: unknown,
  segment: string,
  linkField: string,
  link: number,
  offset: number,
): XdrError {
  const e = withPath(error, segment, offset);
  return link > 0 ? e.prependPath(`${linkField}#${link}`) : e;
}
