/**
 * A client session kept in a file, so that exactly-once holds across the
 * client's own restarts (docs/semantics.md#exactly-once): the client id is
 * kept and the epoch counts up at each open, the sequences given out are
 * reserved in the file before use, and every exactly-once call is written
 * with its encoded arguments before its first send and its end when it
 * settles. After a restart, `session.unfinished()` lists the calls the last
 * incarnation did not see end, and `client.$resume(call)` sends each again
 * with its original identity: the server answers from its completion record
 * if the call ran, or runs it once.
 *
 * The file is text, one record per line:
 *
 *     once-session 1 <client id, hex>
 *     P <epoch>                                          an incarnation opened the file
 *     R <sequence>                                       sequences below it may be in use
 *     S <sequence> <program> <version> <procedure> <arguments, base64>
 *     E <sequence>                                       that call ended
 *
 * A torn last line (the process died while writing it) is ignored; any
 * other line that does not parse makes the file refused (SESSION_FILE_CORRUPT
 * in the message), never silently forgotten. When the calls in the file
 * have all ended and it has grown past `maxBytes`, it is rewritten (to a
 * temporary file, then renamed) with only the identity and the reservation.
 */

import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { ClientSession, type ResumableCall, type SessionCallLog, type SessionOptions } from "./session.js";

/** Options of openSession. Defaults in {@link SESSION_FILE_DEFAULTS}. */
export interface SessionFileOptions
  extends Omit<SessionOptions, "clientId" | "epoch" | "firstSequence" | "unfinished"> {
  /**
   * When a write reaches the disk. Every line is written (write(2)) before
   * the call it describes is sent, which survives the death of the process
   * (kill -9). "tick" (the default): one fsync per event-loop turn, started
   * after that turn's sends and run off the event loop — a crash of the
   * machine can lose the lines of the last few milliseconds. "each": an fsync per line before the send (a disk flush per
   * exactly-once call start and end). "never": leave it to the OS.
   */
  readonly fsync?: "tick" | "each" | "never";
  /** Past this size, once no logged call is unfinished, the file is rewritten small. */
  readonly maxBytes?: number;
  /** Sequences reserved per R line: one line per this many calls. */
  readonly reserveSequences?: number;
}

/** The defaults of SessionFileOptions. */
export const SESSION_FILE_DEFAULTS = Object.freeze({
  fsync: "tick" as const,
  maxBytes: 256 * 1024,
  reserveSequences: 4096,
});

const MAGIC = "once-session 1";

/** What a session file says. */
interface SessionFileState {
  clientId: Uint8Array;
  epoch: bigint;
  /** No sequence at or above this has been given out. */
  reserved: bigint;
  unfinished: Map<bigint, ResumableCall>;
}

/** Reads a session file; undefined when there is none. */
function readSessionFile(path: string): SessionFileState | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  // The last element is what follows the last newline: empty, or a torn line the process died writing.
  lines.pop();
  const corrupt = (n: number, why: string) =>
    new Error(`SESSION_FILE_CORRUPT: ${path}:${n + 1}: ${why}; move it away to start a new session`);
  const head = /^once-session 1 ([0-9a-f]{32})$/.exec(lines[0] ?? "");
  if (head === null) throw corrupt(0, `not a session file (expected "${MAGIC} <client id>")`);
  const state: SessionFileState = {
    clientId: new Uint8Array(Buffer.from(head[1], "hex")),
    epoch: 0n,
    reserved: 1n,
    unfinished: new Map(),
  };
  for (let n = 1; n < lines.length; n++) {
    const f = lines[n].split(" ");
    const num = (s: string | undefined): bigint => {
      if (s === undefined || !/^\d+$/.test(s)) throw corrupt(n, `${JSON.stringify(s)} is not a number`);
      return BigInt(s);
    };
    switch (f[0]) {
      case "P":
        state.epoch = max(state.epoch, num(f[1]));
        break;
      case "R":
        state.reserved = max(state.reserved, num(f[1]));
        break;
      case "S": {
        if (f.length !== 6) throw corrupt(n, "a call line has 6 fields");
        const sequence = num(f[1]);
        state.unfinished.set(sequence, {
          sequence,
          program: Number(num(f[2])),
          version: Number(num(f[3])),
          procedure: Number(num(f[4])),
          args: new Uint8Array(Buffer.from(f[5], "base64")),
        });
        state.reserved = max(state.reserved, sequence + 1n);
        break;
      }
      case "E":
        state.unfinished.delete(num(f[1]));
        break;
      default:
        throw corrupt(n, `unknown record ${JSON.stringify(f[0])}`);
    }
  }
  return state;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Writes `text` to `path` by a temporary file, fsync and rename, so a crash leaves the old or the new file. */
function replaceFile(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  const fd = openSync(temporary, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  try {
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some file systems refuse to open a directory for fsync; the rename is still atomic.
  }
}

function callLine(call: ResumableCall): string {
  return `S ${call.sequence} ${call.program} ${call.version} ${call.procedure} ${Buffer.from(call.args.buffer, call.args.byteOffset, call.args.length).toString("base64")}\n`;
}

/** The log a FileSession writes its calls to. */
class SessionFileLog implements SessionCallLog {
  readonly #path: string;
  readonly #fsync: "tick" | "each" | "never";
  readonly #maxBytes: number;
  readonly #reserve: bigint;
  readonly #header: string;
  readonly #live = new Map<bigint, ResumableCall>();
  #reserved: bigint;
  #fd: number;
  #bytes: number;
  #syncScheduled = false;
  /** Descriptors with an fsync in flight, and those of them to close when it ends. */
  readonly #syncing = new Set<number>();
  readonly #retired = new Set<number>();

  constructor(
    path: string,
    header: string,
    reserved: bigint,
    unfinished: Iterable<ResumableCall>,
    options: SessionFileOptions,
  ) {
    this.#path = path;
    this.#header = header;
    this.#fsync = options.fsync ?? SESSION_FILE_DEFAULTS.fsync;
    this.#maxBytes = options.maxBytes ?? SESSION_FILE_DEFAULTS.maxBytes;
    this.#reserve = BigInt(Math.max(1, options.reserveSequences ?? SESSION_FILE_DEFAULTS.reserveSequences));
    this.#reserved = reserved;
    for (const call of unfinished) this.#live.set(call.sequence, call);
    const text = this.#snapshot();
    replaceFile(path, text);
    this.#bytes = Buffer.byteLength(text);
    this.#fd = openSync(path, "a");
  }

  /** The file as it would be rewritten now: identity, reservation, unfinished calls. */
  #snapshot(): string {
    let text = `${this.#header}R ${this.#reserved}\n`;
    for (const call of this.#live.values()) text += callLine(call);
    return text;
  }

  started(sequence: bigint): void {
    // Reserve in blocks, so that a restarted client never gives out a sequence a server has seen.
    if (sequence >= this.#reserved) {
      this.#reserved = sequence + this.#reserve;
      this.#append(`R ${this.#reserved}\n`);
    }
  }

  prepared(call: ResumableCall): void {
    if (call.sequence >= this.#reserved) this.started(call.sequence);
    this.#live.set(call.sequence, { ...call, args: call.args.slice() });
    this.#append(callLine(call));
  }

  ended(sequence: bigint): void {
    if (!this.#live.delete(sequence)) return; // not an exactly-once call: nothing was written
    this.#append(`E ${sequence}\n`);
    if (this.#live.size === 0 && this.#bytes > this.#maxBytes) this.#compact();
  }

  #append(line: string): void {
    if (this.#fd < 0) return;
    this.#bytes += writeSync(this.#fd, line);
    if (this.#fsync === "each") fsyncSync(this.#fd);
    else if (this.#fsync === "tick" && !this.#syncScheduled) {
      this.#syncScheduled = true;
      setImmediate(() => this.#sync());
    }
  }

  /** The tick's fsync, on libuv's thread pool so the event loop does not wait for the disk. */
  #sync(): void {
    this.#syncScheduled = false;
    const fd = this.#fd;
    if (fd < 0) return;
    this.#syncing.add(fd);
    fsync(fd, () => {
      this.#syncing.delete(fd);
      // A file replaced (compaction) or closed meanwhile is closed only now, so its number is not reused under us.
      if (this.#retired.delete(fd)) closeSync(fd);
    });
  }

  /** Closes `fd` now, or after its fsync in flight. */
  #retire(fd: number): void {
    if (this.#syncing.has(fd)) this.#retired.add(fd);
    else closeSync(fd);
  }

  #compact(): void {
    this.#retire(this.#fd);
    const text = this.#snapshot();
    replaceFile(this.#path, text);
    this.#bytes = Buffer.byteLength(text);
    this.#fd = openSync(this.#path, "a");
  }

  /** The file's size now. */
  get bytes(): number {
    return this.#bytes;
  }

  close(): void {
    if (this.#fd < 0) return;
    if (this.#fsync !== "never") fsyncSync(this.#fd);
    this.#retire(this.#fd);
    this.#fd = -1;
  }
}

/** A ClientSession whose identity and exactly-once calls live in a file. */
export class FileSession extends ClientSession {
  /** The session file. */
  readonly path: string;
  readonly #log: SessionFileLog;

  constructor(path: string, options: SessionFileOptions = {}) {
    const found = readSessionFile(path);
    const clientId = found?.clientId ?? new Uint8Array(randomBytes(16));
    const epoch = (found?.epoch ?? 0n) + 1n;
    const reserved = found?.reserved ?? 1n;
    const unfinished = [...(found?.unfinished.values() ?? [])].sort((a, b) =>
      a.sequence < b.sequence ? -1 : 1,
    );
    super({ ...options, clientId, epoch, firstSequence: reserved, unfinished });
    this.path = path;
    const header = `${MAGIC} ${Buffer.from(clientId).toString("hex")}\nP ${epoch}\n`;
    this.#log = new SessionFileLog(path, header, reserved, unfinished, options);
    this.setLog(this.#log);
  }

  /** The session file's size in bytes. */
  get fileBytes(): number {
    return this.#log.bytes;
  }

  /** Flushes and closes the file; calls after this are not logged. */
  close(): void {
    this.#log.close();
  }
}

/**
 * Opens the session kept in the file at `path`, or starts one there (a new
 * random client id, epoch 1). Each open counts the epoch up. Pass the
 * session to the clients' channels (`{ session }`) and resume
 * `session.unfinished()` with `client.$resume(call)`.
 */
export function openSession(path: string, options: SessionFileOptions = {}): FileSession {
  return new FileSession(path, options);
}
