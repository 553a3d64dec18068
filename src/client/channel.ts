/**
 * A channel carries calls to one server over one transport: it numbers them
 * (xid), encodes each into one buffer, matches replies by xid in any order,
 * retransmits over datagrams, and fails each call with a typed error. Many
 * clients (programs, versions) can share one channel.
 */
import {
  AcceptStat,
  AuthError,
  authNone,
  type CallTarget,
  type ClientAuth,
  createReplyHeader,
  MsgType,
  ProgramMismatchError,
  RejectStat,
  ReplyStat,
  RpcError,
  RpcMismatchError,
  readMessageStart,
  readReplyBody,
  TimeoutError,
  writeCallHeader,
} from "../rpc/index.js";
import { type ClientTransport, formatAddress } from "../transport/index.js";
import { type XdrCodec, XdrError, XdrReader, type XdrReaderOptions, XdrWriter } from "../xdr/index.js";

/** Per-call options. */
export interface CallOptions {
  /** Fail with TIMEOUT when no reply came within this many ms. Default: the channel's timeoutMs. */
  readonly timeoutMs?: number;
  /** Fail with ABORTED when this signal fires. */
  readonly signal?: AbortSignal;
  /**
   * The procedure may run more than once with the same effect: when the
   * connection is lost under the call, a client bound through a resolver
   * sends it again to another server. Default false: it fails with
   * CONNECTION_CLOSED, because the call may or may not have run.
   */
  readonly idempotent?: boolean;
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
  /** Over datagrams: the first retransmission after this long, then doubling up to retransmitMaxMs. */
  readonly retransmitInitialMs?: number;
  readonly retransmitMaxMs?: number;
  /** Limits when decoding results (maxLength, maxDepth, string encoding, copyOpaque). */
  readonly reader?: XdrReaderOptions;
}

/** The defaults of ChannelOptions. */
export const CHANNEL_DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  retransmitInitialMs: 500,
  retransmitMaxMs: 8_000,
});

/** setTimeout keeps delays in a signed 32-bit int; longer ones would fire at once. */
const MAX_TIMER_MS = 0x7fff_ffff;

/** A procedure bound to its program version: what a call needs besides its arguments. */
export interface BoundProcedure<Args, Result> extends CallTarget {
  readonly args: XdrCodec<Args>;
  readonly result: XdrCodec<Result>;
}

/** One call waiting for its reply; also the OutgoingCall its credentials are written for. */
class PendingCall {
  readonly xid: number;
  readonly target: BoundProcedure<unknown, unknown>;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  readonly startedAt: number;
  readonly deadline: number;
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** The message, kept for retransmission over datagrams. */
  chunks: Uint8Array[] = NO_CHUNKS;
  length = 0;
  attempts = 0;
  connectMs = 0;
  retransmitAt = Number.POSITIVE_INFINITY;
  retransmitMs = 0;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;

  constructor(xid: number, target: BoundProcedure<unknown, unknown>, startedAt: number, deadline: number) {
    this.xid = xid;
    this.target = target;
    this.program = target.program;
    this.version = target.version;
    this.procedure = target.procedure;
    this.startedAt = startedAt;
    this.deadline = deadline;
  }
}

const NO_CHUNKS: Uint8Array[] = [];
function noop(): void {}

/** Calls to one server over one transport. */
export class Channel implements CallChannel {
  readonly transport: ClientTransport;
  readonly #auth: ClientAuth;
  readonly #timeoutMs: number;
  readonly #retransmitInitialMs: number;
  readonly #retransmitMaxMs: number;
  readonly #writer = new XdrWriter();
  readonly #reader: XdrReader;
  readonly #reply = createReplyHeader();
  readonly #pending = new Map<number, PendingCall>();
  /** Calls made while the transport was not connected, in order. */
  #waiting: PendingCall[] = [];
  #connecting = false;
  #nextXid = (Math.random() * 0x1_0000_0000) >>> 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #closed = false;

  constructor(transport: ClientTransport, options: ChannelOptions = {}) {
    if (transport.headroomBytes !== 0 && transport.headroomBytes !== 4) {
      throw new TypeError("a transport's headroom is 0 or 4 bytes (a record mark)");
    }
    this.transport = transport;
    this.#auth = options.auth ?? authNone;
    this.#timeoutMs = options.timeoutMs ?? CHANNEL_DEFAULTS.timeoutMs;
    this.#retransmitInitialMs = options.retransmitInitialMs ?? CHANNEL_DEFAULTS.retransmitInitialMs;
    this.#retransmitMaxMs = options.retransmitMaxMs ?? CHANNEL_DEFAULTS.retransmitMaxMs;
    this.#reader = new XdrReader(new Uint8Array(0), options.reader);
    transport.setEvents({
      message: (bytes) => this.#onMessage(bytes),
      closed: (error) => this.#onClosed(error),
    });
  }

  /** Calls waiting for a reply (or for a connection). */
  get callsInFlight(): number {
    return this.#pending.size;
  }

  /** Makes one call; resolves with its result or rejects with an RpcError. */
  call<Args, Result>(
    target: BoundProcedure<Args, Result>,
    args: Args,
    options?: CallOptions,
  ): Promise<Result> {
    if (this.#closed || this.#closing !== undefined) {
      return Promise.reject(
        new RpcError("CLIENT_CLOSED", `the client is closed (${target.label})`, { call: target }),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortedError(target, signal));
    const transport = this.transport;
    const now = Date.now();
    const timeoutMs = Math.min(options?.timeoutMs ?? this.#timeoutMs, MAX_TIMER_MS);
    const call = new PendingCall(
      this.#takeXid(),
      target as BoundProcedure<unknown, unknown>,
      now,
      now + timeoutMs,
    );
    const w = this.#writer;
    w.reset();
    if (transport.headroomBytes > 0) w.writeUnsignedInt(0); // the record mark goes here
    try {
      writeCallHeader(w, call, this.#auth);
      target.args.encode(w, args);
      call.chunks = w.detach();
    } catch (error) {
      const detail = error instanceof XdrError ? error.message : String(error);
      return Promise.reject(
        new RpcError("BAD_ARGS", `${target.label}: ${detail}`, { cause: error, call: target }),
      );
    }
    call.length = w.length;
    const bytes = call.length - transport.headroomBytes;
    if (bytes > transport.maxMessageBytes) {
      const hint = transport.kind === "datagram" ? " (a datagram: use TCP)" : "";
      return Promise.reject(
        new RpcError(
          "MESSAGE_TOO_LARGE",
          `${target.label}: a ${bytes}-byte call exceeds the transport's limit of ${transport.maxMessageBytes}${hint}`,
          { call: target },
        ),
      );
    }
    return new Promise<Result>((resolve, reject) => {
      call.resolve = resolve as (value: unknown) => void;
      call.reject = reject;
      this.#pending.set(call.xid, call);
      if (this.#pending.size === 1) {
        transport.ref();
        this.#timer?.ref();
      }
      if (signal !== undefined) {
        call.signal = signal;
        call.onAbort = () => this.#fail(call, abortedError(target, signal));
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      if (transport.connected) this.#send(call, now);
      else this.#waitForConnection(call);
      this.#arm(call.deadline);
    });
  }

  /** Waits for the calls in flight, then closes the transport. New calls fail with CLIENT_CLOSED. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#pending.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      this.#closed = true;
      this.#stopTimer();
      await this.transport.close();
    })();
    return this.#closing;
  }

  /** Fails every call in flight with CLIENT_CLOSED and drops the connection now. */
  destroy(): void {
    this.#closed = true;
    const error = new RpcError("CLIENT_CLOSED", "the client was destroyed");
    for (const call of [...this.#pending.values()]) this.#fail(call, withCall(error, call.target));
    this.#waiting = [];
    this.#stopTimer();
    this.transport.destroy();
  }

  #takeXid(): number {
    let xid = this.#nextXid;
    while (this.#pending.has(xid)) xid = (xid + 1) >>> 0;
    this.#nextXid = (xid + 1) >>> 0;
    return xid;
  }

  #send(call: PendingCall, now: number): void {
    try {
      this.transport.send(call.chunks, call.length);
    } catch (error) {
      this.#fail(call, error instanceof RpcError ? withCall(error, call.target) : error);
      return;
    }
    call.attempts++;
    if (this.transport.kind === "datagram") {
      call.retransmitMs =
        call.retransmitMs === 0
          ? this.#retransmitInitialMs
          : Math.min(call.retransmitMs * 2, this.#retransmitMaxMs);
      call.retransmitAt = now + call.retransmitMs;
      this.#arm(call.retransmitAt);
    }
  }

  #waitForConnection(call: PendingCall): void {
    this.#waiting.push(call);
    if (this.#connecting) return;
    this.#connecting = true;
    const started = Date.now();
    this.transport.connect().then(
      () => {
        this.#connecting = false;
        const now = Date.now();
        const waiting = this.#waiting;
        this.#waiting = [];
        for (const c of waiting) {
          if (this.#pending.get(c.xid) !== c) continue;
          c.connectMs = now - Math.max(started, c.startedAt);
          this.#send(c, now);
        }
      },
      (error: unknown) => {
        this.#connecting = false;
        const waiting = this.#waiting;
        this.#waiting = [];
        for (const c of waiting) {
          if (this.#pending.get(c.xid) !== c) continue;
          this.#fail(c, error instanceof RpcError ? withCall(error, c.target) : error);
        }
      },
    );
  }

  #onMessage(bytes: Uint8Array): void {
    const r = this.#reader;
    const reply = this.#reply;
    let call: PendingCall | undefined;
    try {
      r.reset(bytes);
      // A message too short for its header, or a CALL (callbacks come later), is not ours to answer.
      if (readMessageStart(r, reply) !== MsgType.REPLY) return;
      call = this.#pending.get(reply.xid);
      // A late or duplicated reply: its call is already settled.
      if (call === undefined) return;
      readReplyBody(r, reply);
    } catch (error) {
      if (call !== undefined) this.#fail(call, badReply(call.target, error));
      return;
    }
    const target = call.target;
    if (reply.replyStat === ReplyStat.MSG_ACCEPTED) {
      if (reply.verifier !== null && !this.#auth.checkReplyVerifier(reply.verifier, call)) {
        this.#fail(
          call,
          new RpcError("BAD_REPLY", `${target.label}: the reply's verifier does not check`, { call: target }),
        );
        return;
      }
      if (reply.stat === AcceptStat.SUCCESS) {
        let result: unknown;
        try {
          result = target.result.decode(r);
        } catch (error) {
          this.#fail(call, badReply(target, error));
          return;
        }
        this.#settle(call);
        call.resolve(result);
        return;
      }
      this.#fail(call, acceptedError(reply.stat, reply.low, reply.high, target, this.transport));
      return;
    }
    this.#fail(
      call,
      reply.stat === RejectStat.RPC_MISMATCH
        ? new RpcMismatchError(reply.low, reply.high, target)
        : new AuthError(reply.authStat, target),
    );
  }

  #onClosed(error: RpcError): void {
    // Calls sent on the lost connection cannot know whether they ran; calls still waiting for one can go on.
    const now = Date.now();
    for (const call of [...this.#pending.values()]) {
      if (call.attempts === 0) continue;
      if (this.transport.kind === "datagram" && error.code !== "CONNECT_FAILED") {
        call.retransmitAt = now; // a new socket, and send again
        continue;
      }
      this.#fail(call, withCall(error, call.target));
    }
    if (this.transport.kind === "datagram" && this.#pending.size > 0) this.#arm(now);
  }

  #settle(call: PendingCall): void {
    this.#pending.delete(call.xid);
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    if (this.#pending.size === 0) {
      this.transport.unref();
      // The timer stays set (one fewer timer per call when calls come one at a time); it
      // only stops keeping the process alive, and finds nothing to do if it fires.
      this.#timer?.unref();
      this.#drained?.();
    }
  }

  #fail(call: PendingCall, error: unknown): void {
    if (this.#pending.get(call.xid) !== call) return;
    this.#settle(call);
    call.reject(error);
  }

  /** One timer for the channel, set for the earliest deadline or retransmission. */
  #arm(at: number): void {
    if (at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(onTimer, Math.max(0, at - Date.now()), this);
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  /** @internal the timer fired: time out what is due, retransmit what is due, set the next time. */
  tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    let resend = false;
    for (const call of this.#pending.values()) {
      if (call.deadline <= now) {
        this.#fail(call, this.#timeoutError(call, now));
        continue;
      }
      if (call.retransmitAt <= now) resend = true;
      next = Math.min(next, call.deadline, call.retransmitAt);
    }
    if (resend) this.#retransmit(now);
    if (this.#pending.size > 0) this.#arm(next);
  }

  #retransmit(now: number): void {
    const due: PendingCall[] = [];
    for (const call of this.#pending.values())
      if (call.retransmitAt <= now && call.attempts > 0) due.push(call);
    if (!this.transport.connected) {
      for (const call of due) {
        call.retransmitAt = Number.POSITIVE_INFINITY;
        call.attempts = 0;
        this.#waitForConnection(call);
      }
      return;
    }
    for (const call of due) {
      this.#send(call, now);
      this.#arm(call.retransmitAt);
    }
  }

  #timeoutError(call: PendingCall, now: number): TimeoutError {
    const phase = call.attempts === 0 ? "connect" : this.transport.sendBlocked ? "send" : "reply";
    const connectMs = call.attempts === 0 ? now - call.startedAt : call.connectMs;
    return new TimeoutError(phase, call.attempts, now - call.startedAt, connectMs, call.target);
  }
}

function onTimer(channel: Channel): void {
  channel.tick();
}

/** @internal The error, naming the call it belongs to (a transport's errors name none). */
export function withCall(error: RpcError, call: CallTarget): RpcError {
  if (error.call !== undefined) return error;
  return new RpcError(error.code, `${error.message.slice(error.code.length + 2)} (${call.label})`, {
    cause: error.cause ?? error,
    call,
  });
}

function abortedError(target: CallTarget, signal: AbortSignal): RpcError {
  return new RpcError("ABORTED", `${target.label}: the call was aborted`, {
    cause: signal.reason,
    call: target,
  });
}

function badReply(target: CallTarget, error: unknown): RpcError {
  const detail = error instanceof Error ? error.message : String(error);
  return new RpcError("BAD_REPLY", `${target.label}: the reply does not decode: ${detail}`, {
    cause: error,
    call: target,
  });
}

function acceptedError(
  stat: number,
  low: number,
  high: number,
  target: CallTarget,
  transport: ClientTransport,
): RpcError {
  const at = transport.remote ? ` at ${formatAddress(transport.remote)}` : "";
  switch (stat) {
    case AcceptStat.PROG_UNAVAIL:
      return new RpcError("PROG_UNAVAIL", `${target.label}: the server${at} does not serve the program`, {
        call: target,
      });
    case AcceptStat.PROG_MISMATCH:
      return new ProgramMismatchError(low, high, target);
    case AcceptStat.PROC_UNAVAIL:
      return new RpcError(
        "PROC_UNAVAIL",
        `${target.label}: the server${at} has no procedure ${target.procedure}`,
        {
          call: target,
        },
      );
    case AcceptStat.GARBAGE_ARGS:
      return new RpcError("GARBAGE_ARGS", `${target.label}: the server${at} could not decode the arguments`, {
        call: target,
      });
    default:
      return new RpcError("SYSTEM_ERR", `${target.label}: the server${at} failed to run the procedure`, {
        call: target,
      });
  }
}
