/** What a handler knows about the call it serves. */
import type { Credentials } from "../rpc/index.js";
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
  readonly #signals: SignalSource;

  constructor(
    peer: Peer,
    credentials: Credentials,
    xid: number,
    program: number,
    version: number,
    procedure: number,
    procedureName: string,
    signals: SignalSource,
  ) {
    this.peer = peer;
    this.credentials = credentials;
    this.xid = xid;
    this.program = program;
    this.version = version;
    this.procedure = procedure;
    this.procedureName = procedureName;
    this.#signals = signals;
  }

  get signal(): AbortSignal {
    return this.#signals.signal();
  }
}
