/** Listening on TCP or a Unix socket: each accepted socket becomes a ServerConnection carrying records. */
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { RpcError } from "../rpc/index.js";
import type { Address, InetAddress, Peer, UnixAddress } from "./address.js";
import { RECORD_MARK_BYTES } from "./record-marking.js";
import { RecordStream, type RecordStreamOptions } from "./record-stream.js";
import type { ConnectionHandler, Listener, ServerConnection, TransportEvents } from "./transport.js";

/** Starts listening; resolves once bound, with the real address (port 0 replaced). */
export async function listenStream(
  address: InetAddress | UnixAddress,
  handler: ConnectionHandler,
  options: RecordStreamOptions,
): Promise<Listener> {
  if (address.protocol === "unix") await clearStaleSocket(address.path);
  const server = createServer({ noDelay: true }, (socket) => {
    const peer: Peer =
      address.protocol === "unix"
        ? address
        : { protocol: "tcp", host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    handler.connection(new StreamConnection(socket, peer, options));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const ready = () => {
      server.off("error", reject);
      resolve(new StreamListener(server, boundAddress(server, address)));
    };
    if (address.protocol === "unix") {
      server.listen(address.path, ready);
    } else {
      server.listen(address.port, address.host, ready);
    }
  });
}

/**
 * A socket file left by a process that died would make listen fail with
 * EADDRINUSE, so it is removed; but never a file that is not a socket, nor a
 * socket where something still answers.
 */
async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket: not removing it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) throw new Error(`${path} is in use: something is listening there`);
  unlinkSync(path);
}

function boundAddress(server: Server, requested: InetAddress | UnixAddress): Address {
  if (requested.protocol === "unix") return requested;
  const bound = server.address();
  if (bound === null || typeof bound === "string") return requested;
  return { protocol: "tcp", host: requested.host, port: bound.port };
}

class StreamListener implements Listener {
  readonly #server: Server;
  readonly address: Address;

  constructor(server: Server, address: Address) {
    this.#server = server;
    this.address = address;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

class StreamConnection implements ServerConnection {
  readonly kind = "stream";
  readonly peer: Peer;
  readonly headroomBytes = RECORD_MARK_BYTES;
  readonly maxMessageBytes: number;
  readonly #stream: RecordStream;

  constructor(socket: Socket, peer: Peer, options: RecordStreamOptions) {
    this.peer = peer;
    this.maxMessageBytes = options.maxRecordBytes;
    this.#stream = new RecordStream(socket, options);
  }

  setEvents(events: TransportEvents): void {
    this.#stream.setEvents(events);
  }

  send(chunks: Uint8Array[], length: number): void {
    this.#stream.send(chunks, length);
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  close(): void {
    this.#stream.end();
  }

  destroy(): void {
    this.#stream.destroy(new RpcError("CONNECTION_CLOSED", "the server closed the connection"));
  }
}
