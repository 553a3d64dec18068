/** What a handler knows about the call it serves. */
import type { CallScope, Credentials, Semantics, SessionInfo } from "../rpc/index.js";
import type { Peer } from "../transport/index.js";
import type { CallLife } from "./orphans.js";

/** The context passed to every handler beside its arguments. */
export interface CallContext {
  /** Who called, and over which protocol. */
  readonly peer: Peer;
  /** The caller's credentials, as its auth flavor checked them. */
  readonly credentials: Credentials;
  readonly xid: number;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  /** The procedure's name in the .x file. */
  readonly procedureName: string;
  /**
   * Fires when the call is abandoned, with an RpcError as its reason:
   * CONNECTION_CLOSED when the connection closes (except for a session call
   * with a deadline, which outlives its connection: the client may send it
   * again on another) or the server is destroyed; for session calls, TIMEOUT
   * at the deadline, ABORTED when the client cancels it or it is an orphan
   * of a client that restarted (docs/semantics.md, "Orphans"). Outgoing
   * calls made by the handler inherit it.
   */
  readonly signal: AbortSignal;
  /**
   * When the client stops waiting, in ms since the epoch (Date.now()), from
   * the timeout its session credential carried; it moves when the client
   * extends it. Undefined: no deadline (a plain call, or a session call
   * without one). Outgoing calls made by the handler inherit it.
   */
  readonly deadline: number | undefined;
  /** The caller's session, when it called in the session flavor (docs/semantics.md). */
  readonly session: SessionInfo | undefined;
  /** The semantics the call runs under: the session's choice, else the procedure's. */
  readonly semantics: Semantics;
  /**
   * Exactly-once calls: runs `fn` with the completion store's database in
   * one transaction with the call's completion record, so that the call's
   * effects and the record of its reply commit together or not at all. `fn`
   * is synchronous and returns the call's result, which the handler returns
   * too. Throws for calls that are not exactly-once.
   */
  commit<R, Database = unknown>(fn: (database: Database) => R): R;
}

/** The source of a connection's AbortSignal, made only when a handler asks for it. */
export interface SignalSource {
  signal(): AbortSignal;
}

/** @internal one call's context; the signal is the connection's (or the call's own life's), created on first use. */
export class Context implements CallContext, CallScope {
  readonly peer: Peer;
  readonly credentials: Credentials;
  readonly xid: number;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  readonly procedureName: string;
  readonly session: SessionInfo | undefined;
  readonly semantics: Semantics;
  readonly #signals: SignalSource;
  /** A session call's deadline and own signal (orphans.ts). */
  readonly #life: CallLife | undefined;
  /** Set by the dispatcher for exactly-once calls. */
  commitWith: ((fn: (database: unknown) => unknown) => unknown) | undefined;
  /** The reply ctx.commit() recorded. */
  committed: Uint8Array | undefined;

  constructor(
    peer: Peer,
    credentials: Credentials,
    xid: number,
    program: number,
    version: number,
    procedure: number,
    procedureName: string,
    signals: SignalSource,
    session?: SessionInfo,
    semantics: Semantics = "maybe",
    life?: CallLife,
  ) {
    this.peer = peer;
    this.credentials = credentials;
    this.xid = xid;
    this.program = program;
    this.version = version;
    this.procedure = procedure;
    this.procedureName = procedureName;
    this.#signals = signals;
    this.session = session;
    this.semantics = semantics;
    this.#life = life;
  }

  commit<R, Database = unknown>(fn: (database: Database) => R): R {
    if (this.commitWith === undefined) {
      throw new Error(
        `${this.procedureName}: ctx.commit() is for exactly-once calls, and this one is ${this.semantics}`,
      );
    }
    return this.commitWith(fn as (database: unknown) => unknown) as R;
  }

  get signal(): AbortSignal {
    return this.#life === undefined ? this.#signals.signal() : this.#life.signal();
  }

  get deadline(): number | undefined {
    return this.#life?.deadline;
  }

  watchDeadline(listener: (deadline: number | undefined) => void): () => void {
    return this.#life === undefined ? noWatch : this.#life.watch(listener);
  }
}

function noWatch(): void {}
