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

/** A hand-written XDR encoder over one reused buffer. */
export class HandEncoder {
  #buf = new Uint8Array(4096);

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
    const worst = 4 + 4 + nameUnits * 3 + 3 + 8 + 4 + blobLength + 3 + 4 + 4 * listLength;
    if (worst > this.#buf.length) this.#buf = new Uint8Array(Math.max(worst, this.#buf.length * 2));
    const buf = this.#buf;

    let p = putInt(buf, 0, v.id);

    // string: ASCII straight in, anything else through the native encoder.
    const start = p + 4;
    let i = 0;
    for (; i < nameUnits; i++) {
      const c = name.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    const nameBytes = i === nameUnits ? nameUnits : utf8Encoder.encodeInto(name, buf.subarray(start)).written;
    putInt(buf, p, nameBytes);
    p = start + nameBytes;
    while ((p & 3) !== 0) buf[p++] = 0;

    p = putDouble(buf, p, v.score);

    p = putInt(buf, p, blobLength);
    buf.set(blob, p);
    p += blobLength;
    while ((p & 3) !== 0) buf[p++] = 0;

    p = putInt(buf, p, listLength);
    for (let j = 0; j < listLength; j++) p = putInt(buf, p, list[j]);
    return buf.subarray(0, p);
  }

  /** `opaque<>` into the reused buffer. */
  encodeOpaque(data: Uint8Array): Uint8Array {
    const n = data.length;
    const padded = (n + 3) & ~3;
    if (4 + padded > this.#buf.length) this.#buf = new Uint8Array(Math.max(4 + padded, this.#buf.length * 2));
    const buf = this.#buf;
    let p = putInt(buf, 0, n);
    buf.set(data, p);
    p += n;
    while ((p & 3) !== 0) buf[p++] = 0;
    return buf.subarray(0, p);
  }
}

function putInt(buf: Uint8Array, p: number, v: number): number {
  buf[p] = v >>> 24;
  buf[p + 1] = v >>> 16;
  buf[p + 2] = v >>> 8;
  buf[p + 3] = v;
  return p + 4;
}

function putDouble(buf: Uint8Array, p: number, v: number): number {
  f64[0] = v;
  if (LITTLE) {
    for (let i = 0; i < 8; i++) buf[p + i] = f64Bytes[7 - i];
  } else {
    for (let i = 0; i < 8; i++) buf[p + i] = f64Bytes[i];
  }
  return p + 8;
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
  let name = "";
  let i = p;
  const nameEnd = p + nameBytes;
  if (nameBytes <= 32) {
    for (; i < nameEnd; i++) {
      const c = bytes[i];
      if (c >= 0x80) break;
      name += String.fromCharCode(c);
    }
  }
  if (i !== nameEnd) name = utf8Decoder.decode(bytes.subarray(p, nameEnd));
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
  return { id, name, score, blob, list };
}

/** Decodes `opaque<>` as a view into `bytes`. */
export function decodeOpaque(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4) throw short();
  const n = getUint(bytes, 0);
  if (((n + 3) & ~3) > bytes.length - 4) throw short();
  return bytes.subarray(4, 4 + n);
}
