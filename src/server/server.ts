/**
 * createServer: one dispatcher behind any number of listeners (TCP, UDP,
 * Unix, in memory), with limits on records, connections, calls in flight
 * and idle time. `close()` drains; `destroy()` does not.
 */
import { randomBytes } from "node:crypto";
import {
  ONCE_FEATURE_AT_MOST_ONCE,
  ONCE_FEATURE_CONTROL,
  ONCE_FEATURE_DEADLINES,
  ONCE_FEATURE_EXACTLY_ONCE,
  type ProgramVersionDescriptor,
  RpcError,
  type ServerAuth,
  serverAuthNone,
  serverAuthSession,
  serverAuthSys,
  sessionVerifier,
} from "../rpc/index.js";
import {
  type Address,
  type AddressLike,
  type ClientTransport,
  type ConnectionHandler,
  createMemoryTransport,
  formatAddress,
  type Listener,
  listenDatagram,
  listenStream,
  MAX_FRAGMENT_BYTES,
  MAX_UDP_PAYLOAD_BYTES,
  parseAddress,
  type ServerConnection,
} from "../transport/index.js";
import type { XdrReaderOptions } from "../xdr/index.js";
import type { CompletionStore } from "./completion-store.js";
import { controlImplementation, OnceControlProgV1 } from "./control-program.js";
import { type CallSource, Dispatched, Dispatcher } from "./dispatcher.js";
import { type Implementation, serveProcedures } from "./implementation.js";
import { consoleLogger, type Logger } from "./logger.js";
import { OrphanRegistry } from "./orphans.js";
import { ReplyCache, type ReplyCacheOptions, type ReplyCacheStats } from "./reply-cache.js";

/** Options of createServer. Defaults in {@link SERVER_DEFAULTS}. */
export interface ServerOptions {
  /** The credential flavors accepted; a call in another gets AUTH_ERROR (AUTH_REJECTEDCRED). Default AUTH_NONE and AUTH_SYS. */
  readonly auth?: readonly ServerAuth[];
  /** Largest call record accepted on a stream; a larger one closes the connection. */
  readonly maxRecordBytes?: number;
  /** Largest reply fragment written; by default a reply is one fragment. */
  readonly maxFragmentBytes?: number;
  /** Largest datagram accepted or sent over UDP. */
  readonly maxDatagramBytes?: number;
  /** Calls a connection may have running; past it the server stops reading from it (backpressure). */
  readonly maxCallsInFlightPerConnection?: number;
  /** Calls running at once from UDP; datagrams past it are dropped (the client retransmits). */
  readonly maxDatagramCallsInFlight?: number;
  /** Open stream connections; more are closed as soon as they are accepted. */
  readonly maxConnections?: number;
  /** A connection with nothing running for this long is closed. 0: never. */
  readonly idleTimeoutMs?: number;
  /** Limits when decoding arguments (maxLength, maxDepth, string encoding, copyOpaque). */
  readonly reader?: XdrReaderOptions;
  /** Where handler exceptions and malformed messages are reported. Default: the console. */
  readonly logger?: Logger;
  /**
   * Accept the session flavor (docs/semantics.md) around each flavor of
   * `auth`, so that session clients get at-most-once (and, with a completion
   * store, exactly-once). Default true; plain ONC RPC clients never notice.
   */
  readonly sessions?: boolean;
  /** The reply cache of at-most-once calls; false: none (at-most-once then runs as maybe). */
  readonly replyCache?: ReplyCacheOptions | false;
  /** Durable completion records: with one, the server gives exactly-once (createSqliteCompletionStore). */
  readonly completionStore?: CompletionStore;
}

/** The defaults of ServerOptions. */
export const SERVER_DEFAULTS: Readonly<
  Required<Omit<ServerOptions, "auth" | "reader" | "logger" | "sessions" | "replyCache" | "completionStore">>
> = Object.freeze({
  maxRecordBytes: 16 * 1024 * 1024,
  maxFragmentBytes: MAX_FRAGMENT_BYTES,
  maxDatagramBytes: MAX_UDP_PAYLOAD_BYTES,
  maxCallsInFlightPerConnection: 128,
  maxDatagramCallsInFlight: 1024,
  maxConnections: 1024,
  idleTimeoutMs: 120_000,
});

/** A server of ONC RPC programs. */
export interface Server {
  /** Serves a program version with `implementation`; its type comes from the descriptor. */
  addProgram<D extends ProgramVersionDescriptor>(descriptor: D, implementation: Implementation<D>): this;
  /** Listens on an address (`tcp://127.0.0.1:0`, `udp://…`, `unix:///…`); resolves with the bound address. */
  listen(address: AddressLike): Promise<Address>;
  /** The addresses listened on. */
  readonly addresses: readonly Address[];
  /** A client transport to this server without sockets, for tests and in-process calls. */
  memoryTransport(): ClientTransport;
  /** Open stream connections. */
  readonly connections: number;
  /** What the at-most-once reply cache counted (undefined without one). */
  readonly replyCacheStats: Readonly<ReplyCacheStats> | undefined;
  /** 8 random bytes, in hex, that session clients see change when the server restarts. */
  readonly serverId: string;
  /** The [program, version] pairs served. */
  programs(): Array<[number, number]>;
  /** Stops listening, lets running calls reply, then closes every connection. */
  close(): Promise<void>;
  /** Stops listening and closes every connection now; running handlers' signals fire. */
  destroy(): Promise<void>;
}

/** Makes a server; add programs, then listen. */
export function createServer(options: ServerOptions = {}): Server {
  return new RpcServer({ ...SERVER_DEFAULTS, ...options });
}

type ResolvedOptions = typeof SERVER_DEFAULTS & ServerOptions;

/** A stream connection's state. */
class ConnectionState implements CallSource {
  readonly connection: ServerConnection;
  readonly #server: RpcServer;
  inFlight = 0;
  lastActive = Date.now();
  paused = false;
  closed = false;
  /** Records that arrived in the same read as the one that reached the limit: served on resume. */
  backlog: Uint8Array[] = [];
  #controller: AbortController | undefined;

  constructor(connection: ServerConnection, server: RpcServer) {
    this.connection = connection;
    this.#server = server;
  }

  signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.closed && !this.#controller.signal.aborted) this.#controller.abort(closedReason());
    return this.#controller.signal;
  }

  onReplied(): void {
    this.#server.replied(this);
  }

  abort(): void {
    this.#controller?.abort(closedReason());
  }
}

/** The sender of UDP calls; its signal fires when the server is destroyed. */
class DatagramSource implements CallSource {
  connection: ServerConnection;
  readonly #server: RpcServer;

  constructor(connection: ServerConnection, server: RpcServer) {
    this.connection = connection;
    this.#server = server;
  }

  signal(): AbortSignal {
    return this.#server.destroySignal;
  }

  onReplied(): void {
    this.#server.datagramReplied();
  }
}

function closedReason(): RpcError {
  return new RpcError("CONNECTION_CLOSED", "the connection closed: the reply cannot be delivered");
}

class RpcServer implements Server, ConnectionHandler {
  readonly #options: ResolvedOptions;
  readonly #dispatcher: Dispatcher;
  readonly #logger: Logger;
  readonly #listeners: Listener[] = [];
  readonly #connections = new Set<ConnectionState>();
  readonly #destroyController = new AbortController();
  #datagramsInFlight = 0;
  #closing = false;
  #drained: (() => void) | undefined;
  #idleTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger;
    const auth = options.auth ?? [serverAuthNone, serverAuthSys()];
    const id = new Uint8Array(randomBytes(8));
    this.serverId = Buffer.from(id).toString("hex");
    this.#replyCache = options.replyCache === false ? undefined : new ReplyCache(options.replyCache);
    let features = 0;
    if (this.#replyCache !== undefined) features |= ONCE_FEATURE_AT_MOST_ONCE;
    if (options.completionStore !== undefined) features |= ONCE_FEATURE_EXACTLY_ONCE;
    // Session calls get deadlines, and the control program acts on them (docs/semantics.md, "Orphans").
    if (options.sessions !== false) {
      this.#orphans = new OrphanRegistry();
      features |= ONCE_FEATURE_DEADLINES | ONCE_FEATURE_CONTROL;
    }
    const flavors =
      options.sessions === false ? auth : [...auth, serverAuthSession(auth, sessionVerifier(features, id))];
    this.#dispatcher = new Dispatcher(flavors, this.#logger, options.reader, {
      replyCache: this.#replyCache,
      completionStore: options.completionStore,
      orphans: this.#orphans,
    });
    if (this.#orphans !== undefined) {
      this.#dispatcher.add(
        OnceControlProgV1.program,
        OnceControlProgV1.version,
        serveProcedures(OnceControlProgV1, controlImplementation(this.#orphans)),
        false,
      );
    }
  }

  readonly #orphans: OrphanRegistry | undefined;

  readonly serverId: string;
  readonly #replyCache: ReplyCache | undefined;

  get replyCacheStats(): Readonly<ReplyCacheStats> | undefined {
    return this.#replyCache?.stats;
  }

  get destroySignal(): AbortSignal {
    return this.#destroyController.signal;
  }

  get addresses(): readonly Address[] {
    return this.#listeners.map((l) => l.address);
  }

  get connections(): number {
    return this.#connections.size;
  }

  addProgram<D extends ProgramVersionDescriptor>(descriptor: D, implementation: Implementation<D>): this {
    this.#dispatcher.add(descriptor.program, descriptor.version, serveProcedures(descriptor, implementation));
    return this;
  }

  programs(): Array<[number, number]> {
    return this.#dispatcher.programs();
  }

  async listen(address: AddressLike): Promise<Address> {
    if (this.#closing) throw new Error("the server is closed");
    const parsed = parseAddress(address);
    const listener =
      parsed.protocol === "udp"
        ? await listenDatagram(parsed, this, { maxDatagramBytes: this.#options.maxDatagramBytes })
        : await listenStream(parsed, this, {
            maxRecordBytes: this.#options.maxRecordBytes,
            maxFragmentBytes: this.#options.maxFragmentBytes,
          });
    this.#listeners.push(listener);
    this.#startIdleTimer();
    return listener.address;
  }

  memoryTransport(): ClientTransport {
    return createMemoryTransport((connection) => this.connection(connection), this.#options.maxRecordBytes);
  }

  /** @internal a stream connection was accepted. */
  connection(connection: ServerConnection): void {
    if (this.#closing || this.#connections.size >= this.#options.maxConnections) {
      if (!this.#closing) {
        this.#logger.warn(
          `refused a connection from ${formatAddress(connection.peer)}: maxConnections ${this.#options.maxConnections} reached`,
        );
      }
      connection.destroy();
      return;
    }
    const state = new ConnectionState(connection, this);
    this.#connections.add(state);
    connection.setEvents({
      message: (bytes) => this.#onStreamMessage(state, bytes),
      closed: (error) => this.#onStreamClosed(state, error),
    });
  }

  /** @internal a datagram arrived. */
  datagram(bytes: Uint8Array, from: ServerConnection): void {
    if (this.#closing || this.#datagramsInFlight >= this.#options.maxDatagramCallsInFlight) return;
    const source = new DatagramSource(from, this);
    if (this.#dispatcher.dispatch(bytes, source) === Dispatched.PENDING) this.#datagramsInFlight++;
  }

  /** @internal a UDP call finished. */
  datagramReplied(): void {
    this.#datagramsInFlight--;
    this.#checkDrained();
  }

  /** @internal a stream call finished. */
  replied(state: ConnectionState): void {
    state.inFlight--;
    state.lastActive = Date.now();
    if (state.paused && state.inFlight < this.#options.maxCallsInFlightPerConnection && !this.#closing) {
      state.paused = false;
      while (state.backlog.length > 0 && !state.paused && !state.closed) {
        this.#serve(state, state.backlog.shift() as Uint8Array);
      }
      if (!state.paused) state.connection.resume();
    }
    if (this.#closing && state.inFlight === 0) state.connection.close();
    this.#checkDrained();
  }

  #onStreamMessage(state: ConnectionState, bytes: Uint8Array): void {
    // Pausing the socket stops further reads, not the records of the read in hand: keep those.
    if (state.paused) state.backlog.push(bytes);
    else this.#serve(state, bytes);
  }

  #serve(state: ConnectionState, bytes: Uint8Array): void {
    state.lastActive = Date.now();
    const outcome = this.#dispatcher.dispatch(bytes, state);
    if (outcome === Dispatched.PENDING) {
      if (++state.inFlight >= this.#options.maxCallsInFlightPerConnection && !state.paused) {
        state.paused = true;
        state.connection.pause();
      }
    } else if (outcome === Dispatched.MALFORMED) {
      this.#logger.warn(
        `closed the connection from ${formatAddress(state.connection.peer)}: a message that is not an ONC RPC call`,
      );
      state.connection.destroy();
    }
  }

  #onStreamClosed(state: ConnectionState, error: RpcError): void {
    state.closed = true;
    state.abort();
    this.#connections.delete(state);
    if (error.code === "MESSAGE_TOO_LARGE") {
      this.#logger.warn(
        `closed the connection from ${formatAddress(state.connection.peer)}: ${error.message}`,
      );
    }
    this.#checkDrained();
  }

  #startIdleTimer(): void {
    const idleMs = this.#options.idleTimeoutMs;
    if (this.#idleTimer !== undefined || idleMs <= 0) return;
    // One coarse sweep for all connections rather than a timer each.
    this.#idleTimer = setInterval(() => this.#closeIdle(), Math.max(50, Math.min(idleMs / 2, 30_000)));
    this.#idleTimer.unref();
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#options.idleTimeoutMs;
    for (const state of this.#connections) {
      if (state.inFlight === 0 && state.lastActive <= cutoff) state.connection.close();
    }
  }

  #checkDrained(): void {
    if (this.#drained === undefined || this.#datagramsInFlight > 0) return;
    for (const state of this.#connections) if (state.inFlight > 0) return;
    this.#drained();
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    // Stop accepting; net.Server.close() resolves only once every connection is gone, so
    // idle connections are closed here rather than awaited (else close() waits for the idle timeout).
    const listeners = this.#listeners.filter((l) => l.address.protocol !== "udp");
    const stopped = Promise.all(listeners.map((l) => l.close()));
    // No new calls; running ones finish and reply, then each connection closes.
    const drained = new Promise<void>((resolve) => (this.#drained = resolve));
    for (const state of this.#connections) {
      state.connection.pause();
      if (state.inFlight === 0) state.connection.close();
    }
    this.#checkDrained();
    await drained;
    await stopped;
    await this.#stop();
  }

  async destroy(): Promise<void> {
    this.#closing = true;
    this.#destroyController.abort(new RpcError("CONNECTION_CLOSED", "the server was destroyed"));
    this.#orphans?.abortAll(this.#destroyController.signal.reason);
    for (const state of this.#connections) {
      state.closed = true;
      state.abort();
      state.connection.destroy();
    }
    await this.#stop();
  }

  async #stop(): Promise<void> {
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#orphans?.stop();
    const listeners = this.#listeners.splice(0);
    await Promise.all(listeners.map((l) => l.close().catch(() => {})));
  }
}
