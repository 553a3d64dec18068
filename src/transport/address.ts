/**
 * Where a peer is: a TCP or UDP host and port, or a Unix socket path.
 * Strings work too: `tcp://127.0.0.1:2049`, `udp://[::1]:111`, `unix:///run/rpcbind.sock`.
 */

/** A TCP or UDP endpoint. */
export interface InetAddress {
  readonly protocol: "tcp" | "udp";
  readonly host: string;
  readonly port: number;
}

/** A Unix domain stream socket. */
export interface UnixAddress {
  readonly protocol: "unix";
  readonly path: string;
}

/** Any address a transport can reach or listen on. */
export type Address = InetAddress | UnixAddress;

/** An address given as an object or a string. */
export type AddressLike = Address | string;

/** The protocol a message came over, and from where: what a handler sees as its peer. */
export type Peer = Address;

/** Parses an address string; objects pass through after a check. Throws a TypeError on nonsense. */
export function parseAddress(address: AddressLike): Address {
  if (typeof address !== "string") return checkAddress(address);
  const unix = /^unix:(?:\/\/)?(\/.*)$/.exec(address);
  if (unix) return { protocol: "unix", path: unix[1] };
  const inet = /^(tcp|udp):\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(address);
  if (!inet) {
    throw new TypeError(
      `not an address: ${JSON.stringify(address)} (try tcp://HOST:PORT, udp://HOST:PORT or unix:///PATH)`,
    );
  }
  const host = inet[2].startsWith("[") ? inet[2].slice(1, -1) : inet[2];
  return checkAddress({ protocol: inet[1] as "tcp" | "udp", host, port: Number(inet[3]) });
}

function checkAddress(address: Address): Address {
  if (address.protocol === "unix") {
    if (typeof address.path !== "string" || address.path === "")
      throw new TypeError("a unix address needs a path");
    return address;
  }
  if (address.protocol !== "tcp" && address.protocol !== "udp") {
    throw new TypeError(`unknown protocol ${JSON.stringify((address as { protocol: unknown }).protocol)}`);
  }
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 65535) {
    throw new TypeError(`port ${address.port} is not in 0..65535`);
  }
  return address;
}

/** The address as a string that parseAddress reads back. */
export function formatAddress(address: Address): string {
  if (address.protocol === "unix") return `unix://${address.path}`;
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${address.protocol}://${host}:${address.port}`;
}
