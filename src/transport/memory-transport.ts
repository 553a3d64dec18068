/**
 * An in-memory connection for tests and for calling a server in the same
 * process: messages are handed over whole, asynchronously and in order,
 * without sockets or framing. It behaves as a reliable stream.
 */
import { RpcError } from "../rpc/index.js";
import type { Peer } from "./address.js";
import type { ClientTransport, ServerConnection, TransportEvents } from "./transport.js";

const MEMORY_PEER: Peer = Object.freeze({ protocol: "unix", path: "(in memory)" });

/**
 * A client transport whose every connection is handed to `accept` as the
 * server end (a server's in-memory entry point).
 */
export function createMemoryTransport(
  accept: (connection: ServerConnection) => void,
  maxMessageBytes = 64 * 1024 * 1024,
): ClientTransport {
  return new MemoryClient(accept, maxMessageBytes);
}

/** One direction of a connection: a queue delivered at the end of the tick. */
class MemoryEnd {
  events: TransportEvents | undefined;
  #queue: Uint8Array[] = [];
  #scheduled = false;
  #paused = false;
  #closed = false;

  deliver(message: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(message);
    this.#schedule();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  close(error: RpcError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    queueMicrotask(() => this.events?.closed(error));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    while (!this.#paused && !this.#closed && this.#queue.length > 0) {
      const message = this.#queue.shift() as Uint8Array;
      this.events?.message(message);
    }
  }
}

function join(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0].slice();
  const out = new Uint8Array(length);
  let p = 0;
  for (const chunk of chunks) {
    out.set(chunk, p);
    p += chunk.length;
  }
  return out;
}

class MemoryServerEnd implements ServerConnection {
  readonly kind = "stream";
  readonly peer = MEMORY_PEER;
  readonly headroomBytes = 0;
  readonly maxMessageBytes: number;
  readonly inbox = new MemoryEnd();
  readonly #client: MemoryEnd;

  constructor(client: MemoryEnd, maxMessageBytes: number) {
    this.#client = client;
    this.maxMessageBytes = maxMessageBytes;
  }

  setEvents(events: TransportEvents): void {
    this.inbox.events = events;
  }

  send(chunks: Uint8Array[], length: number): void {
    this.#client.deliver(join(chunks, length));
  }

  pause(): void {
    this.inbox.pause();
  }

  resume(): void {
    this.inbox.resume();
  }

  close(): void {
    this.destroy();
  }

  destroy(): void {
    this.inbox.close(new RpcError("CONNECTION_CLOSED", "the in-memory connection was closed"));
    this.#client.close(new RpcError("CONNECTION_CLOSED", "the server closed the in-memory connection"));
  }
}

class MemoryClient implements ClientTransport {
  readonly kind = "stream";
  readonly remote = MEMORY_PEER;
  readonly headroomBytes = 0;
  readonly maxMessageBytes: number;
  readonly #accept: (connection: ServerConnection) => void;
  #events: TransportEvents | undefined;
  #inbox: MemoryEnd | undefined;
  #server: MemoryServerEnd | undefined;
  #destroyed = false;

  constructor(accept: (connection: ServerConnection) => void, maxMessageBytes: number) {
    this.#accept = accept;
    this.maxMessageBytes = maxMessageBytes;
  }

  get connected(): boolean {
    return this.#server !== undefined && !this.#server.inbox.closed;
  }

  get sendBlocked(): boolean {
    return false;
  }

  setEvents(events: TransportEvents): void {
    this.#events = events;
    if (this.#inbox) this.#inbox.events = events;
  }

  async connect(): Promise<void> {
    if (this.#destroyed) throw new RpcError("CLIENT_CLOSED", "the transport was closed");
    if (this.connected) return;
    const inbox = new MemoryEnd();
    inbox.events = {
      message: (bytes) => this.#events?.message(bytes),
      closed: (error) => {
        if (this.#inbox === inbox) {
          this.#inbox = undefined;
          this.#server = undefined;
        }
        this.#events?.closed(error);
      },
    };
    const server = new MemoryServerEnd(inbox, this.maxMessageBytes);
    this.#inbox = inbox;
    this.#server = server;
    this.#accept(server);
  }

  send(chunks: Uint8Array[], length: number): void {
    const server = this.#server;
    if (server === undefined || server.inbox.closed) throw new RpcError("CONNECTION_CLOSED", "not connected");
    server.inbox.deliver(join(chunks, length));
  }

  ref(): void {}
  unref(): void {}

  async close(): Promise<void> {
    this.destroy();
  }

  destroy(): void {
    this.#destroyed = true;
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.inbox.close(new RpcError("CONNECTION_CLOSED", "the client closed the in-memory connection"));
    this.#inbox?.close(new RpcError("CLIENT_CLOSED", "the transport was closed"));
  }
}
