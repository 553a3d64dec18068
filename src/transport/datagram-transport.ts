/**
 * The client end of UDP: one datagram per message (RFC 5531 §11 leaves
 * datagrams unframed). Retransmission is the client's job; this only sends
 * and receives. The socket is connected, so only the server's datagrams
 * arrive and an ICMP "port unreachable" surfaces as an error.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { RpcError } from "../rpc/index.js";
import { formatAddress, type InetAddress } from "./address.js";
import { plain } from "./record-stream.js";
import type { ClientTransport, TransportEvents } from "./transport.js";

/** The largest UDP payload over IPv4 (65,535 less the IP and UDP headers). */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;

/** Options of a datagram transport. */
export interface DatagramTransportOptions {
  /** Largest message sent or accepted; default MAX_UDP_PAYLOAD_BYTES. */
  readonly maxDatagramBytes?: number;
}

/** A client transport over UDP (`{ protocol: "udp", host, port }`). */
export function createDatagramTransport(
  address: InetAddress,
  options: DatagramTransportOptions = {},
): ClientTransport {
  return new DatagramTransport(address, options.maxDatagramBytes ?? MAX_UDP_PAYLOAD_BYTES);
}

class DatagramTransport implements ClientTransport {
  readonly kind = "datagram";
  readonly remote: InetAddress;
  readonly headroomBytes = 0;
  readonly maxMessageBytes: number;
  #events: TransportEvents | undefined;
  #socket: Socket | undefined;
  #connecting: Promise<void> | undefined;
  #destroyed = false;
  #referenced = true;

  constructor(address: InetAddress, maxDatagramBytes: number) {
    if (address.protocol !== "udp") throw new TypeError("a datagram transport needs a udp address");
    this.remote = address;
    this.maxMessageBytes = maxDatagramBytes;
  }

  get connected(): boolean {
    return this.#socket !== undefined && this.#connecting === undefined;
  }

  get sendBlocked(): boolean {
    return false;
  }

  setEvents(events: TransportEvents): void {
    this.#events = events;
  }

  connect(): Promise<void> {
    if (this.#destroyed) return Promise.reject(new RpcError("CLIENT_CLOSED", "the transport was closed"));
    if (this.#socket !== undefined && this.#connecting === undefined) return Promise.resolve();
    this.#connecting ??= new Promise<void>((resolve, reject) => {
      const socket = createSocket({ type: isIPv6(this.remote.host) ? "udp6" : "udp4" });
      this.#socket = socket;
      const fail = (error: NodeJS.ErrnoException) => {
        this.#connecting = undefined;
        this.#socket = undefined;
        socket.close();
        reject(
          new RpcError(
            "CONNECT_FAILED",
            `cannot reach ${formatAddress(this.remote)}: ${error.code ?? error.message}`,
            {
              cause: error,
            },
          ),
        );
      };
      socket.once("error", fail);
      socket.connect(this.remote.port, this.remote.host, () => {
        socket.off("error", fail);
        this.#connecting = undefined;
        socket.on("message", (bytes: Buffer) => {
          if (bytes.length <= this.maxMessageBytes) this.#events?.message(plain(bytes));
        });
        socket.on("error", (error: NodeJS.ErrnoException) => this.#fail(socket, error));
        if (!this.#referenced) socket.unref();
        resolve();
      });
    });
    return this.#connecting;
  }

  send(chunks: Uint8Array[], length: number): void {
    const socket = this.#socket;
    if (socket === undefined || this.#connecting !== undefined) {
      throw new RpcError("CONNECTION_CLOSED", `no socket for ${formatAddress(this.remote)}`);
    }
    if (length > this.maxMessageBytes) {
      throw new RpcError(
        "MESSAGE_TOO_LARGE",
        `a ${length}-byte message does not fit in a datagram (at most ${this.maxMessageBytes} bytes): use TCP`,
      );
    }
    socket.send(chunks.length === 1 ? chunks[0] : chunks);
  }

  ref(): void {
    this.#referenced = true;
    this.#socket?.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#socket?.unref();
  }

  async close(): Promise<void> {
    this.destroy();
  }

  destroy(): void {
    this.#destroyed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
  }

  #fail(socket: Socket, error: NodeJS.ErrnoException): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    socket.close();
    // On a connected UDP socket ECONNREFUSED means ICMP port unreachable: nothing listens there.
    const code = error.code === "ECONNREFUSED" ? "CONNECT_FAILED" : "CONNECTION_CLOSED";
    this.#events?.closed(
      new RpcError(code, `${formatAddress(this.remote)}: ${error.code ?? error.message}`, { cause: error }),
    );
  }
}
