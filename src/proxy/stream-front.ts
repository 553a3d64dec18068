/**
 * The TCP half of the proxy. Each accepted connection gets its own upstream
 * connection to the target; bytes are reassembled into records (RFC 5531
 * §11) and each record is one message for the faults. A record forwarded
 * goes out as a single fragment behind a fresh mark: a dropped record leaves
 * the stream in step, so the peer simply never sees that message.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import {
  frameRecord,
  type InetAddress,
  MAX_FRAGMENT_BYTES,
  RECORD_MARK_BYTES,
  RecordDecoder,
  type UnixAddress,
} from "../transport/index.js";
import type { Front, ProxyCore } from "./front.js";
import { Lane } from "./lane.js";

/** Listens on `listen`; each connection is relayed to `target`. */
export async function listenStreamFront(
  core: ProxyCore,
  listen: InetAddress,
  target: InetAddress | UnixAddress,
): Promise<Front> {
  const front = new StreamFront(core, target);
  await front.listen(listen);
  return front;
}

class StreamFront implements Front {
  readonly #target: InetAddress | UnixAddress;
  readonly #server: Server;
  readonly #connections = new Set<StreamConnection>();
  #address: InetAddress | undefined;

  constructor(core: ProxyCore, target: InetAddress | UnixAddress) {
    this.#target = target;
    // Paused until the upstream connection is up; half-open so that an end
    // in one direction can wait for that direction's delayed messages.
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => {
      core.flows++;
      this.#connections.add(new StreamConnection(core, socket, this.#target, this.#connections));
    });
  }

  listen(address: InetAddress): Promise<void> {
    const server = this.#server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => {
        server.off("error", reject);
        const bound = server.address();
        const port = typeof bound === "object" && bound !== null ? bound.port : address.port;
        this.#address = { protocol: "tcp", host: address.host, port };
        resolve();
      });
    });
  }

  get address(): InetAddress {
    if (this.#address === undefined) throw new Error("not listening");
    return this.#address;
  }

  get open(): number {
    return this.#connections.size;
  }

  cut(): void {
    for (const connection of [...this.#connections]) connection.destroy(true);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const connection of [...this.#connections]) connection.destroy(false);
    });
  }
}

/** One client connection and its upstream twin. */
class StreamConnection {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #requests: Lane;
  readonly #replies: Lane;
  readonly #registry: Set<StreamConnection>;
  #closed = false;

  constructor(
    core: ProxyCore,
    client: Socket,
    target: InetAddress | UnixAddress,
    registry: Set<StreamConnection>,
  ) {
    this.#client = client;
    this.#registry = registry;
    const upstream =
      target.protocol === "unix"
        ? connect({ path: target.path, allowHalfOpen: true })
        : connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    this.#upstream = upstream;
    const toUpstream = new RecordWriter(upstream, client);
    const toClient = new RecordWriter(client, upstream);
    this.#requests = new Lane(core.request, toUpstream.write, core.lane);
    this.#replies = new Lane(core.reply, toClient.write, core.lane);
    const requests = this.#requests;
    const replies = this.#replies;
    const fromClient = new RecordDecoder(core.maxRecordBytes, (record) => requests.push(record));
    const fromUpstream = new RecordDecoder(core.maxRecordBytes, (record) => replies.push(record));

    upstream.once("connect", () => client.resume());
    client.on("data", (chunk: Buffer) => this.#feed(fromClient, chunk));
    upstream.on("data", (chunk: Buffer) => this.#feed(fromUpstream, chunk));
    // An end in one direction is passed on once that direction's held and delayed messages are out.
    client.on("end", () => requests.end(() => upstream.end()));
    upstream.on("end", () => replies.end(() => client.end()));
    // Errors are followed by close, which tears down both sides.
    client.on("error", ignore);
    upstream.on("error", ignore);
    // One side gone: the other is ended after what was already written to it.
    client.on("close", () => this.#finish());
    upstream.on("close", () => this.#finish());
  }

  /** Closes both sides now, unsent data lost; `reset` sends a TCP reset (a cut) instead of a FIN. */
  destroy(reset: boolean): void {
    this.#close();
    destroy(this.#client, reset);
    destroy(this.#upstream, reset);
  }

  /** Closes both sides after the records already written to them. */
  #finish(): void {
    this.#close();
    endThenDestroy(this.#client);
    endThenDestroy(this.#upstream);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#registry.delete(this);
    this.#requests.close();
    this.#replies.close();
  }

  #feed(decoder: RecordDecoder, chunk: Buffer): void {
    try {
      decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch {
      // A record over maxRecordBytes: the stream cannot be followed any further.
      this.#finish();
    }
  }
}

/** Frames records onto a socket, batching a tick's writes into one, and pausing the source while it is full. */
class RecordWriter {
  readonly #socket: Socket;
  readonly #source: Socket;
  #corked = false;

  constructor(socket: Socket, source: Socket) {
    this.#socket = socket;
    this.#source = source;
    socket.on("drain", () => source.resume());
  }

  /** The sink of a lane: one record out. */
  readonly write = (body: Uint8Array): void => {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(uncork, this);
    }
    const framed = frameRecord(
      [new Uint8Array(RECORD_MARK_BYTES), body],
      RECORD_MARK_BYTES + body.length,
      MAX_FRAGMENT_BYTES,
    );
    for (let i = 0; i < framed.length; i++) socket.write(framed[i]);
    if (socket.writableNeedDrain) this.#source.pause();
  };

  /** @internal the end of the tick. */
  flush(): void {
    this.#corked = false;
    this.#socket.uncork();
  }
}

function uncork(writer: RecordWriter): void {
  writer.flush();
}

function endThenDestroy(socket: Socket): void {
  if (socket.destroyed) return;
  // end() flushes corked writes first; the socket goes once they are out.
  if (socket.writable) socket.end(() => socket.destroy());
  else socket.destroy();
}

function destroy(socket: Socket, reset: boolean): void {
  if (reset && !socket.destroyed && !socket.connecting) {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (a Unix socket): a plain close below.
    }
  }
  socket.destroy();
}

function ignore(): void {}
