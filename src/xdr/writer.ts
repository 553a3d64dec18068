import { XdrError } from "./errors.js";
import { DEFAULT_WRITER_OPTIONS, MAX_XDR_LENGTH, type XdrWriterOptions } from "./limits.js";

/** Strings up to this many UTF-16 units are written by a loop; longer ones by the native encoder. */
const SHORT_STRING = 64;
const utf8Encoder = new TextEncoder();

/**
 * Writes XDR (RFC 4506) into one growable buffer.
 *
 * A writer is meant to be reused: `reset()` keeps its buffer. What `view()`
 * and `chunks()` return points into that buffer and stays valid only until
 * the next write or reset; `bytes()` returns a copy that is yours.
 *
 * Opaque data of `referenceMinBytes` or more is not copied: the writer keeps a
 * reference to it and `chunks()` returns it as its own element, ready for a
 * vectored write (scatter-gather).
 */
export class XdrWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  /** Where the bytes not yet handed out as a chunk begin in #buf. */
  #chunkStart = 0;
  /** Finished chunks, in order: views of old buffers and referenced opaque data. */
  #chunks: Uint8Array[] = [];
  #chunkBytes = 0;
  readonly #referenceMinBytes: number;
  readonly #latin1: boolean;

  constructor(options: XdrWriterOptions = {}) {
    const initial = options.initialBytes ?? DEFAULT_WRITER_OPTIONS.initialBytes;
    this.#buf = new Uint8Array(Math.max(16, initial));
    this.#view = new DataView(this.#buf.buffer);
    this.#referenceMinBytes = options.referenceMinBytes ?? DEFAULT_WRITER_OPTIONS.referenceMinBytes;
    this.#latin1 = (options.stringEncoding ?? DEFAULT_WRITER_OPTIONS.stringEncoding) === "latin1";
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.#chunkBytes + this.#pos - this.#chunkStart;
  }

  /** Forgets what was written, keeping the buffer for the next message. */
  reset(): void {
    this.#pos = 0;
    this.#chunkStart = 0;
    if (this.#chunks.length > 0) this.#chunks = [];
    this.#chunkBytes = 0;
  }

  /** The message as one contiguous view; copies only when opaque data was kept by reference. */
  view(): Uint8Array {
    const tail = this.#buf.subarray(this.#chunkStart, this.#pos);
    if (this.#chunks.length === 0) return tail;
    return concat(this.#chunks, tail, this.length);
  }

  /** The message as a list of views, for a vectored write. */
  chunks(): Uint8Array[] {
    const tail = this.#buf.subarray(this.#chunkStart, this.#pos);
    return this.#chunks.length === 0 ? [tail] : [...this.#chunks, tail];
  }

  /** A copy of the message that outlives the writer. */
  bytes(): Uint8Array {
    const tail = this.#buf.subarray(this.#chunkStart, this.#pos);
    if (this.#chunks.length === 0) return tail.slice();
    return concat(this.#chunks, tail, this.length);
  }

  /**
   * The message as a list of chunks that outlive the writer: the bytes in
   * the writer's own buffer are copied (one copy each), opaque data kept by
   * reference stays referenced. For messages handed to a socket while the
   * writer goes on to the next one.
   */
  detach(): Uint8Array[] {
    const tail = this.#buf.subarray(this.#chunkStart, this.#pos);
    if (this.#chunks.length === 0) return [copyToSlab(tail)];
    const own = this.#buf.buffer;
    const out: Uint8Array[] = [];
    for (const chunk of this.#chunks) out.push(chunk.buffer === own ? copyToSlab(chunk) : chunk);
    if (tail.length > 0) out.push(copyToSlab(tail));
    return out;
  }

  /** RFC 4506 §4.1: a signed 32-bit integer. */
  writeInt(value: number): void {
    // The typeof test first: `|` throws a TypeError on a bigint or a symbol.
    if (typeof value !== "number" || (value | 0) !== value) {
      throw this.#badValue(`${describe(value)} is not a 32-bit signed integer`);
    }
    if (this.#pos + 4 > this.#buf.length) this.#grow(4);
    this.#view.setInt32(this.#pos, value);
    this.#pos += 4;
  }

  /** RFC 4506 §4.2: an unsigned 32-bit integer. */
  writeUnsignedInt(value: number): void {
    if (typeof value !== "number" || value >>> 0 !== value) {
      throw this.#badValue(`${describe(value)} is not a 32-bit unsigned integer`);
    }
    if (this.#pos + 4 > this.#buf.length) this.#grow(4);
    this.#view.setUint32(this.#pos, value);
    this.#pos += 4;
  }

  /** An integer that the .x file narrows (`char`, `short`, and their unsigned forms); 4 bytes on the wire. */
  writeIntInRange(value: number, min: number, max: number): void {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw this.#badValue(`${describe(value)} is not an integer in ${min}..${max}`);
    }
    if (this.#pos + 4 > this.#buf.length) this.#grow(4);
    if (min < 0) this.#view.setInt32(this.#pos, value);
    else this.#view.setUint32(this.#pos, value);
    this.#pos += 4;
  }

  /** RFC 4506 §4.4: TRUE is 1, FALSE is 0. */
  writeBool(value: boolean): void {
    if (typeof value !== "boolean") throw this.#badValue(`${describe(value)} is not a boolean`);
    if (this.#pos + 4 > this.#buf.length) this.#grow(4);
    this.#view.setInt32(this.#pos, value ? 1 : 0);
    this.#pos += 4;
  }

  /** RFC 4506 §4.5: a signed 64-bit integer. */
  writeHyper(value: bigint): void {
    if (typeof value !== "bigint" || BigInt.asIntN(64, value) !== value) {
      throw this.#badValue(`${describe(value)} is not a 64-bit signed bigint`);
    }
    if (this.#pos + 8 > this.#buf.length) this.#grow(8);
    this.#view.setBigInt64(this.#pos, value);
    this.#pos += 8;
  }

  /** RFC 4506 §4.5: an unsigned 64-bit integer. */
  writeUnsignedHyper(value: bigint): void {
    if (typeof value !== "bigint" || BigInt.asUintN(64, value) !== value) {
      throw this.#badValue(`${describe(value)} is not a 64-bit unsigned bigint`);
    }
    if (this.#pos + 8 > this.#buf.length) this.#grow(8);
    this.#view.setBigUint64(this.#pos, value);
    this.#pos += 8;
  }

  /** RFC 4506 §4.6: IEEE single precision; the number is rounded as C rounds a double to float. */
  writeFloat(value: number): void {
    if (typeof value !== "number") throw this.#badValue(`${describe(value)} is not a number`);
    if (this.#pos + 4 > this.#buf.length) this.#grow(4);
    this.#view.setFloat32(this.#pos, value);
    this.#pos += 4;
  }

  /** RFC 4506 §4.7: IEEE double precision. */
  writeDouble(value: number): void {
    if (typeof value !== "number") throw this.#badValue(`${describe(value)} is not a number`);
    if (this.#pos + 8 > this.#buf.length) this.#grow(8);
    this.#view.setFloat64(this.#pos, value);
    this.#pos += 8;
  }

  /** RFC 4506 §4.9: exactly `length` bytes, then zero padding to a multiple of four. */
  writeFixedOpaque(value: Uint8Array, length: number): void {
    if (!(value instanceof Uint8Array)) throw this.#badValue(`${describe(value)} is not a Uint8Array`);
    if (value.length !== length)
      throw this.#badValue(`fixed opaque needs ${length} bytes, got ${value.length}`);
    this.#writeBytes(value);
  }

  /** RFC 4506 §4.10: a length, the bytes, zero padding. `max` is the declared bound. */
  writeVariableOpaque(value: Uint8Array, max: number = MAX_XDR_LENGTH): void {
    if (!(value instanceof Uint8Array)) throw this.#badValue(`${describe(value)} is not a Uint8Array`);
    if (value.length > max)
      throw this.#badValue(`opaque of ${value.length} bytes exceeds its bound of ${max}`);
    this.writeUnsignedInt(value.length);
    this.#writeBytes(value);
  }

  /** RFC 4506 §4.11: a length, the UTF-8 bytes, zero padding. `max` bounds the byte length. */
  writeString(value: string, max: number = MAX_XDR_LENGTH): void {
    if (typeof value !== "string") throw this.#badValue(`${describe(value)} is not a string`);
    const units = value.length;
    // Room for the length, the worst-case UTF-8 expansion (3 bytes per UTF-16 unit) and padding.
    if (this.#pos + 4 + units * 3 + 3 > this.#buf.length) this.#grow(4 + units * 3 + 3);
    const start = this.#pos + 4;
    const buf = this.#buf;
    let byteLength = -1;
    if (units <= SHORT_STRING) {
      let i = 0;
      for (; i < units; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === units) byteLength = units;
    }
    if (byteLength < 0) byteLength = this.#encodeText(value, buf, start);
    if (byteLength > max) throw this.#badValue(`string of ${byteLength} bytes exceeds its bound of ${max}`);
    this.#view.setUint32(this.#pos, byteLength);
    // Pad by the length, not by the buffer position: after opaque data kept by
    // reference, positions in the buffer are no longer aligned with the message.
    let end = start + byteLength;
    const padded = start + ((byteLength + 3) & ~3);
    while (end < padded) buf[end++] = 0;
    this.#pos = end;
  }

  /** Writes a string that is not short ASCII at `start`; returns its byte length. */
  #encodeText(value: string, buf: Uint8Array, start: number): number {
    if (this.#latin1) {
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0xff)
          throw this.#badValue(`character U+${c.toString(16).padStart(4, "0")} at ${i} is not latin1`);
        buf[start + i] = c;
      }
      return value.length;
    }
    // TextEncoder would replace a lone surrogate with U+FFFD: refuse it instead of changing the string.
    if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      throw this.#badValue("string has a lone surrogate and cannot be UTF-8");
    }
    return utf8Encoder.encodeInto(value, buf.subarray(start)).written;
  }

  /** A count before the elements of a variable-length array (RFC 4506 §4.13), checked against its bound. */
  writeLength(length: number, max: number = MAX_XDR_LENGTH): void {
    if (length > max) throw this.#badValue(`array of ${length} elements exceeds its bound of ${max}`);
    this.writeUnsignedInt(length);
  }

  /**
   * RFC 4506 §4.13 of `int`: `int x<max>`, the count and the elements. Room
   * for all of them is made once; each value is still checked, and a bad one
   * fails with its index as the path (`[3]`) and the offset where it belongs.
   */
  writeIntArray(values: readonly number[], max: number = MAX_XDR_LENGTH): void {
    const n = values.length;
    this.writeLength(n, max);
    if (this.#pos + n * 4 > this.#buf.length) this.#grow(n * 4);
    const view = this.#view;
    let p = this.#pos;
    for (let i = 0; i < n; i++, p += 4) {
      const value = values[i];
      if (typeof value !== "number" || (value | 0) !== value) {
        this.#pos = p;
        throw this.#badValue(`${describe(value)} is not a 32-bit signed integer`).prependPath(`[${i}]`);
      }
      view.setInt32(p, value);
    }
    this.#pos = p;
  }

  /** RFC 4506 §4.13 of `unsigned int`: `unsigned int x<max>`, as `writeIntArray`. */
  writeUnsignedIntArray(values: readonly number[], max: number = MAX_XDR_LENGTH): void {
    const n = values.length;
    this.writeLength(n, max);
    if (this.#pos + n * 4 > this.#buf.length) this.#grow(n * 4);
    const view = this.#view;
    let p = this.#pos;
    for (let i = 0; i < n; i++, p += 4) {
      const value = values[i];
      if (typeof value !== "number" || value >>> 0 !== value) {
        this.#pos = p;
        throw this.#badValue(`${describe(value)} is not a 32-bit unsigned integer`).prependPath(`[${i}]`);
      }
      view.setUint32(p, value);
    }
    this.#pos = p;
  }

  /** Checks the element count of a fixed-length array (RFC 4506 §4.12); writes nothing. */
  checkFixedLength(actual: number, length: number): void {
    if (actual !== length) throw this.#badValue(`fixed array needs ${length} elements, got ${actual}`);
  }

  /** An XdrError at the current output offset, for codecs that find a value that does not fit. */
  fail(detail: string): XdrError {
    return new XdrError("BAD_VALUE", detail, this.length);
  }

  #writeBytes(value: Uint8Array): void {
    const n = value.length;
    // Not (n + 3) & ~3, which is negative from 2^31 - 3 bytes on (bitwise operators are 32-bit signed).
    const padded = n + (-n & 3);
    if (n >= this.#referenceMinBytes) {
      // Close the current chunk, keep the caller's bytes by reference, pad in our buffer.
      if (this.#pos > this.#chunkStart) this.#pushChunk(this.#buf.subarray(this.#chunkStart, this.#pos));
      this.#pushChunk(value);
      this.#chunkStart = this.#pos;
      if (padded > n) {
        if (this.#pos + 4 > this.#buf.length) this.#grow(4);
        for (let i = n; i < padded; i++) this.#buf[this.#pos++] = 0;
      }
      return;
    }
    if (this.#pos + padded > this.#buf.length) this.#grow(padded);
    const buf = this.#buf;
    let p = this.#pos;
    if (n <= 16) {
      for (let i = 0; i < n; i++) buf[p + i] = value[i];
    } else {
      buf.set(value, p);
    }
    // As in writeString: the padding follows from the length, whatever the buffer position.
    const end = p + padded;
    p += n;
    while (p < end) buf[p++] = 0;
    this.#pos = p;
  }

  #pushChunk(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#chunkBytes += chunk.length;
  }

  /** Makes room for `needed` more bytes. Chunks already handed out keep pointing at the old buffer. */
  #grow(needed: number): void {
    const live = this.#pos - this.#chunkStart;
    let size = this.#buf.length * 2;
    while (size < live + needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(this.#chunkStart, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
    this.#pos = live;
    this.#chunkStart = 0;
  }

  #badValue(detail: string): XdrError {
    return this.fail(detail);
  }
}

// Small detached messages are carved out of shared slabs rather than each
// getting an ArrayBuffer of its own: creating ArrayBuffers, and collecting
// them, is what dominated a client's garbage at high call rates. A slab is
// never written twice; it is freed when the last message in it is.
const SLAB_BYTES = 64 * 1024;
const SLAB_MAX_MESSAGE_BYTES = 4 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabPos = 0;

function copyToSlab(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > SLAB_MAX_MESSAGE_BYTES) return bytes.slice();
  if (slabPos + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabPos = 0;
  }
  const start = slabPos;
  slab.set(bytes, start);
  // Keep the next message 8-byte aligned, as allocators do.
  slabPos = (start + n + 7) & ~7;
  return slab.subarray(start, start + n);
}

function concat(chunks: readonly Uint8Array[], tail: Uint8Array, total: number): Uint8Array {
  const out = new Uint8Array(total);
  let p = 0;
  for (const chunk of chunks) {
    out.set(chunk, p);
    p += chunk.length;
  }
  out.set(tail, p);
  return out;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object")
    return value instanceof Uint8Array ? `Uint8Array(${value.length})` : "an object";
  return String(value);
}
