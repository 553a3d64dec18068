/**
 * A channel carries calls to one server over one transport: it numbers them
 * (xid), encodes each into one buffer, matches replies by xid in any order,
 * sends them again as their semantics asks, and fails each call with a
 * typed error. Many clients (programs, versions) can share one channel.
 *
 * Calls whose semantics needs the server to know the caller (at-most-once,
 * exactly-once) go in the session flavor, once a NULL call in that flavor
 * (the probe) has shown that the server speaks it (docs/semantics.md).
 */
import {
  AcceptStat,
  AuthError,
  AuthStat,
  authNone,
  type CallTarget,
  type ClientAuth,
  createReplyHeader,
  currentCallScope,
  decodeSessionVerifier,
  isRpcError,
  MsgType,
  needsSession,
  ONCE_FEATURE_CONTROL,
  ONCE_FEATURE_EXACTLY_ONCE,
  OnceControlProgV1,
  type OpaqueAuth,
  RejectStat,
  ReplyStat,
  RpcError,
  RpcMismatchError,
  readMessageStart,
  readReplyBody,
  retransmits,
  type Semantics,
  type SessionFeatures,
  sessionAuth,
  TimeoutError,
  wantCallScopes,
  writeCallHeader,
} from "../rpc/index.js";
import { type ClientTransport, formatAddress } from "../transport/index.js";
import { XdrError, XdrReader, XdrWriter, xdrVoid } from "../xdr/index.js";
import { abortedError, acceptedError, badReply, withCall } from "./call-errors.js";
import {
  type BoundProcedure,
  type CallChannel,
  type CallOptions,
  CHANNEL_DEFAULTS,
  type ChannelOptions,
} from "./call-options.js";
import { CONTROL, CONTROL_TIMEOUT_MS } from "./control-procedures.js";
import { eitherSignal } from "./deadline.js";
import { PendingCall } from "./pending-call.js";
import { type ClientSession, defaultSession } from "./session.js";

/** setTimeout keeps delays in a signed 32-bit int; longer ones would fire at once. */
const MAX_TIMER_MS = 0x7fff_ffff;

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
  readonly #semantics: Semantics | undefined;
  readonly #sessionAlways: boolean;
  readonly #sessionOption: ClientSession | undefined;
  #session: ClientSession | undefined;
  #sessionAuth: ClientAuth | undefined;
  /** What the probe found: undefined before it answered. */
  #peer: SessionFeatures | false | undefined;
  #peerVerifier: Uint8Array | undefined;
  #probing = false;
  /** Calls waiting for the probe's answer before they are encoded. */
  #awaitingProbe: PendingCall[] = [];
  #warnedPlain = false;
  /** The server's address, for the extermination log; null until asked. */
  #server: string | undefined | null = null;

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
    this.#semantics = options.semantics;
    this.#sessionAlways = options.session !== undefined && options.session !== false;
    this.#sessionOption = typeof options.session === "object" ? options.session : undefined;
    // From now on, handlers in this process run in their call scope, which their outgoing calls inherit.
    wantCallScopes();
    transport.setEvents({
      message: (bytes) => this.#onMessage(bytes),
      closed: (error) => this.#onClosed(error),
    });
  }

  /** Calls waiting for a reply (or for a connection). */
  get callsInFlight(): number {
    return this.#pending.size;
  }

  /**
   * What the server said of the session flavor: its features and id, false
   * for a plain ONC RPC server, undefined while nobody asked.
   */
  get peerSession(): SessionFeatures | false | undefined {
    return this.#peer;
  }

  /** The session of this channel's session calls (the process's unless one was given). */
  get session(): ClientSession {
    this.#session ??= this.#sessionOption ?? defaultSession();
    return this.#session;
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
    const control = target.program === OnceControlProgV1.program;
    // Made inside a handler: the call inherits the served call's deadline and cancellation.
    const scope = control ? undefined : currentCallScope();
    let signal = options?.signal;
    if (scope !== undefined)
      signal = signal === undefined ? scope.signal : eitherSignal(signal, scope.signal);
    if (signal?.aborted) return Promise.reject(abortedError(target, signal));
    const now = Date.now();
    const own = options?.deadline;
    const timeoutMs = options?.timeoutMs ?? (own === undefined ? this.#timeoutMs : undefined);
    const fixedAt =
      timeoutMs === undefined ? Number.POSITIVE_INFINITY : now + Math.min(timeoutMs, MAX_TIMER_MS);
    let deadline = fixedAt;
    if (own !== undefined) deadline = Math.min(deadline, own.at);
    const parentDeadline = scope?.deadline;
    if (parentDeadline !== undefined) deadline = Math.min(deadline, parentDeadline);
    const call = new PendingCall(this.#takeXid(), target as BoundProcedure<unknown, unknown>, now, deadline);
    if (own !== undefined || scope !== undefined) {
      call.fixedAt = fixedAt;
      call.own = own;
      call.scope = scope;
    }
    const semantics =
      options?.semantics ??
      target.semantics ??
      this.#semantics ??
      (this.transport.kind === "datagram" ? "at-least-once" : "maybe");
    call.semantics = semantics;
    call.retransmits = retransmits(semantics);
    // A call resumed after the client's restart keeps its identity (session-file.ts).
    if (target.resumeSequence !== undefined) call.sequence = target.resumeSequence;
    call.inSession = !control && (this.#sessionAlways || needsSession(semantics));
    if (call.inSession && this.#peer === undefined) {
      // Whether the server speaks the session flavor is not known yet: ask, then encode.
      call.args = args;
      return this.#start(call, signal, now, false) as Promise<Result>;
    }
    const refused = this.#encode(call, args, now);
    if (refused !== undefined) return Promise.reject(refused);
    return this.#start(call, signal, now, true) as Promise<Result>;
  }

  /** Puts an encoded call (or one waiting for the probe) in flight. */
  #start(
    call: PendingCall,
    signal: AbortSignal | undefined,
    now: number,
    encoded: boolean,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
      this.#pending.set(call.xid, call);
      if (this.#pending.size === 1) {
        this.transport.ref();
        this.#timer?.ref();
      }
      if (signal !== undefined) {
        call.signal = signal;
        call.onAbort = () => {
          this.#cancelRemote(call);
          this.#fail(call, abortedError(call.target, signal));
        };
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      if (call.own !== undefined || call.scope !== undefined) this.#follow(call);
      if (!encoded) this.#awaitProbe(call);
      else if (this.transport.connected) this.#send(call, now);
      else this.#waitForConnection(call);
      this.#arm(call.deadline);
    });
  }

  /**
   * Writes the call's message: in the session flavor when the call needs it
   * and the server speaks it. Returns the error that refuses the call:
   * BAD_ARGS, MESSAGE_TOO_LARGE, or SEMANTICS_UNAVAILABLE (exactly-once from
   * a server that cannot give it).
   */
  #encode(call: PendingCall, args: unknown, now: number): RpcError | undefined {
    const transport = this.transport;
    const target = call.target;
    let auth = this.#auth;
    if (call.inSession) {
      const peer = this.#peer;
      if (peer === false || peer === undefined) {
        if (call.semantics === "exactly-once") {
          return unavailable(target, "the server is a plain ONC RPC server: it keeps no completion records");
        }
        if (call.semantics === "at-most-once") {
          // A plain server keeps no reply cache we can count on: send once, and say so.
          this.#warnPlain(target);
          call.semantics = "maybe";
          call.retransmits = false;
        }
        call.inSession = false;
      } else {
        if (call.semantics === "exactly-once" && (peer.features & ONCE_FEATURE_EXACTLY_ONCE) === 0) {
          return unavailable(target, "the server keeps no durable completion records (no completion store)");
        }
        try {
          auth = this.#sessionAuth ??= sessionAuth(this.session.identity, this.#auth);
        } catch (error) {
          return new RpcError("BAD_ARGS", `${target.label}: ${(error as Error).message}`, {
            cause: error,
            call: target,
          });
        }
        const session = this.session;
        // Every session call is numbered, so that the control program can name it (docs/semantics.md).
        if (call.sequence === 0n) call.sequence = session.begin(call, this.#serverAddress());
        call.firstIncomplete = session.firstIncomplete;
        call.timeoutMs = Math.max(1, call.deadline - now);
      }
    }
    const w = this.#writer;
    w.reset();
    if (transport.headroomBytes > 0) w.writeUnsignedInt(0); // the record mark goes here
    let refused: RpcError | undefined;
    let argsAt = 0;
    try {
      writeCallHeader(w, call, auth);
      argsAt = w.length;
      target.args.encode(w, args);
      call.chunks = w.detach();
      call.length = w.length;
      const bytes = call.length - transport.headroomBytes;
      if (bytes > transport.maxMessageBytes) {
        const hint = transport.kind === "datagram" ? " (a datagram: use TCP)" : "";
        refused = new RpcError(
          "MESSAGE_TOO_LARGE",
          `${target.label}: a ${bytes}-byte call exceeds the transport's limit of ${transport.maxMessageBytes}${hint}`,
          { call: target },
        );
      }
    } catch (error) {
      const detail = error instanceof XdrError ? error.message : String(error);
      refused = new RpcError("BAD_ARGS", `${target.label}: ${detail}`, { cause: error, call: target });
    }
    if (refused !== undefined && call.sequence !== 0n) this.session.end(call.sequence);
    else if (
      call.semantics === "exactly-once" &&
      call.sequence !== 0n &&
      target.resumeSequence === undefined &&
      this.session.keepsArguments
    ) {
      // Logged before its first send, so that a restarted client can send it again (session-file.ts).
      const message = call.chunks.length === 1 ? call.chunks[0] : Buffer.concat(call.chunks);
      this.session.prepared({
        sequence: call.sequence,
        program: call.program,
        version: call.version,
        procedure: call.procedure,
        args: message.subarray(argsAt, call.length),
      });
    }
    return refused;
  }

  /** Holds a call until the probe says whether the server speaks the session flavor; starts the probe. */
  #awaitProbe(call: PendingCall): void {
    this.#awaitingProbe.push(call);
    if (this.#probing) return;
    this.#probing = true;
    const now = Date.now();
    const target = call.target;
    const probe = new PendingCall(
      this.#takeXid(),
      {
        program: target.program,
        version: target.version,
        procedure: 0,
        label: `${target.label.replace(/ [^ ]*$/, "")} NULL (session probe)`,
        args: xdrVoid,
        result: xdrVoid,
      },
      now,
      call.deadline,
    );
    probe.probe = true;
    probe.inSession = true;
    probe.retransmits = true;
    probe.resolve = (features) => this.#probeDone(features as SessionFeatures | false);
    probe.reject = (error) => this.#probeDone(error instanceof RpcError ? error : undefined);
    try {
      this.#sessionAuth ??= sessionAuth(this.session.identity, this.#auth);
    } catch (error) {
      this.#probing = false;
      this.#awaitingProbe = [];
      this.#fail(
        call,
        new RpcError("BAD_ARGS", `${target.label}: ${(error as Error).message}`, { call: target }),
      );
      return;
    }
    const w = this.#writer;
    w.reset();
    if (this.transport.headroomBytes > 0) w.writeUnsignedInt(0);
    writeCallHeader(w, probe, this.#sessionAuth);
    probe.chunks = w.detach();
    probe.length = w.length;
    this.#pending.set(probe.xid, probe);
    if (this.transport.connected) this.#send(probe, now);
    else this.#waitForConnection(probe);
    this.#arm(probe.deadline);
  }

  /** The probe answered (features, or false for a plain server) or failed (an error): the held calls go on. */
  #probeDone(outcome: SessionFeatures | false | RpcError | undefined): void {
    this.#probing = false;
    const waiting = this.#awaitingProbe;
    this.#awaitingProbe = [];
    if (outcome === undefined || outcome instanceof RpcError) {
      const now = Date.now();
      for (const c of waiting) {
        if (this.#pending.get(c.xid) !== c) continue;
        // A probe that timed out stops only the calls whose time is up; the others ask again.
        if (outcome?.code === "TIMEOUT" && c.deadline > now) this.#awaitProbe(c);
        else
          this.#fail(
            c,
            outcome === undefined
              ? new RpcError("BAD_REPLY", `${c.target.label}: the session probe failed`)
              : withCall(outcome, c.target),
          );
      }
      return;
    }
    this.#peer = outcome;
    if (outcome !== false) this.#announce(outcome);
    const now = Date.now();
    for (const c of waiting) {
      if (this.#pending.get(c.xid) !== c) continue;
      const args = c.args;
      c.args = undefined;
      const refused = this.#encode(c, args, now);
      if (refused !== undefined) this.#fail(c, refused);
      else if (this.transport.connected) this.#send(c, now);
      else this.#waitForConnection(c);
    }
  }

  /** Follows the call's movable deadlines: its own and the served call's it was made in. */
  #follow(call: PendingCall): void {
    const own = call.own?.watch(() => this.#moved(call));
    const parent = call.scope?.watchDeadline(() => void this.#moved(call));
    call.unwatch = () => {
      own?.();
      parent?.();
    };
  }

  /**
   * A deadline the call follows moved: the call's deadline is the earliest
   * again, and a session server is told (ONCE_EXTEND). Resolves with the
   * computations the server extended.
   */
  #moved(call: PendingCall): Promise<number> | undefined {
    if (this.#pending.get(call.xid) !== call) return undefined;
    let at = call.fixedAt;
    if (call.own !== undefined) at = Math.min(at, call.own.at);
    const parent = call.scope?.deadline;
    if (parent !== undefined) at = Math.min(at, parent);
    call.deadline = at;
    this.#arm(at);
    if (!this.#controls(call)) return undefined;
    const timeoutMs = Math.min(MAX_TIMER_MS, Math.max(1, at - Date.now()));
    return this.#control(CONTROL.extend, { call: this.#ref(call), timeout_ms: timeoutMs }).then(
      (res) => res.affected,
      () => 0,
    );
  }

  /** The caller aborted the call: a session server is told to abort its handler (ONCE_CANCEL, best effort). */
  #cancelRemote(call: PendingCall): void {
    if (this.#controls(call)) this.#control(CONTROL.cancel, this.#ref(call)).catch(noop);
  }

  /** A restarted session tells the server that its older epochs' calls are orphans (ONCE_REINCARNATE). */
  #announce(peer: SessionFeatures): void {
    const reincarnation = this.session.reincarnation;
    if (reincarnation === undefined || (peer.features & ONCE_FEATURE_CONTROL) === 0) return;
    const { clientId, epoch } = this.session.identity;
    this.#control(CONTROL.reincarnate, {
      client_id: clientId,
      epoch,
      gentle: reincarnation.graceMs > 0,
      grace_ms: Math.min(reincarnation.graceMs, 0xffff_ffff),
    }).catch(noop);
  }

  /** Whether the server can be told about this call: a session call it has had, on a server with the control program. */
  #controls(call: PendingCall): boolean {
    const peer = this.#peer;
    return (
      call.inSession &&
      call.sequence !== 0n &&
      call.attempts > 0 &&
      peer !== undefined &&
      peer !== false &&
      (peer.features & ONCE_FEATURE_CONTROL) !== 0
    );
  }

  #ref(call: PendingCall): { client_id: Uint8Array; epoch: bigint; sequence: bigint } {
    const { clientId, epoch } = this.session.identity;
    return { client_id: clientId, epoch, sequence: call.sequence };
  }

  /** A control call: plain (never in the session), sent again until answered, short. */
  #control<A, R>(procedure: BoundProcedure<A, R>, args: A): Promise<R> {
    return this.call(procedure, args, {
      semantics: "at-least-once",
      timeoutMs: Math.min(this.#timeoutMs, CONTROL_TIMEOUT_MS),
    });
  }

  #serverAddress(): string | undefined {
    if (this.#server === null) {
      const remote = this.transport.remote;
      this.#server = remote === undefined ? undefined : formatAddress(remote);
    }
    return this.#server;
  }

  #warnPlain(target: CallTarget): void {
    if (this.#warnedPlain) return;
    this.#warnedPlain = true;
    process.emitWarning(
      `${target.label}: at-most-once asked of a plain ONC RPC server, which keeps no reply cache we can rely on: calls are sent once (maybe), and a datagram the network duplicates may still run twice`,
      { code: "ONCE_RPC_PLAIN_PEER" },
    );
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
    this.#awaitingProbe = [];
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
    call.sent = true;
    if (call.retransmits) {
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
        const now = Date.now();
        for (const c of waiting) {
          if (this.#pending.get(c.xid) !== c) continue;
          if (
            c.sent &&
            c.retransmits &&
            this.transport.kind === "stream" &&
            isRpcError(error, "CONNECT_FAILED")
          ) {
            // Sent before its connection was lost: the server may be restarting. Try again
            // until the deadline, as the semantics asks (the transport paces its reconnects);
            // a call never sent fails at once.
            c.retransmitAt = now;
            this.#arm(now);
            continue;
          }
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
    if (call.probe) {
      this.#settle(call);
      if (reply.replyStat === ReplyStat.MSG_ACCEPTED) {
        // Our verifier says the server speaks the flavor, whatever it answered the NULL call.
        const features = reply.verifier === null ? undefined : decodeSessionVerifier(reply.verifier);
        if (features !== undefined) this.#peerVerifier = reply.verifier?.body.slice();
        call.resolve(features ?? false);
      } else if (reply.stat === RejectStat.AUTH_ERROR) {
        call.resolve(false); // a plain server refuses a flavor it does not know
      } else {
        call.reject(new RpcMismatchError(reply.low, reply.high, target));
      }
      return;
    }
    if (reply.replyStat === ReplyStat.MSG_ACCEPTED) {
      if (call.inSession) {
        if (reply.verifier === null || !this.#checkSessionVerifier(reply.verifier)) {
          this.#fail(
            call,
            new RpcError("BAD_REPLY", `${target.label}: the reply's verifier is not the session's`, {
              call: target,
            }),
          );
          return;
        }
      } else if (reply.verifier !== null && !this.#auth.checkReplyVerifier(reply.verifier, call)) {
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
    if (
      reply.stat === RejectStat.AUTH_ERROR &&
      reply.authStat === AuthStat.AUTH_REJECTEDCRED &&
      call.inSession &&
      call.sequence !== 0n
    ) {
      // The server took the session at the probe and now refuses it: it collected the records of
      // this client id when its lease ran out (docs/semantics.md#exactly-once).
      this.#fail(call, sessionExpired(target, new AuthError(reply.authStat, target)));
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
      if (call.retransmits && error.code !== "CONNECT_FAILED") {
        call.retransmitAt = now; // a new connection (or socket), and send again
        continue;
      }
      if (call.semantics === "exactly-once" && call.retransmits) {
        // Nothing listens there (an ICMP refusal over UDP): the server may be restarting, and
        // exactly-once keeps trying until the deadline — at the retransmission pace, not in a loop.
        call.retransmitAt = now + Math.max(call.retransmitMs, this.#retransmitInitialMs);
        continue;
      }
      this.#fail(call, withCall(error, call.target));
    }
    if (this.#pending.size > 0) this.#arm(now);
  }

  #settle(call: PendingCall): void {
    this.#pending.delete(call.xid);
    if (call.sequence !== 0n) this.session.end(call.sequence);
    if (call.unwatch !== undefined) call.unwatch();
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
    for (const call of this.#pending.values()) if (call.retransmitAt <= now && call.sent) due.push(call);
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

  /**
   * A session reply's verifier: the one the probe saw, or a new one from a
   * restarted server (its id changed), which the channel takes as the peer's.
   */
  #checkSessionVerifier(verifier: OpaqueAuth): boolean {
    const known = this.#peerVerifier;
    if (known !== undefined && equalBytes(known, verifier.body)) return true;
    const features = decodeSessionVerifier(verifier);
    if (features === undefined) return false;
    this.#peer = features;
    this.#peerVerifier = verifier.body.slice();
    return true;
  }

  #timeoutError(call: PendingCall, now: number): TimeoutError {
    const phase = call.attempts === 0 ? "connect" : this.transport.sendBlocked ? "send" : "reply";
    const connectMs = call.attempts === 0 ? now - call.startedAt : call.connectMs;
    return new TimeoutError(phase, call.attempts, now - call.startedAt, connectMs, call.target);
  }
}

function noop(): void {}

function onTimer(channel: Channel): void {
  channel.tick();
}

function unavailable(target: CallTarget, why: string): RpcError {
  return new RpcError("SEMANTICS_UNAVAILABLE", `${target.label}: exactly-once cannot be had: ${why}`, {
    call: target,
  });
}

function sessionExpired(target: CallTarget, cause: AuthError): RpcError {
  return new RpcError(
    "SESSION_EXPIRED",
    `${target.label}: the server's lease on this session ran out and its completion records were collected; begin a new session (a new client id)`,
    { call: target, cause },
  );
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
