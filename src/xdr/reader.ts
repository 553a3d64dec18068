import { XdrError, type XdrErrorCode } from "./errors.js";
import { DEFAULT_READER_OPTIONS, MAX_XDR_LENGTH, type XdrReaderOptions } from "./limits.js";

/** Strings up to this many bytes are decoded by a loop while they are ASCII; longer ones natively. */
const SHORT_STRING = 32;
// ignoreBOM: a leading U+FEFF is part of the string, not a marker to strip; without it
// "\uFEFFa" would decode as "a" and re-encode to different bytes (found by the C interop test).
// fatal: invalid UTF-8 is refused rather than replaced by U+FFFD, which would lose the bytes
// and could even grow a string past its bound when encoded again (found by the fuzzer).
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
/**
 * Floats and doubles pass through these scratch arrays, so that a reader
 * needs no DataView per input: allocating one on every `reset()` cost more
 * than decoding a small struct.
 */
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
/** The scratch arrays use the host's byte order; XDR is big-endian (RFC 4506 §3). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/**
 * XORed with a byte's index to reverse a float's (3) or double's (7) bytes on
 * little-endian hosts: one short loop for either byte order keeps readFloat and
 * readDouble small enough for V8 to inline into a codec.
 */
const FLIP4 = LITTLE_ENDIAN ? 3 : 0;
const FLIP8 = LITTLE_ENDIAN ? 7 : 0;

/**
 * Reads XDR (RFC 4506) from a byte array, checking every length before it
 * allocates anything.
 *
 * Opaque data comes back as a view into the input unless `copyOpaque` is set.
 * Strings are decoded as UTF-8 and bytes that are not valid UTF-8 are refused
 * (BAD_STRING), unless `stringEncoding` is `"latin1"`, which keeps any bytes.
 */
export class XdrReader {
  #bytes: Uint8Array;
  /** Made on first use by a hyper, then kept until the next reset. */
  #view: DataView | null = null;
  #pos: number;
  #end: number;
  #depth = 0;
  readonly #maxLength: number;
  readonly #maxDepth: number;
  readonly #strictPadding: boolean;
  readonly #copyOpaque: boolean;
  readonly #latin1: boolean;

  constructor(bytes: Uint8Array, options: XdrReaderOptions = {}) {
    this.#bytes = bytes;
    this.#pos = 0;
    this.#end = bytes.length;
    this.#maxLength = Math.min(options.maxLength ?? DEFAULT_READER_OPTIONS.maxLength, MAX_XDR_LENGTH);
    this.#maxDepth = options.maxDepth ?? DEFAULT_READER_OPTIONS.maxDepth;
    this.#strictPadding = !(options.allowNonZeroPadding ?? DEFAULT_READER_OPTIONS.allowNonZeroPadding);
    this.#copyOpaque = options.copyOpaque ?? DEFAULT_READER_OPTIONS.copyOpaque;
    this.#latin1 = (options.stringEncoding ?? DEFAULT_READER_OPTIONS.stringEncoding) === "latin1";
  }

  /** Points the reader at new input, keeping its options. */
  reset(bytes: Uint8Array): void {
    this.#bytes = bytes;
    this.#view = null;
    this.#pos = 0;
    this.#end = bytes.length;
    this.#depth = 0;
  }

  /** Offset of the next byte to read. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** RFC 4506 §4.1. */
  readInt(): number {
    const p = this.#pos;
    if (p + 4 > this.#end) throw this.#short(4);
    this.#pos = p + 4;
    const b = this.#bytes;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  /** RFC 4506 §4.2. */
  readUnsignedInt(): number {
    const p = this.#pos;
    if (p + 4 > this.#end) throw this.#short(4);
    this.#pos = p + 4;
    const b = this.#bytes;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  /** An integer the .x file narrows (`char`, `short`, unsigned forms): 4 bytes, then a range check. */
  readIntInRange(min: number, max: number): number {
    const v = min < 0 ? this.readInt() : this.readUnsignedInt();
    if (v < min || v > max) throw this.fail("BAD_VALUE", `${v} is not in ${min}..${max}`, this.#pos - 4);
    return v;
  }

  /** RFC 4506 §4.4: only 0 and 1 are booleans. */
  readBool(): boolean {
    const v = this.readInt();
    if (v === 0) return false;
    if (v === 1) return true;
    throw this.fail("BAD_BOOL", `${v} is not a boolean (0 or 1)`, this.#pos - 4);
  }

  /** RFC 4506 §4.5. */
  readHyper(): bigint {
    const p = this.#pos;
    if (p + 8 > this.#end) throw this.#short(8);
    this.#pos = p + 8;
    return this.#dataView().getBigInt64(p);
  }

  /** RFC 4506 §4.5. */
  readUnsignedHyper(): bigint {
    const p = this.#pos;
    if (p + 8 > this.#end) throw this.#short(8);
    this.#pos = p + 8;
    return this.#dataView().getBigUint64(p);
  }

  /** RFC 4506 §4.6. */
  readFloat(): number {
    const p = this.#pos;
    if (p + 4 > this.#end) throw this.#short(4);
    this.#pos = p + 4;
    const b = this.#bytes;
    for (let i = 0; i < 4; i++) f32Bytes[i] = b[p + (i ^ FLIP4)];
    return f32[0];
  }

  /** RFC 4506 §4.7. */
  readDouble(): number {
    const p = this.#pos;
    if (p + 8 > this.#end) throw this.#short(8);
    this.#pos = p + 8;
    const b = this.#bytes;
    for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + (i ^ FLIP8)];
    return f64[0];
  }

  /**
   * A count read from the wire, checked before the caller allocates for it:
   * against `max` (the declared bound), the reader's `maxLength`, and the bytes
   * that remain, given that each element takes at least `minElementBytes`.
   */
  readLength(max: number, minElementBytes: number): number {
    const at = this.#pos;
    const p = at + 4;
    if (p > this.#end) throw this.#short(4);
    const b = this.#bytes;
    const n = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
    this.#pos = p;
    // One test on the hot path; the cold path works out which limit it was.
    if (n > max || n > this.#maxLength || n * minElementBytes > this.#end - p) {
      throw this.#badLength(n, max, minElementBytes);
    }
    return n;
  }

  /**
   * RFC 4506 §4.13 of `int`: `int x<max>`, the count and the elements. The
   * count is checked as by `readLength`, which proves that the elements are
   * all there: they are read without a check each.
   */
  readIntArray(max: number = MAX_XDR_LENGTH): number[] {
    const n = this.readLength(max, 4);
    const out: number[] = new Array(n);
    const b = this.#bytes;
    let p = this.#pos;
    for (let i = 0; i < n; i++, p += 4) out[i] = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    this.#pos = p;
    return out;
  }

  /** RFC 4506 §4.13 of `unsigned int`: `unsigned int x<max>`, as `readIntArray`. */
  readUnsignedIntArray(max: number = MAX_XDR_LENGTH): number[] {
    const n = this.readLength(max, 4);
    const out: number[] = new Array(n);
    const b = this.#bytes;
    let p = this.#pos;
    for (let i = 0; i < n; i++, p += 4) {
      out[i] = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    }
    this.#pos = p;
    return out;
  }

  /** RFC 4506 §4.9: `length` bytes and their padding. */
  readFixedOpaque(length: number): Uint8Array {
    return this.#readBytes(length);
  }

  // readVariableOpaque and readString read their length inline rather than
  // through readLength, with one test for the length word and one for the
  // bound, maxLength and the padded data together: nothing on their hot path
  // calls another method, which keeps them small enough for V8 to inline
  // into a codec along with its other reads.

  /** RFC 4506 §4.10: a length (at most `max`), the bytes, padding. */
  readVariableOpaque(max: number = MAX_XDR_LENGTH): Uint8Array {
    const at = this.#pos;
    const start = at + 4;
    if (start > this.#end) throw this.#short(4);
    const bytes = this.#bytes;
    const n = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
    const padded = n + (-n & 3);
    if (n > max || n > this.#maxLength || start + padded > this.#end) throw this.#badData(n, max, start);
    this.#pos = start + padded;
    if (padded > n && this.#strictPadding) this.#checkPadding(start + n, start + padded);
    return this.#copyOpaque ? bytes.slice(start, start + n) : bytes.subarray(start, start + n);
  }

  /** RFC 4506 §4.11: a length (at most `max` bytes), UTF-8 bytes, padding. */
  readString(max: number = MAX_XDR_LENGTH): string {
    const at = this.#pos;
    const start = at + 4;
    if (start > this.#end) throw this.#short(4);
    const bytes = this.#bytes;
    const n = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
    const padded = n + (-n & 3);
    if (n > max || n > this.#maxLength || start + padded > this.#end) throw this.#badData(n, max, start);
    let text = n <= SHORT_STRING ? shortAscii(bytes, start, start + n) : null;
    if (text === null) text = this.#decodeText(bytes, start, n);
    this.#pos = start + padded;
    if (padded > n && this.#strictPadding) this.#checkPadding(start + n, start + padded);
    return text;
  }

  /**
   * Enters one level of recursive data that is not decoded by a loop (a
   * recursive union, say); fails with DEPTH_LIMIT past `maxDepth`. Pair with `leave()`.
   */
  enter(): void {
    if (++this.#depth > this.#maxDepth) {
      // No reset here: the codecs' `finally` blocks leave() on the way out, and reset() starts afresh.
      throw this.fail("DEPTH_LIMIT", `data nested deeper than maxDepth ${this.#maxDepth}`, this.#pos);
    }
  }

  /** Leaves a level entered with `enter()`. */
  leave(): void {
    this.#depth--;
  }

  /** Fails with TRAILING_BYTES unless every byte has been read. */
  expectEnd(): void {
    if (this.#pos !== this.#end) {
      throw this.fail("TRAILING_BYTES", `${this.#end - this.#pos} bytes left after the value`, this.#pos);
    }
  }

  /** An XdrError at `offset` (default: the current offset), for codecs that find a bad value. */
  fail(code: XdrErrorCode, detail: string, offset: number = this.#pos): XdrError {
    return new XdrError(code, detail, offset);
  }

  /**
   * Why the length of opaque data or a string at `start - 4` failed the one
   * combined test: the same error, at the same offset, as readLength followed
   * by a check of the padded bytes would give.
   */
  #badData(n: number, max: number, start: number): XdrError {
    this.#pos = start;
    if (n > max || n > this.#maxLength || n > this.#end - start) return this.#badLength(n, max, 1);
    return this.#short(n + (-n & 3));
  }

  #readBytes(n: number): Uint8Array {
    const start = this.#pos;
    // Not (n + 3) & ~3: bitwise operators work in 32 signed bits, and a fixed
    // length of 2^31 or more (opaque x[0x80000000]) came out negative or zero,
    // so the reader returned the rest of the input, or moved backwards.
    const padded = n + (-n & 3);
    if (start + padded > this.#end) throw this.#short(padded);
    this.#pos = start + padded;
    if (this.#strictPadding && padded > n) this.#checkPadding(start + n, start + padded);
    return this.#copyOpaque ? this.#bytes.slice(start, start + n) : this.#bytes.subarray(start, start + n);
  }

  #badLength(n: number, max: number, minElementBytes: number): XdrError {
    const at = this.#pos - 4;
    if (n > max) return this.fail("BOUND_EXCEEDED", `length ${n} exceeds the declared bound of ${max}`, at);
    if (n > this.#maxLength) {
      return this.fail(
        "LENGTH_LIMIT",
        `length ${n} exceeds the reader's maxLength of ${this.#maxLength}`,
        at,
      );
    }
    const remain = this.#end - this.#pos;
    return this.fail(
      "SHORT_BUFFER",
      `length ${n} needs at least ${n * minElementBytes} bytes, ${remain} remain`,
      at,
    );
  }

  #dataView(): DataView {
    const b = this.#bytes;
    if (this.#view === null) this.#view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return this.#view;
  }

  #decodeText(bytes: Uint8Array, start: number, n: number): string {
    if (this.#latin1) return Buffer.from(bytes.buffer, bytes.byteOffset + start, n).toString("latin1");
    try {
      return utf8Decoder.decode(bytes.subarray(start, start + n));
    } catch {
      throw this.fail(
        "BAD_STRING",
        `string of ${n} bytes is not valid UTF-8 (declare it opaque, or read strings as latin1)`,
        start,
      );
    }
  }

  #checkPadding(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (this.#bytes[i] !== 0)
        throw this.fail("NONZERO_PADDING", `padding byte is ${this.#bytes[i]}, not 0`, i);
    }
  }

  #short(needed: number): XdrError {
    return this.fail("SHORT_BUFFER", `needs ${needed} bytes, ${this.#end - this.#pos} remain`);
  }
}

/**
 * `bytes[start..end)` as a string when every byte is ASCII, else null.
 * Eight characters per `String.fromCharCode` call: for short strings this is
 * about twice as fast as one call per character and than TextDecoder.
 */
function shortAscii(bytes: Uint8Array, start: number, end: number): string | null {
  let text = "";
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const c0 = bytes[i];
    const c1 = bytes[i + 1];
    const c2 = bytes[i + 2];
    const c3 = bytes[i + 3];
    const c4 = bytes[i + 4];
    const c5 = bytes[i + 5];
    const c6 = bytes[i + 6];
    const c7 = bytes[i + 7];
    if ((c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) >= 0x80) return null;
    text += String.fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7);
  }
  for (; i < end; i++) {
    const c = bytes[i];
    if (c >= 0x80) return null;
    text += String.fromCharCode(c);
  }
  return text;
}
