/**
 * The client end of a TCP or Unix stream: connects on demand, and after a
 * failure waits a backoff (doubling, with jitter) before trying again.
 */
import { connect as netConnect, type Socket } from "node:net";
import { RpcError } from "../rpc/index.js";
import { type Address, formatAddress, type InetAddress, type UnixAddress } from "./address.js";
import { MAX_FRAGMENT_BYTES, RECORD_MARK_BYTES } from "./record-marking.js";
import { RecordStream } from "./record-stream.js";
import type { ClientTransport, TransportEvents } from "./transport.js";

/** Options of a stream transport. Defaults in {@link STREAM_DEFAULTS}. */
export interface StreamTransportOptions {
  /** Largest reply record accepted. */
  readonly maxRecordBytes?: number;
  /**
   * Largest fragment sent. By default a call goes as one fragment, however
   * long: some servers reset a connection when a call comes in several.
   */
  readonly maxFragmentBytes?: number;
  /** Give up a connection attempt after this long. */
  readonly connectTimeoutMs?: number;
  /** Wait this long before reconnecting after a failure; doubled each time up to reconnectMaxMs. */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
}

/** The defaults of StreamTransportOptions. */
export const STREAM_DEFAULTS = Object.freeze({
  maxRecordBytes: 64 * 1024 * 1024,
  maxFragmentBytes: MAX_FRAGMENT_BYTES,
  connectTimeoutMs: 30_000,
  reconnectInitialMs: 100,
  reconnectMaxMs: 10_000,
});

/** A client transport over TCP (`{ protocol: "tcp", host, port }`) or a Unix socket. */
export function createStreamTransport(
  address: InetAddress | UnixAddress,
  options: StreamTransportOptions = {},
): ClientTransport {
  return new StreamTransport(address, { ...STREAM_DEFAULTS, ...options });
}

class StreamTransport implements ClientTransport {
  readonly kind = "stream";
  readonly remote: Address;
  readonly headroomBytes = RECORD_MARK_BYTES;
  readonly maxMessageBytes: number;
  readonly #options: Required<StreamTransportOptions>;
  #events: TransportEvents | undefined;
  #stream: RecordStream | undefined;
  #connecting: Promise<void> | undefined;
  #failures = 0;
  #retryAt = 0;
  #destroyed = false;
  #referenced = true;

  constructor(address: InetAddress | UnixAddress, options: Required<StreamTransportOptions>) {
    if (address.protocol === "udp") throw new TypeError("a stream transport needs a tcp or unix address");
    this.remote = address;
    this.#options = options;
    this.maxMessageBytes = options.maxRecordBytes;
  }

  get connected(): boolean {
    return this.#stream !== undefined;
  }

  get sendBlocked(): boolean {
    return this.#stream?.sendBlocked ?? false;
  }

  setEvents(events: TransportEvents): void {
    this.#events = events;
    this.#stream?.setEvents(events);
  }

  connect(): Promise<void> {
    if (this.#stream !== undefined) return Promise.resolve();
    if (this.#destroyed) return Promise.reject(new RpcError("CLIENT_CLOSED", "the transport was closed"));
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const wait = this.#retryAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
    if (this.#destroyed) throw new RpcError("CLIENT_CLOSED", "the transport was closed");
    let socket: Socket;
    try {
      socket = await openSocket(this.remote as InetAddress | UnixAddress, this.#options.connectTimeoutMs);
    } catch (error) {
      this.#failures++;
      const backoff = Math.min(
        this.#options.reconnectMaxMs,
        this.#options.reconnectInitialMs * 2 ** (this.#failures - 1),
      );
      this.#retryAt = Date.now() + backoff * (0.8 + 0.4 * Math.random());
      throw error;
    }
    if (this.#destroyed) {
      socket.destroy();
      throw new RpcError("CLIENT_CLOSED", "the transport was closed");
    }
    this.#failures = 0;
    this.#retryAt = 0;
    const stream = new RecordStream(socket, this.#options);
    stream.setEvents({
      message: (bytes) => this.#events?.message(bytes),
      closed: (error) => {
        if (this.#stream === stream) this.#stream = undefined;
        this.#events?.closed(error);
      },
    });
    if (!this.#referenced) socket.unref();
    this.#stream = stream;
  }

  send(chunks: Uint8Array[], length: number): void {
    const stream = this.#stream;
    if (stream === undefined)
      throw new RpcError("CONNECTION_CLOSED", `not connected to ${formatAddress(this.remote)}`);
    stream.send(chunks, length);
  }

  ref(): void {
    this.#referenced = true;
    this.#stream?.socket.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#stream?.socket.unref();
  }

  async close(): Promise<void> {
    this.#destroyed = true;
    const stream = this.#stream;
    if (stream === undefined) return;
    await new Promise<void>((resolve) => {
      // Referenced until it has closed: otherwise an idle process could exit with close() pending.
      stream.socket.ref();
      stream.socket.once("close", () => resolve());
      stream.end();
    });
  }

  destroy(): void {
    this.#destroyed = true;
    this.#stream?.destroy(new RpcError("CLIENT_CLOSED", "the transport was destroyed"));
  }
}

function openSocket(address: InetAddress | UnixAddress, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      address.protocol === "unix"
        ? netConnect({ path: address.path })
        : netConnect({ host: address.host, port: address.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new RpcError("CONNECT_FAILED", `no connection to ${formatAddress(address)} within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    timer.unref();
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new RpcError(
          "CONNECT_FAILED",
          `cannot connect to ${formatAddress(address)}: ${error.code ?? error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
  });
}
