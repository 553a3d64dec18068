/**
 * The limit: XDR (RFC 4506) for `struct record` and for one variable-length
 * opaque, written by hand for this one shape as fast as we know how.
 *
 * No generality and no error paths beyond the checks a decoder cannot skip
 * (every length against the bytes that remain, the list against its bound
 * of 10). Encoding writes into one buffer that is reused from call to call and
 * returns a view of it, valid until the next call; decoding returns opaque
 * data as views into the input.
 */

/** The value of `struct record` in bench/fixtures/record.x, as our generator maps it. */
export interface HandRecord {
  id: number;
  name: string;
  score: number;
  blob: Uint8Array;
  list: number[];
}

/** Bytes of a double in wire (big-endian) order go through this scratch pair. */
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
/** True on little-endian hosts, where a double's bytes must be reversed. */
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * A hand-written XDR encoder over one reused buffer. Integers and doubles go
 * through a DataView kept with the buffer: TurboFan turns its big-endian
 * stores into a byte swap and one store, faster than four byte stores.
 */
export class HandEncoder {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);

  #ensure(bytes: number): void {
    if (bytes > this.#buf.length) {
      this.#buf = new Uint8Array(Math.max(bytes, this.#buf.length * 2));
      this.#view = new DataView(this.#buf.buffer);
    }
  }

  /** `record` into the reused buffer; the view is valid until the next call. */
  encodeRecord(v: HandRecord): Uint8Array {
    const name = v.name;
    const blob = v.blob;
    const list = v.list;
    const nameUnits = name.length;
    const blobLength = blob.length;
    const listLength = list.length;
    if (listLength > 10) throw new RangeError("list has more than 10 elements");
    // Worst case: every UTF-16 unit takes 3 bytes of UTF-8.
    this.#ensure(4 + 4 + nameUnits * 3 + 3 + 8 + 4 + blobLength + 3 + 4 + 4 * listLength);
    const buf = this.#buf;
    const view = this.#view;

    view.setInt32(0, v.id);

    // string: ASCII straight in, anything else through the native encoder.
    const start = 8;
    let i = 0;
    for (; i < nameUnits; i++) {
      const c = name.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    const nameBytes = i === nameUnits ? nameUnits : utf8Encoder.encodeInto(name, buf.subarray(start)).written;
    view.setUint32(4, nameBytes);
    let p = start + nameBytes;
    while ((p & 3) !== 0) buf[p++] = 0;

    view.setFloat64(p, v.score);
    p += 8;

    view.setUint32(p, blobLength);
    p += 4;
    buf.set(blob, p);
    p += blobLength;
    while ((p & 3) !== 0) buf[p++] = 0;

    view.setUint32(p, listLength);
    p += 4;
    for (let j = 0; j < listLength; j++, p += 4) view.setUint32(p, list[j]);
    return buf.subarray(0, p);
  }

  /** `opaque<>` into the reused buffer. */
  encodeOpaque(data: Uint8Array): Uint8Array {
    const n = data.length;
    this.#ensure(4 + n + 3);
    const buf = this.#buf;
    this.#view.setUint32(0, n);
    buf.set(data, 4);
    let p = 4 + n;
    while ((p & 3) !== 0) buf[p++] = 0;
    return buf.subarray(0, p);
  }
}

function getUint(bytes: Uint8Array, p: number): number {
  return ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]) >>> 0;
}

function getDouble(bytes: Uint8Array, p: number): number {
  if (LITTLE) {
    for (let i = 0; i < 8; i++) f64Bytes[7 - i] = bytes[p + i];
  } else {
    for (let i = 0; i < 8; i++) f64Bytes[i] = bytes[p + i];
  }
  return f64[0];
}

/** ASCII bytes as a string, eight characters per call; null at the first byte that is not ASCII. */
function ascii(bytes: Uint8Array, start: number, end: number): string | null {
  let text = "";
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = bytes[i];
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const d = bytes[i + 3];
    const e = bytes[i + 4];
    const f = bytes[i + 5];
    const g = bytes[i + 6];
    const h = bytes[i + 7];
    if ((a | b | c | d | e | f | g | h) >= 0x80) return null;
    text += String.fromCharCode(a, b, c, d, e, f, g, h);
  }
  for (; i < end; i++) {
    const a = bytes[i];
    if (a >= 0x80) return null;
    text += String.fromCharCode(a);
  }
  return text;
}

function short(): RangeError {
  return new RangeError("input too short");
}

/** Decodes `record`; opaque data comes back as a view into `bytes`. */
export function decodeRecord(bytes: Uint8Array): HandRecord {
  const end = bytes.length;
  if (end < 8) throw short();
  const id = getUint(bytes, 0) | 0;

  const nameBytes = getUint(bytes, 4);
  let p = 8;
  const namePadded = (nameBytes + 3) & ~3;
  if (namePadded > end - p) throw short();
  const nameEnd = p + nameBytes;
  let name = nameBytes <= 32 ? ascii(bytes, p, nameEnd) : null;
  if (name === null) name = utf8Decoder.decode(bytes.subarray(p, nameEnd));
  p += namePadded;

  if (p + 12 > end) throw short();
  const score = getDouble(bytes, p);
  p += 8;

  const blobLength = getUint(bytes, p);
  p += 4;
  const blobPadded = (blobLength + 3) & ~3;
  if (blobPadded > end - p) throw short();
  const blob = bytes.subarray(p, p + blobLength);
  p += blobPadded;

  if (p + 4 > end) throw short();
  const listLength = getUint(bytes, p);
  p += 4;
  if (listLength > 10) throw new RangeError("list longer than 10");
  if (listLength * 4 > end - p) throw short();
  const list: number[] = new Array(listLength);
  for (let j = 0; j < listLength; j++, p += 4) list[j] = getUint(bytes, p);
  if (p !== end) throw new RangeError("bytes after the value");
  return { id, name, score, blob, list };
}

/** Decodes `opaque<>` as a view into `bytes`. */
export function decodeOpaque(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4) throw short();
  const n = getUint(bytes, 0);
  if (((n + 3) & ~3) !== bytes.length - 4) throw new RangeError("length does not match the input");
  return bytes.subarray(4, 4 + n);
}
