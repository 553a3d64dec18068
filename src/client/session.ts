/**
 * A client's session: its identity (client id, epoch) and the numbering of
 * the calls that need one, for the session flavor (docs/semantics.md).
 * Every channel of a process shares one session unless told otherwise, so
 * that a server sees one caller however many connections it opens.
 */
import { randomBytes } from "node:crypto";
import type { SessionIdentity } from "../rpc/index.js";
import { ExterminationLog, type ExterminationLogOptions } from "./extermination-log.js";

/** Options of createSession. */
export interface SessionOptions {
  /** 16 bytes; default random. Keep it (with a state file) to stay the same client across restarts. */
  readonly clientId?: Uint8Array;
  /** The incarnation; default 1. A restarted client counts up, and servers abort what older epochs run. */
  readonly epoch?: bigint;
  /** The first sequence number to use; default 1. */
  readonly firstSequence?: bigint;
  /**
   * What a restarted session (epoch > 1) tells each server on its first
   * session call there (ONCE_REINCARNATE): the computations of its older
   * epochs are orphans. `graceMs` 0 (the default): the server kills them at
   * once; more: gently, after that long, unless their owner claims them
   * meanwhile. false: say nothing. docs/semantics.md, "Orphans".
   */
  readonly reincarnation?: false | { readonly graceMs?: number };
  /**
   * A file where each session call is logged before it is sent and its end
   * when it settles, so that after a restart `exterminate(session)` can have
   * the servers kill what the previous incarnation left running.
   */
  readonly exterminationLog?: string | ({ readonly path: string } & ExterminationLogOptions);
  /**
   * Exactly-once calls an earlier incarnation started and did not see end
   * (read from a session file, session-file.ts): they stay outstanding, so
   * that first_incomplete does not pass them and servers keep their
   * records, until they are resumed (`client.$resume`) or given up (`end`).
   */
  readonly unfinished?: readonly ResumableCall[];
}

/** An exactly-once call as a session file keeps it: enough to send it again, with its identity, after a restart. */
export interface ResumableCall {
  readonly sequence: bigint;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  /** The XDR of its arguments. */
  readonly args: Uint8Array;
}

/** Told when a call that needs an identity starts and ends: a durable log keeps these to survive restarts. */
export interface SessionCallLog {
  started(sequence: bigint, call: { program: number; version: number; procedure: number }): void;
  ended(sequence: bigint): void;
  /** An exactly-once call, encoded and about to be sent for the first time: its arguments, to resume it after a restart. */
  prepared?(call: ResumableCall): void;
}

/** A client's identity and the sequence numbers of its calls. */
export class ClientSession {
  readonly identity: SessionIdentity;
  #next: bigint;
  #low: bigint;
  readonly #outstanding = new Set<bigint>();
  #log: SessionCallLog | undefined;
  readonly #unfinished = new Map<bigint, ResumableCall>();
  readonly #reincarnation: { readonly graceMs: number } | undefined;
  readonly #exterminationLog: ExterminationLog | undefined;

  constructor(options: SessionOptions = {}) {
    this.identity = {
      clientId: options.clientId ?? new Uint8Array(randomBytes(16)),
      epoch: options.epoch ?? 1n,
    };
    if (this.identity.clientId.length !== 16) throw new RangeError("a session client id is 16 bytes");
    this.#next = options.firstSequence ?? 1n;
    this.#low = this.#next;
    for (const call of options.unfinished ?? []) {
      if (call.sequence >= this.#next)
        throw new RangeError("an unfinished call's sequence must be below firstSequence");
      this.#unfinished.set(call.sequence, call);
      this.#outstanding.add(call.sequence);
      if (call.sequence < this.#low) this.#low = call.sequence;
    }
    const reincarnation = options.reincarnation ?? {};
    this.#reincarnation =
      reincarnation === false || this.identity.epoch <= 1n
        ? undefined
        : { graceMs: Math.max(0, reincarnation.graceMs ?? 0) };
    const log = options.exterminationLog;
    if (log !== undefined) {
      this.#exterminationLog =
        typeof log === "string"
          ? new ExterminationLog(log, this.identity)
          : new ExterminationLog(log.path, this.identity, log);
    }
  }

  /** What the session announces to each server it calls (a restarted one), or undefined: nothing. */
  get reincarnation(): { readonly graceMs: number } | undefined {
    return this.#reincarnation;
  }

  /** The extermination log, when the session keeps one. */
  get exterminationLog(): ExterminationLog | undefined {
    return this.#exterminationLog;
  }

  /** clientId in hex. */
  get clientKey(): string {
    return Buffer.from(this.identity.clientId).toString("hex");
  }

  /** Every sequence below this has ended (its reply came, or the caller gave up). */
  get firstIncomplete(): bigint {
    return this.#low;
  }

  /** The next sequence number to be given out. */
  get nextSequence(): bigint {
    return this.#next;
  }

  /** Calls that have a sequence and have not ended. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /** The exactly-once calls an earlier incarnation left unfinished and nobody resumed or ended yet, oldest first. */
  unfinished(): ResumableCall[] {
    return [...this.#unfinished.values()];
  }

  /** Whether the log keeps exactly-once calls' arguments (the channel then hands them to `prepared`). */
  get keepsArguments(): boolean {
    return this.#log?.prepared !== undefined;
  }

  /** An exactly-once call is about to be sent for the first time: the log keeps its arguments. */
  prepared(call: ResumableCall): void {
    this.#log?.prepared?.(call);
  }

  /** Where starts and ends are written (a file-backed log for exactly-once across restarts). */
  setLog(log: SessionCallLog | undefined): void {
    this.#log = log;
  }

  /** Numbers a new call; `server` is where it goes, for the extermination log. */
  begin(call: { program: number; version: number; procedure: number }, server?: string): bigint {
    const sequence = this.#next++;
    this.#outstanding.add(sequence);
    this.#log?.started(sequence, call);
    this.#exterminationLog?.started(sequence, server, call);
    return sequence;
  }

  /** A numbered call has ended: its reply came, or it failed for good. */
  end(sequence: bigint): void {
    if (!this.#outstanding.delete(sequence)) return;
    this.#unfinished.delete(sequence);
    this.#log?.ended(sequence);
    this.#exterminationLog?.ended(sequence);
    while (this.#low < this.#next && !this.#outstanding.has(this.#low)) this.#low++;
  }
}

/** A new session. */
export function createSession(options: SessionOptions = {}): ClientSession {
  return new ClientSession(options);
}

let processSession: ClientSession | undefined;

/** The session every client in this process shares unless given its own. */
export function defaultSession(): ClientSession {
  processSession ??= new ClientSession();
  return processSession;
}
