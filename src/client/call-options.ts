/**
 * What a call is and how it may be made: the options of a call and of a
 * channel, and the interface clients send their calls through.
 */
import type { CallTarget, ClientAuth, Semantics } from "../rpc/index.js";
import type { XdrCodec, XdrReaderOptions } from "../xdr/index.js";
import type { Deadline } from "./deadline.js";
import type { ClientSession } from "./session.js";

/** Per-call options. */
export interface CallOptions {
  /**
   * Fail with TIMEOUT when no reply came within this many ms. Default: the
   * channel's timeoutMs, unless a `deadline` is given.
   */
  readonly timeoutMs?: number;
  /**
   * A deadline the caller can move while it waits (createDeadline(ms), then
   * deadline.extend(ms)); a session server's handler sees it move too. With
   * timeoutMs as well, the earlier of the two ends the call.
   */
  readonly deadline?: Deadline;
  /**
   * Fail with ABORTED when this signal fires; a session server is told to
   * abort the handler's signal too (ONCE_CANCEL, best effort).
   */
  readonly signal?: AbortSignal;
  /**
   * The procedure may run more than once with the same effect: when the
   * connection is lost under the call, a client bound through a resolver
   * sends it again to another server. Default false: it fails with
   * CONNECTION_CLOSED, because the call may or may not have run.
   */
  readonly idempotent?: boolean;
  /**
   * How often the call may run (docs/semantics.md). Default: the
   * procedure's (withSemantics), else the channel's, else at-least-once
   * over UDP and maybe over TCP, as plain ONC RPC clients behave.
   */
  readonly semantics?: Semantics;
}

/** What a client sends its calls through: a Channel, or a ResolvingChannel choosing among servers. */
export interface CallChannel {
  /** Makes one call; resolves with its result or rejects with an RpcError. */
  call<Args, Result>(
    target: BoundProcedure<Args, Result>,
    args: Args,
    options?: CallOptions,
  ): Promise<Result>;
  /** Calls waiting for a reply (or for a connection). */
  readonly callsInFlight: number;
  /** Waits for calls in flight, then closes. New calls fail with CLIENT_CLOSED. */
  close(): Promise<void>;
  /** Fails calls in flight with CLIENT_CLOSED and closes now. */
  destroy(): void;
}

/** Options of a channel. Defaults in {@link CHANNEL_DEFAULTS}. */
export interface ChannelOptions {
  /** The credential flavor of every call. Default AUTH_NONE. */
  readonly auth?: ClientAuth;
  /** Default deadline of a call, from when it is made. */
  readonly timeoutMs?: number;
  /** A call that is sent again: the first time after this long, then doubling up to retransmitMaxMs. */
  readonly retransmitInitialMs?: number;
  readonly retransmitMaxMs?: number;
  /** The semantics of calls that neither the call nor the procedure chooses. */
  readonly semantics?: Semantics;
  /**
   * The session calls carry their identity in: `true` for the process's
   * session, or one of your own (createSession). Without it, only calls
   * whose semantics needs a session use one (the process's).
   */
  readonly session?: ClientSession | boolean;
  /** Limits when decoding results (maxLength, maxDepth, string encoding, copyOpaque). */
  readonly reader?: XdrReaderOptions;
}

/** The defaults of ChannelOptions. */
export const CHANNEL_DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  retransmitInitialMs: 500,
  retransmitMaxMs: 8_000,
});

/** A procedure bound to its program version: what a call needs besides its arguments. */
export interface BoundProcedure<Args, Result> extends CallTarget {
  readonly args: XdrCodec<Args>;
  readonly result: XdrCodec<Result>;
  /** The procedure's default semantics (withSemantics). */
  readonly semantics?: Semantics;
  /** Running it twice has the effect of running it once (withSemantics). */
  readonly idempotent?: boolean;
  /** An exactly-once call sent again after the client's restart: the sequence it had (`client.$resume`). */
  readonly resumeSequence?: bigint;
}
