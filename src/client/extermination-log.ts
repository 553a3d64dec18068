/**
 * The extermination log (docs/semantics.md, "Orphans"): a small append-only
 * file where a session writes each of its calls before sending it (client
 * id, epoch, sequence, server address, program, version, procedure) and its
 * end when it settles. A client that starts again on the same file finds
 * there the calls its previous incarnations left unfinished — computations
 * that may still run on their servers as orphans — and exterminate() asks
 * those servers to kill them (ONCE_KILL).
 *
 * The file is text, one record per line:
 *
 *     once-extermination-log 1
 *     C <client id, hex> <epoch>          the incarnation the next lines belong to
 *     S <sequence> <program> <version> <procedure> <server address, URI-encoded>
 *     E <sequence>
 *
 * A torn last line (the process died while writing it) is ignored. When the
 * file passes maxBytes it is rewritten (to a temporary file, then renamed)
 * with only the calls still unfinished, so it stays about as small as the
 * number of calls in flight. Writes are synchronous, so a call is in the
 * file before its first byte is sent: that survives the death of the
 * process; to survive the machine's, set `fsync` (a disk flush per write).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import type { SessionIdentity } from "../rpc/index.js";

/** Options of an ExterminationLog. Defaults in {@link EXTERMINATION_LOG_DEFAULTS}. */
export interface ExterminationLogOptions {
  /** Past this size the file is rewritten with only the unfinished calls. */
  readonly maxBytes?: number;
  /** Flush each write to the disk, so that the log survives a machine crash, not only a process crash. */
  readonly fsync?: boolean;
}

/** The defaults of ExterminationLogOptions. */
export const EXTERMINATION_LOG_DEFAULTS = Object.freeze({ maxBytes: 64 * 1024, fsync: false });

/** A call an earlier incarnation started and did not see end. */
export interface UnfinishedCall {
  readonly clientId: Uint8Array;
  readonly epoch: bigint;
  readonly sequence: bigint;
  /** Where it was sent (`tcp://127.0.0.1:2049`); undefined when the transport had no address. */
  readonly server: string | undefined;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
}

const MAGIC = "once-extermination-log 1";

/** One session's extermination log. */
export class ExterminationLog {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #fsync: boolean;
  readonly #incarnation: string;
  /** This incarnation's calls in flight: sequence → their S line. */
  readonly #live = new Map<bigint, string>();
  #liveBytes = 0;
  #inherited: UnfinishedCall[];
  #fd = -1;
  #bytes = 0;
  #warned = false;

  /**
   * Opens (or creates) the log at `path` for the incarnation `identity`:
   * reads what earlier incarnations left unfinished, then rewrites the file
   * with only that, followed by this incarnation's header.
   */
  constructor(path: string, identity: SessionIdentity, options: ExterminationLogOptions = {}) {
    this.path = path;
    this.#maxBytes = options.maxBytes ?? EXTERMINATION_LOG_DEFAULTS.maxBytes;
    this.#fsync = options.fsync ?? EXTERMINATION_LOG_DEFAULTS.fsync;
    this.#incarnation = `C ${Buffer.from(identity.clientId).toString("hex")} ${identity.epoch}\n`;
    this.#inherited = readUnfinished(path);
    this.#rewrite();
  }

  /** The calls earlier incarnations left unfinished (until forgetUnfinished). */
  get unfinished(): readonly UnfinishedCall[] {
    return this.#inherited;
  }

  /** The file's size now, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A call is about to be sent. */
  started(
    sequence: bigint,
    server: string | undefined,
    call: { program: number; version: number; procedure: number },
  ): void {
    const line = `S ${sequence} ${call.program} ${call.version} ${call.procedure} ${encodeURIComponent(server ?? "")}\n`;
    this.#live.set(sequence, line);
    this.#liveBytes += line.length;
    this.#append(line);
  }

  /** A call settled (its reply came, or its caller gave up on it). */
  ended(sequence: bigint): void {
    const line = this.#live.get(sequence);
    if (line === undefined) return;
    this.#live.delete(sequence);
    this.#liveBytes -= line.length;
    // Rewrite when what is dead outweighs what is live, so that the cost stays linear.
    if (this.#bytes > this.#maxBytes && this.#bytes > 4 * this.#liveBytes) this.#rewrite();
    else this.#append(`E ${sequence}\n`);
  }

  /**
   * After exterminate(): `calls` (default: all) of the earlier incarnations
   * are dealt with; the file keeps the rest, and this incarnation's.
   */
  forgetUnfinished(calls: readonly UnfinishedCall[] = this.#inherited): void {
    const gone = new Set(calls);
    this.#inherited = this.#inherited.filter((c) => !gone.has(c));
    this.#rewrite();
  }

  /** Closes the file. */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #append(line: string): void {
    if (this.#fd < 0) return;
    try {
      this.#bytes += writeSync(this.#fd, line);
      if (this.#fsync) fsyncSync(this.#fd);
    } catch (error) {
      this.#warn(error);
    }
  }

  /** Writes the unfinished calls and this incarnation's live ones to a new file, and renames it over the log. */
  #rewrite(): void {
    let text = `${MAGIC}\n`;
    let header = "";
    for (const c of this.#inherited) {
      const h = `C ${Buffer.from(c.clientId).toString("hex")} ${c.epoch}\n`;
      if (h !== header) {
        header = h;
        text += h;
      }
      text += `S ${c.sequence} ${c.program} ${c.version} ${c.procedure} ${encodeURIComponent(c.server ?? "")}\n`;
    }
    text += this.#incarnation;
    for (const line of this.#live.values()) text += line;
    const temporary = `${this.path}.tmp`;
    try {
      const fd = openSync(temporary, "w");
      try {
        writeSync(fd, text);
        if (this.#fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.path);
      this.close();
      this.#fd = openSync(this.path, "a");
      this.#bytes = Buffer.byteLength(text);
    } catch (error) {
      this.#warn(error);
    }
  }

  #warn(error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    process.emitWarning(
      `the extermination log ${this.path} cannot be written (${(error as Error).message}): calls go on unlogged, and a restart will not find them`,
      { code: "ONCE_RPC_EXTERMINATION_LOG" },
    );
  }
}

/** The calls a log's file holds started and not ended; none when there is no file. */
export function readUnfinished(path: string): UnfinishedCall[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const lines = text.split("\n");
  if (lines[0] !== MAGIC)
    throw new Error(`${path} is not an extermination log (its first line is not "${MAGIC}")`);
  // A line without its newline was being written when the process died.
  lines.pop();
  const open = new Map<string, UnfinishedCall>();
  let clientId: Uint8Array | undefined;
  let clientKey = "";
  let epoch = 0n;
  for (const line of lines.slice(1)) {
    const f = line.split(" ");
    try {
      if (f[0] === "C" && f.length === 3 && /^[0-9a-f]{32}$/.test(f[1])) {
        clientKey = f[1];
        clientId = new Uint8Array(Buffer.from(f[1], "hex"));
        epoch = BigInt(f[2]);
      } else if (f[0] === "S" && f.length === 6 && clientId !== undefined) {
        const sequence = BigInt(f[1]);
        const server = decodeURIComponent(f[5]);
        open.set(`${clientKey}/${epoch}/${sequence}`, {
          clientId,
          epoch,
          sequence,
          server: server === "" ? undefined : server,
          program: Number(f[2]),
          version: Number(f[3]),
          procedure: Number(f[4]),
        });
      } else if (f[0] === "E" && f.length === 2) {
        open.delete(`${clientKey}/${epoch}/${BigInt(f[1])}`);
      }
    } catch {
      // A damaged line names no call we could kill; the others still can be.
    }
  }
  return [...open.values()];
}
