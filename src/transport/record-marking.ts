/**
 * Record marking (RFC 5531 §11): on a byte stream each message is a record
 * of one or more fragments, each behind a 4-byte mark whose top bit says
 * "last fragment" and whose other 31 bits give the fragment's length.
 */
import { RpcError } from "../rpc/index.js";

/** The top bit of a record mark: this fragment ends the record. */
const LAST_FRAGMENT = 0x8000_0000;
/** A fragment's length fits in the mark's low 31 bits. */
export const MAX_FRAGMENT_BYTES = 0x7fff_ffff;

/**
 * Reassembles records from stream chunks. Every length is checked against
 * `maxRecordBytes` before anything is buffered for it. A record that arrives
 * as one fragment inside one chunk is handed out as a view of that chunk,
 * without a copy (the common case: a socket read holds whole small records).
 */
export class RecordDecoder {
  readonly #maxRecordBytes: number;
  readonly #onRecord: (record: Uint8Array) => void;
  /** Bytes of a record mark split across chunks. */
  readonly #mark = new Uint8Array(4);
  #markBytes = 0;
  /** Bytes still to come of the current fragment; -1 while reading a mark. */
  #fragmentLeft = -1;
  #lastFragment = false;
  /** The current record's pieces so far, and their total length. */
  #pieces: Uint8Array[] = [];
  #recordBytes = 0;

  constructor(maxRecordBytes: number, onRecord: (record: Uint8Array) => void) {
    this.#maxRecordBytes = maxRecordBytes;
    this.#onRecord = onRecord;
  }

  /** True between records: no partial mark, fragment or record is buffered. */
  get idle(): boolean {
    return (
      this.#fragmentLeft < 0 && this.#markBytes === 0 && this.#recordBytes === 0 && this.#pieces.length === 0
    );
  }

  /**
   * Feeds bytes read from the stream; calls onRecord for each record they
   * complete. Throws RpcError MESSAGE_TOO_LARGE when a record would exceed
   * the limit: the stream cannot be resynchronized after that, close it.
   */
  push(chunk: Uint8Array): void {
    let p = 0;
    const n = chunk.length;
    while (p < n) {
      if (this.#fragmentLeft < 0) {
        // Fast path: a whole mark and a whole last fragment in this chunk, at a record boundary.
        if (this.#markBytes === 0 && this.#pieces.length === 0 && n - p >= 4) {
          const mark = ((chunk[p] << 24) | (chunk[p + 1] << 16) | (chunk[p + 2] << 8) | chunk[p + 3]) >>> 0;
          const length = mark & MAX_FRAGMENT_BYTES;
          if (mark & LAST_FRAGMENT && length <= n - p - 4) {
            if (length > this.#maxRecordBytes) throw this.#tooLarge(length);
            const start = p + 4;
            p = start + length;
            this.#onRecord(chunk.subarray(start, p));
            continue;
          }
          p += 4;
          this.#startFragment(mark);
          continue;
        }
        // Slow path: a mark split across chunks.
        while (this.#markBytes < 4 && p < n) this.#mark[this.#markBytes++] = chunk[p++];
        if (this.#markBytes < 4) return;
        this.#markBytes = 0;
        const m = this.#mark;
        this.#startFragment(((m[0] << 24) | (m[1] << 16) | (m[2] << 8) | m[3]) >>> 0);
        continue;
      }
      const take = Math.min(this.#fragmentLeft, n - p);
      if (take > 0) {
        this.#pieces.push(chunk.subarray(p, p + take));
        p += take;
        this.#fragmentLeft -= take;
      }
      if (this.#fragmentLeft === 0) this.#endFragment();
    }
  }

  #startFragment(mark: number): void {
    const length = mark & MAX_FRAGMENT_BYTES;
    this.#lastFragment = (mark & LAST_FRAGMENT) !== 0;
    this.#recordBytes += length;
    if (this.#recordBytes > this.#maxRecordBytes) throw this.#tooLarge(this.#recordBytes);
    this.#fragmentLeft = length;
    // A zero-length fragment ends at once; a last one ends its record.
    if (length === 0) this.#endFragment();
  }

  #endFragment(): void {
    this.#fragmentLeft = -1;
    if (!this.#lastFragment) return;
    const pieces = this.#pieces;
    const total = this.#recordBytes;
    this.#pieces = [];
    this.#recordBytes = 0;
    this.#onRecord(pieces.length === 1 ? pieces[0] : concat(pieces, total));
  }

  #tooLarge(bytes: number): RpcError {
    return new RpcError(
      "MESSAGE_TOO_LARGE",
      `a record of at least ${bytes} bytes exceeds maxRecordBytes ${this.#maxRecordBytes}`,
    );
  }
}

function concat(pieces: readonly Uint8Array[], total: number): Uint8Array {
  // Every byte is written below: no need for the zero fill of new Uint8Array.
  const unfilled = Buffer.allocUnsafe(total);
  const out = new Uint8Array(unfilled.buffer, unfilled.byteOffset, total);
  let p = 0;
  for (const piece of pieces) {
    out.set(piece, p);
    p += piece.length;
  }
  return out;
}

/** Bytes a sender reserves in front of each message for its record mark. */
export const RECORD_MARK_BYTES = 4;

/**
 * Frames one message as a record. `chunks[0]` begins with RECORD_MARK_BYTES
 * of headroom, which becomes the mark when the message fits in one fragment
 * (no copy). A longer message is cut into fragments of at most
 * `maxFragmentBytes`, each behind its own mark; the data is not copied.
 */
export function frameRecord(chunks: Uint8Array[], length: number, maxFragmentBytes: number): Uint8Array[] {
  const body = length - RECORD_MARK_BYTES;
  if (body <= maxFragmentBytes) {
    writeMark(chunks[0], 0, body, true);
    return chunks;
  }
  const out: Uint8Array[] = [];
  let left = body;
  let fragmentLeft = 0;
  for (let i = 0; i < chunks.length; i++) {
    let chunk = i === 0 ? chunks[0].subarray(RECORD_MARK_BYTES) : chunks[i];
    while (chunk.length > 0) {
      if (fragmentLeft === 0) {
        fragmentLeft = Math.min(maxFragmentBytes, left);
        const mark = new Uint8Array(4);
        writeMark(mark, 0, fragmentLeft, fragmentLeft === left);
        out.push(mark);
      }
      const take = Math.min(fragmentLeft, chunk.length);
      out.push(chunk.subarray(0, take));
      chunk = chunk.subarray(take);
      fragmentLeft -= take;
      left -= take;
    }
  }
  return out;
}

function writeMark(buf: Uint8Array, at: number, length: number, last: boolean): void {
  const mark = (last ? LAST_FRAGMENT | length : length) >>> 0;
  buf[at] = mark >>> 24;
  buf[at + 1] = (mark >>> 16) & 0xff;
  buf[at + 2] = (mark >>> 8) & 0xff;
  buf[at + 3] = mark & 0xff;
}
