/**
 * Moving whole ONC RPC messages: record marking on streams (RFC 5531 §11),
 * datagrams, in-memory connections. Imported as `once-rpc/transport`.
 */
export {
  type Address,
  type AddressLike,
  formatAddress,
  type InetAddress,
  type Peer,
  parseAddress,
  type UnixAddress,
} from "./address.js";
export { type DatagramListenerOptions, listenDatagram } from "./datagram-listener.js";
export {
  createDatagramTransport,
  type DatagramTransportOptions,
  MAX_UDP_PAYLOAD_BYTES,
} from "./datagram-transport.js";
export { createMemoryTransport } from "./memory-transport.js";
export { frameRecord, MAX_FRAGMENT_BYTES, RECORD_MARK_BYTES, RecordDecoder } from "./record-marking.js";
export type { RecordStreamOptions } from "./record-stream.js";
export { listenStream } from "./stream-listener.js";
export { createStreamTransport, STREAM_DEFAULTS, type StreamTransportOptions } from "./stream-transport.js";
export type {
  ClientTransport,
  ConnectionHandler,
  Listener,
  ServerConnection,
  TransportEvents,
} from "./transport.js";
export {
  formatIPv6,
  formatUniversalAddress,
  isLoopbackHost,
  isWildcardHost,
  Netid,
  type NetidInfo,
  NO_TRANSPORT_ADDRESS,
  netidInfo,
  netidOf,
  type ProtocolFamily,
  parseIPv4,
  parseIPv6,
  parseUniversalAddress,
  type TransportAddress,
  transportToUniversal,
  universalAddressPort,
  universalToTransport,
  unmapIPv4,
  withHost,
} from "./universal-address.js";
