/** Listening on UDP: each datagram is one message, and replies go back to its sender. */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Address, InetAddress, Peer } from "./address.js";
import { MAX_UDP_PAYLOAD_BYTES } from "./datagram-transport.js";
import { plain } from "./record-stream.js";
import type { ConnectionHandler, Listener, ServerConnection, TransportEvents } from "./transport.js";

/** Options of a UDP listener. */
export interface DatagramListenerOptions {
  /** Larger datagrams are dropped unread; replies larger than this are not sent. */
  readonly maxDatagramBytes?: number;
}

/** Binds a UDP socket; resolves with the real address (port 0 replaced). */
export function listenDatagram(
  address: InetAddress,
  handler: ConnectionHandler,
  options: DatagramListenerOptions = {},
): Promise<Listener> {
  const maxBytes = options.maxDatagramBytes ?? MAX_UDP_PAYLOAD_BYTES;
  const socket = createSocket({ type: isIPv6(address.host) ? "udp6" : "udp4" });
  socket.on("message", (bytes: Buffer, from: RemoteInfo) => {
    if (bytes.length > maxBytes) return;
    handler.datagram(plain(bytes), new DatagramReply(socket, from, maxBytes));
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(address.port, address.host, () => {
      socket.off("error", reject);
      // Send errors (an unreachable sender) concern one reply, never the listener.
      socket.on("error", () => {});
      resolve(
        new DatagramListener(socket, { protocol: "udp", host: address.host, port: socket.address().port }),
      );
    });
  });
}

class DatagramListener implements Listener {
  readonly #socket: Socket;
  readonly address: Address;

  constructor(socket: Socket, address: Address) {
    this.#socket = socket;
    this.address = address;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** The sender of one datagram, as a connection that can only send replies. */
class DatagramReply implements ServerConnection {
  readonly kind = "datagram";
  readonly headroomBytes = 0;
  readonly maxMessageBytes: number;
  readonly #socket: Socket;
  readonly #from: RemoteInfo;
  #peer: Peer | undefined;

  constructor(socket: Socket, from: RemoteInfo, maxBytes: number) {
    this.#socket = socket;
    this.#from = from;
    this.maxMessageBytes = maxBytes;
  }

  get peer(): Peer {
    this.#peer ??= { protocol: "udp", host: this.#from.address, port: this.#from.port };
    return this.#peer;
  }

  setEvents(_events: TransportEvents): void {}

  send(chunks: Uint8Array[], length: number): void {
    if (length > this.maxMessageBytes) return;
    try {
      this.#socket.send(chunks.length === 1 ? chunks[0] : chunks, this.#from.port, this.#from.address);
    } catch {
      // The listener was closed while the call ran: the reply has nowhere to go.
    }
  }

  pause(): void {}
  resume(): void {}
  close(): void {}
  destroy(): void {}
}
