/**
 * The small interfaces between the RPC layers and the wire. A transport
 * moves whole messages (records on a stream, datagrams) and knows nothing of
 * their content; clients and servers know nothing of sockets.
 */
import type { RpcError } from "../rpc/index.js";
import type { Address, Peer } from "./address.js";

/** What a transport tells its owner. */
export interface TransportEvents {
  /** One whole message. It may be a view into a read buffer: decode it before returning or copy it. */
  message(bytes: Uint8Array): void;
  /** The connection is gone, for the reason given; nothing more arrives on it. */
  closed(error: RpcError): void;
}

/** The client end of a connection (or of a UDP socket). */
export interface ClientTransport {
  /** "stream" is reliable and ordered (TCP, Unix, in memory); "datagram" may lose, duplicate, reorder (UDP). */
  readonly kind: "stream" | "datagram";
  /** Where the server is, for messages; in memory it is a pseudo address. */
  readonly remote: Address | undefined;
  /** Bytes to leave free in front of each message for the transport's framing. */
  readonly headroomBytes: number;
  /** The largest message (without headroom) the transport can send. */
  readonly maxMessageBytes: number;
  /** True while messages can be sent without connecting first. */
  readonly connected: boolean;
  /** True while sent data waits in a full socket buffer (a TIMEOUT then says "send"). */
  readonly sendBlocked: boolean;
  /** Sets who hears about messages and closes. */
  setEvents(events: TransportEvents): void;
  /** Opens the connection if needed; rejects with RpcError CONNECT_FAILED. */
  connect(): Promise<void>;
  /**
   * Sends one message: `chunks` hold `length` bytes, the first `headroomBytes`
   * of them free for framing. Writes are batched per tick. The chunks must
   * not change afterwards.
   */
  send(chunks: Uint8Array[], length: number): void;
  /** Keeps the process alive while calls wait (the channel calls this when its first call starts). */
  ref(): void;
  /** Lets the process exit while the connection idles. */
  unref(): void;
  /** Closes after what was sent has been written. */
  close(): Promise<void>;
  /** Closes now, dropping what was not written. */
  destroy(): void;
}

/** The server end of a connection, as a listener hands it to a server. */
export interface ServerConnection {
  readonly kind: "stream" | "datagram";
  /** Who sent the messages (for UDP, the sender of this datagram). */
  readonly peer: Peer;
  readonly headroomBytes: number;
  readonly maxMessageBytes: number;
  setEvents(events: TransportEvents): void;
  /** As ClientTransport.send: one message, batched per tick. */
  send(chunks: Uint8Array[], length: number): void;
  /** Stops reading messages (backpressure) until resume(). */
  pause(): void;
  resume(): void;
  /** Closes after pending writes; the peer sees an orderly close. */
  close(): void;
  /** Closes now. */
  destroy(): void;
}

/** Who a listener hands its traffic to: the server. */
export interface ConnectionHandler {
  /** A stream connection was accepted; call its setEvents() before returning. */
  connection(connection: ServerConnection): void;
  /** A datagram arrived; replies sent through `from` go to its sender. */
  datagram(bytes: Uint8Array, from: ServerConnection): void;
}

/** A listening socket: hands each new connection (or datagram) to a ConnectionHandler. */
export interface Listener {
  /** The address actually bound (port 0 replaced by the real port). */
  readonly address: Address;
  /** Stops accepting; existing connections stay. */
  close(): Promise<void>;
}
