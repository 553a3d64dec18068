/**
 * Serving one call message (RFC 5531 §9): header, auth, program, version,
 * procedure, arguments, handler, reply. Every failure becomes the reply the
 * RFC gives it; a message too malformed to answer is reported to the caller
 * of `dispatch`, who closes that one connection or drops that one datagram.
 */
import {
  AcceptStat,
  AuthError,
  AuthStat,
  callScopesWanted,
  createCallHeader,
  MsgType,
  type OpaqueAuth,
  ProgramMismatchError,
  RPC_VERSION_2,
  RpcError,
  readCallBody,
  readMessageStart,
  runInCallScope,
  type ServerAuth,
  writeAcceptedReply,
  writeAuthError,
  writeProgramMismatch,
  writeRpcMismatch,
} from "../rpc/index.js";
import type { ServerConnection } from "../transport/index.js";
import { XdrReader, type XdrReaderOptions, XdrWriter } from "../xdr/index.js";
import { Context, type SignalSource } from "./call-context.js";
import type { CompletionStore } from "./completion-store.js";
import type { ServedProcedure } from "./implementation.js";
import type { Logger } from "./logger.js";
import { NoReply } from "./no-reply.js";
import type { CallLife, OrphanRegistry } from "./orphans.js";
import { CacheLookup, checksum, type ReplyCache, sendReply } from "./reply-cache.js";

/** What the dispatcher keeps for calls that must not run twice. */
export interface SemanticsStores {
  /** At-most-once calls' replies; none: at-most-once runs as maybe. */
  readonly replyCache?: ReplyCache;
  /** Exactly-once calls' durable completion records; none: exactly-once is refused. */
  readonly completionStore?: CompletionStore;
  /** Session calls' deadlines and lives, for the control program (orphans.ts); none: no deadlines. */
  readonly orphans?: OrphanRegistry;
}

/** How one call is kept from running twice, while it runs. */
interface Guard {
  /** The reply cache key (at-most-once). */
  readonly cacheKey?: string;
  /** The client and sequence of an exactly-once call. */
  readonly clientKey?: string;
  readonly sequence?: bigint;
}

/** One served program version. */
interface ServedVersion {
  readonly procedures: Map<number, ServedProcedure>;
}

/** One served program: its versions and the range PROG_MISMATCH reports. */
interface ServedProgram {
  readonly versions: Map<number, ServedVersion>;
  low: number;
  high: number;
  /** Listed by programs() (false for the control program, which binders need not know). */
  listed: boolean;
}

/** What dispatch tells its caller about a message. */
export const Dispatched = {
  /** Answered at once (or ignored: not a call). */
  DONE: 0,
  /** A handler is running; `onReplied` will be called. */
  PENDING: 1,
  /** Too malformed to answer: close the connection or drop the datagram. */
  MALFORMED: 2,
} as const;
export type Dispatched = (typeof Dispatched)[keyof typeof Dispatched];

/** The connection-side state dispatch needs. */
export interface CallSource extends SignalSource {
  readonly connection: ServerConnection;
  /** Called when a PENDING call has sent its reply (or given up). */
  onReplied(): void;
}

/** Programs and their handlers, and the code that serves a call message. */
export class Dispatcher {
  readonly #programs = new Map<number, ServedProgram>();
  readonly #auth: Map<number, ServerAuth>;
  readonly #logger: Logger;
  readonly #reader: XdrReader;
  readonly #writer = new XdrWriter();
  readonly #header = createCallHeader();
  readonly #replyCache: ReplyCache | undefined;
  readonly #completionStore: CompletionStore | undefined;
  readonly #orphans: OrphanRegistry | undefined;
  /** Exactly-once calls running now (client#sequence), with the connections their duplicates came on. */
  readonly #running = new Map<string, ServerConnection[]>();

  constructor(
    auth: readonly ServerAuth[],
    logger: Logger,
    readerOptions: XdrReaderOptions | undefined,
    stores: SemanticsStores = {},
  ) {
    this.#replyCache = stores.replyCache;
    this.#completionStore = stores.completionStore;
    this.#orphans = stores.orphans;
    this.#auth = new Map(auth.map((a) => [a.flavor, a]));
    this.#logger = logger;
    this.#reader = new XdrReader(new Uint8Array(0), readerOptions);
  }

  /** Adds a program version; a version served twice is an error. Unlisted ones are left out of programs(). */
  add(program: number, version: number, procedures: Map<number, ServedProcedure>, listed = true): void {
    let served = this.#programs.get(program);
    if (served === undefined) {
      served = { versions: new Map(), low: version, high: version, listed };
      this.#programs.set(program, served);
    }
    if (served.versions.has(version))
      throw new Error(`program ${program} version ${version} is already served`);
    served.versions.set(version, { procedures });
    served.low = Math.min(served.low, version);
    served.high = Math.max(served.high, version);
  }

  /** The program versions served, as [program, version] pairs. */
  programs(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const [program, served] of this.#programs)
      if (served.listed) for (const version of served.versions.keys()) out.push([program, version]);
    return out;
  }

  /** Serves one message from `source`. */
  dispatch(bytes: Uint8Array, source: CallSource): Dispatched {
    const r = this.#reader;
    const h = this.#header;
    try {
      r.reset(bytes);
      // A REPLY on a server connection would be a callback's; we make none yet, so it is ignored.
      if (readMessageStart(r, h) !== MsgType.CALL) return Dispatched.DONE;
      readCallBody(r, h);
    } catch {
      return Dispatched.MALFORMED;
    }
    const conn = source.connection;
    const xid = h.xid;
    if (h.rpcVersion !== RPC_VERSION_2) return this.#send(conn, writeRpcMismatch, xid, 0);
    const auth = this.#auth.get(h.credential.flavor);
    if (auth === undefined) return this.#send(conn, writeAuthError, xid, AuthStat.AUTH_REJECTEDCRED);
    const verdict = auth.authenticate(h.credential, h.verifier);
    if (!verdict.ok) return this.#send(conn, writeAuthError, xid, verdict.stat);
    const verifier = verdict.verifier ?? null;
    const program = this.#programs.get(h.program);
    if (program === undefined) return this.#sendStat(conn, xid, verifier, AcceptStat.PROG_UNAVAIL);
    const version = program.versions.get(h.version);
    if (version === undefined) {
      const w = this.#start(conn);
      writeProgramMismatch(w, xid, program.low, program.high);
      return this.#flush(conn);
    }
    const served = version.procedures.get(h.procedure);
    if (served === undefined) {
      // RFC 5531 §12.1: procedure 0 of every version takes and returns nothing.
      if (h.procedure === 0) return this.#sendStat(conn, xid, verifier, AcceptStat.SUCCESS);
      return this.#sendStat(conn, xid, verifier, AcceptStat.PROC_UNAVAIL);
    }
    const argStart = r.offset;
    let args: unknown;
    try {
      args = served.descriptor.args.decode(r);
    } catch {
      return this.#sendStat(conn, xid, verifier, AcceptStat.GARBAGE_ARGS);
    }
    const session = verdict.session;
    const semantics = session?.semantics ?? served.descriptor.semantics ?? "maybe";
    // A call sent again shows that its owner lives: a gentle reincarnation spares it.
    if (session !== undefined) this.#orphans?.touch(session);
    let guard: Guard | undefined;
    if (semantics === "at-most-once" && this.#replyCache !== undefined) {
      const caller = session?.clientKey ?? peerKey(conn);
      const sum = checksum(bytes, argStart, r.offset);
      const cacheKey = `${caller}|${xid}|${h.program}|${h.version}|${h.procedure}|${sum}`;
      if (this.#replyCache.begin(cacheKey, conn) === CacheLookup.ANSWERED) return Dispatched.DONE;
      guard = { cacheKey };
    } else if (semantics === "exactly-once" && session !== undefined) {
      const store = this.#completionStore;
      if (store === undefined || session.sequence === 0n) {
        this.#logger.warn(
          `${served.label}: an exactly-once call without ${store ? "a sequence" : "a completion store"}; replied SYSTEM_ERR`,
        );
        return this.#sendStat(conn, xid, verifier, AcceptStat.SYSTEM_ERR);
      }
      const standing = store.acknowledge(session.clientKey, session.firstIncomplete, session.sequence);
      // Its lease ran out and records it never acknowledged are gone: running the call could run it twice.
      // AUTH_REJECTEDCRED is RFC 5531's "begin a new session"; the client reports SESSION_EXPIRED.
      if (standing === "expired") return this.#send(conn, writeAuthError, xid, AuthStat.AUTH_REJECTEDCRED);
      // A late duplicate of a call whose reply the client has already had: nobody waits for it.
      if (standing === "stale") return Dispatched.DONE;
      const recorded = store.find(session.clientKey, session.sequence);
      if (recorded !== undefined) {
        sendReply(conn, withXid(recorded, xid));
        return Dispatched.DONE;
      }
      const runKey = `${session.clientKey}#${session.sequence}`;
      const waiters = this.#running.get(runKey);
      if (waiters !== undefined) {
        if (conn.kind === "stream") waiters.push(conn);
        return Dispatched.DONE;
      }
      this.#running.set(runKey, []);
      guard = { clientKey: session.clientKey, sequence: session.sequence };
    }
    const handler = served.handler;
    if (handler === undefined) return this.#reply(conn, xid, verifier, served, null, guard);
    let life: CallLife | undefined;
    const orphans = this.#orphans;
    if (
      session !== undefined &&
      orphans !== undefined &&
      (session.timeoutMs > 0 || session.sequence !== 0n)
    ) {
      life = orphans.begin(session, source, Date.now());
    }
    const context = new Context(
      conn.peer,
      verdict.credentials,
      xid,
      h.program,
      h.version,
      h.procedure,
      served.descriptor.name,
      source,
      session,
      semantics,
      life,
    );
    if (guard?.sequence !== undefined) {
      context.commitWith = (fn) => this.#commit(context, fn, xid, verifier, served, guard);
    }
    let result: unknown;
    try {
      // Outgoing calls the handler makes inherit its deadline and signal (docs/semantics.md). Only
      // session calls: on Node 20 AsyncLocalStorage slows every promise of the process once used.
      result =
        life !== undefined && callScopesWanted()
          ? runInCallScope(context, handler, args, context)
          : handler(args, context);
    } catch (error) {
      if (life !== undefined) orphans?.end(life);
      return this.#failed(conn, xid, verifier, served, error, guard);
    }
    if (!isPromiseLike(result)) {
      if (life !== undefined) orphans?.end(life);
      return this.#reply(conn, xid, verifier, served, result, guard, context);
    }
    result.then(
      (value) => {
        if (life !== undefined) orphans?.end(life);
        this.#reply(conn, xid, verifier, served, value, guard, context);
        source.onReplied();
      },
      (error: unknown) => {
        if (life !== undefined) orphans?.end(life);
        this.#failed(conn, xid, verifier, served, error, guard);
        source.onReplied();
      },
    );
    return Dispatched.PENDING;
  }

  /**
   * `ctx.commit(fn)` of an exactly-once call: fn's writes, the encoded reply
   * and the completion record in one transaction of the store.
   */
  #commit<R>(
    context: Context,
    fn: (database: unknown) => R,
    xid: number,
    verifier: OpaqueAuth | null,
    served: ServedProcedure,
    guard: Guard,
  ): R {
    const store = this.#completionStore as CompletionStore;
    if (context.committed !== undefined)
      throw new Error(`${served.label}: ctx.commit() may be called once per call`);
    return store.transaction(() => {
      const result = fn(store.database);
      const w = this.#writer;
      w.reset();
      writeAcceptedReply(w, xid, verifier, AcceptStat.SUCCESS);
      served.descriptor.result.encode(w, result);
      const reply = w.bytes();
      store.record(guard.clientKey as string, guard.sequence as bigint, reply);
      context.committed = reply;
      return result;
    });
  }

  #reply(
    conn: ServerConnection,
    xid: number,
    verifier: OpaqueAuth | null,
    served: ServedProcedure,
    result: unknown,
    guard?: Guard,
    context?: Context,
  ): Dispatched {
    if (context?.committed !== undefined) {
      // ctx.commit() recorded the reply with the call's effects: send what was recorded.
      return this.#finish(conn, withXid(context.committed, xid), guard);
    }
    if (guard?.sequence !== undefined) {
      // An exactly-once handler that made no writes through ctx.commit(): record its reply now.
      const w = this.#writer;
      w.reset();
      writeAcceptedReply(w, xid, verifier, AcceptStat.SUCCESS);
      try {
        served.descriptor.result.encode(w, result);
      } catch (error) {
        this.#logger.error(`${served.label}: the handler's result does not encode; replied SYSTEM_ERR`, {
          error,
        });
        return this.#sendStat(conn, xid, verifier, AcceptStat.SYSTEM_ERR, guard);
      }
      const reply = w.bytes();
      try {
        (this.#completionStore as CompletionStore).record(guard.clientKey as string, guard.sequence, reply);
      } catch (error) {
        this.#logger.error(`${served.label}: the completion record was not written; replied SYSTEM_ERR`, {
          error,
        });
        this.#running.delete(`${guard.clientKey}#${guard.sequence}`);
        return this.#sendStat(conn, xid, verifier, AcceptStat.SYSTEM_ERR);
      }
      return this.#finish(conn, reply, guard);
    }
    const w = this.#start(conn);
    writeAcceptedReply(w, xid, verifier, AcceptStat.SUCCESS);
    try {
      served.descriptor.result.encode(w, result);
    } catch (error) {
      this.#logger.error(`${served.label}: the handler's result does not encode; replied SYSTEM_ERR`, {
        error,
      });
      return this.#sendStat(conn, xid, verifier, AcceptStat.SYSTEM_ERR, guard);
    }
    if (w.length - conn.headroomBytes > conn.maxMessageBytes) {
      this.#logger.error(
        `${served.label}: a ${w.length - conn.headroomBytes}-byte reply exceeds the transport's ${conn.maxMessageBytes}; replied SYSTEM_ERR`,
      );
      return this.#sendStat(conn, xid, verifier, AcceptStat.SYSTEM_ERR, guard);
    }
    return this.#flush(conn, guard);
  }

  /**
   * A handler threw: NoReply sends nothing; an RpcError that names a reply is
   * sent as that reply; anything else is SYSTEM_ERR, logged.
   */
  #failed(
    conn: ServerConnection,
    xid: number,
    verifier: OpaqueAuth | null,
    served: ServedProcedure,
    error: unknown,
    guard?: Guard,
  ): Dispatched {
    if (guard?.sequence !== undefined) {
      // Nothing was committed: the call did not happen, and a retransmission may run it.
      this.#abandon(guard);
      guard = undefined;
    }
    if (error instanceof NoReply) {
      if (guard?.cacheKey !== undefined) this.#replyCache?.abandon(guard.cacheKey);
      return Dispatched.DONE;
    }
    if (error instanceof AuthError) return this.#send(conn, writeAuthError, xid, error.authStat);
    if (error instanceof ProgramMismatchError) {
      writeProgramMismatch(this.#start(conn), xid, error.low, error.high);
      return this.#flush(conn, guard);
    }
    if (error instanceof RpcError) {
      const stat = HANDLER_STATS[error.code];
      if (stat !== undefined) return this.#sendStat(conn, xid, verifier, stat, guard);
    }
    this.#logger.error(`${served.label}: the handler threw; replied SYSTEM_ERR`, { error });
    return this.#sendStat(conn, xid, verifier, AcceptStat.SYSTEM_ERR, guard);
  }

  #sendStat(
    conn: ServerConnection,
    xid: number,
    verifier: OpaqueAuth | null,
    stat: AcceptStat,
    guard?: Guard,
  ): Dispatched {
    const w = this.#start(conn);
    writeAcceptedReply(w, xid, verifier, stat);
    return this.#flush(conn, guard);
  }

  /** Sends a recorded exactly-once reply and releases the duplicates that waited for it. */
  #finish(conn: ServerConnection, reply: Uint8Array, guard: Guard | undefined): Dispatched {
    sendReply(conn, reply);
    if (guard?.sequence !== undefined) {
      const runKey = `${guard.clientKey}#${guard.sequence}`;
      const waiters = this.#running.get(runKey);
      this.#running.delete(runKey);
      if (waiters !== undefined) for (const w of waiters) sendReply(w, reply);
    }
    return Dispatched.DONE;
  }

  #abandon(guard: Guard): void {
    this.#running.delete(`${guard.clientKey}#${guard.sequence}`);
  }

  #send(
    conn: ServerConnection,
    write: (w: XdrWriter, xid: number, stat: number) => void,
    xid: number,
    stat: number,
  ): Dispatched {
    write(this.#start(conn), xid, stat);
    return this.#flush(conn);
  }

  #start(conn: ServerConnection): XdrWriter {
    const w = this.#writer;
    w.reset();
    if (conn.headroomBytes > 0) w.writeUnsignedInt(0); // the record mark goes here
    return w;
  }

  #flush(conn: ServerConnection, guard?: Guard): Dispatched {
    const w = this.#writer;
    if (guard?.cacheKey !== undefined) {
      // At-most-once: keep the reply (without the record mark) for duplicates.
      this.#replyCache?.complete(guard.cacheKey, w.bytes().subarray(conn.headroomBytes));
    }
    conn.send(w.detach(), w.length);
    return Dispatched.DONE;
  }
}

/** A plain caller's identity for the reply cache: its address (a TCP caller's changes when it reconnects). */
function peerKey(conn: ServerConnection): string {
  const p = conn.peer;
  return p.protocol === "unix" ? `unix:${p.path}` : `${p.protocol}:${p.host}:${p.port}`;
}

/** A recorded reply with the xid of the call it now answers (a restarted client sends new xids). */
function withXid(reply: Uint8Array, xid: number): Uint8Array {
  const copy = reply.slice();
  new DataView(copy.buffer, copy.byteOffset, 4).setUint32(0, xid);
  return copy;
}

/** The replies a handler may choose by throwing an RpcError with these codes. */
const HANDLER_STATS: Partial<Record<string, AcceptStat>> = {
  PROG_UNAVAIL: AcceptStat.PROG_UNAVAIL,
  PROC_UNAVAIL: AcceptStat.PROC_UNAVAIL,
  GARBAGE_ARGS: AcceptStat.GARBAGE_ARGS,
  SYSTEM_ERR: AcceptStat.SYSTEM_ERR,
};

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}
