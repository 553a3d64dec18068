/**
 * Opening a channel: the transport an address calls for (records over TCP
 * and Unix sockets, datagrams over UDP) and the Channel over it.
 */
import {
  type AddressLike,
  type ClientTransport,
  createDatagramTransport,
  createStreamTransport,
  parseAddress,
} from "../transport/index.js";
import { Channel } from "./channel.js";
import type { ClientOptions } from "./client.js";

/** Opens a channel to an address (`tcp://H:P`, `udp://H:P`, `unix:///path` or an object) or over a transport. */
export function createChannel(target: AddressLike | ClientTransport, options: ClientOptions = {}): Channel {
  return new Channel(isTransport(target) ? target : createTransport(target, options), options);
}

/** Makes the transport for an address: TCP and Unix sockets carry records, UDP datagrams. */
export function createTransport(address: AddressLike, options: ClientOptions = {}): ClientTransport {
  const parsed = parseAddress(address);
  return parsed.protocol === "udp"
    ? createDatagramTransport(parsed, options)
    : createStreamTransport(parsed, options);
}

function isTransport(target: AddressLike | ClientTransport): target is ClientTransport {
  return typeof target === "object" && "send" in target && "connect" in target;
}
