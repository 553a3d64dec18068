/** What a handler knows about the call it serves. */
import type { Credentials, Semantics, SessionInfo } from "../rpc/index.js";
import type { Peer } from "../transport/index.js";

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
  /** Fires when the connection closes or the server is destroyed: the reply could not be delivered. */
  readonly signal: AbortSignal;
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

/** @internal one call's context; the signal is the connection's, created on first use. */
export class Context implements CallContext {
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
    return this.#signals.signal();
  }
}
