/**
 * Universal addresses (RFC 5665 §5.2.3) and netids (§5.1): the text forms in
 * which rpcbind stores and returns addresses, and their link to our Address.
 *
 * - IPv4 (§5.2.3.3): `h1.h2.h3.h4.p1.p2`, the port as two more decimal
 *   octets (port = p1 × 256 + p2): `127.0.0.1.0.111` is 127.0.0.1:111.
 * - IPv6 (§5.2.3.4): the address as inet_ntop writes it, then `.p1.p2`:
 *   `::1.8.1` is [::1]:2049.
 * - Local (Unix) sockets: the path itself, netid `local` (or `unix`).
 *
 * It also converts universal addresses to and from the transport addresses
 * (`struct netbuf` holding a Linux `struct sockaddr`) of rpcbind's
 * UADDR2TADDR and TADDR2UADDR.
 */
import { endianness } from "node:os";
import type { Address, InetAddress } from "./address.js";

/** The netids rpcbind knows on Linux (/etc/netconfig), RFC 5665 §5.1. */
export const Netid = {
  TCP: "tcp",
  UDP: "udp",
  TCP6: "tcp6",
  UDP6: "udp6",
  LOCAL: "local",
  UNIX: "unix",
} as const;

/** Protocol families of netconfig (`nc_protofmly`). */
export type ProtocolFamily = "inet" | "inet6" | "loopback";

/** What netconfig says about a netid: what GETADDRLIST reports for each entry. */
export interface NetidInfo {
  readonly netid: string;
  /** `nc_semantics`: 1 NC_TPI_CLTS (datagrams), 3 NC_TPI_COTS_ORD (streams). */
  readonly semantics: number;
  readonly family: ProtocolFamily;
  /** `nc_proto`: "tcp", "udp", or "-" for local sockets. */
  readonly proto: string;
}

const NC_TPI_CLTS = 1;
const NC_TPI_COTS_ORD = 3;

const NETIDS: Readonly<Record<string, NetidInfo>> = {
  tcp: { netid: "tcp", semantics: NC_TPI_COTS_ORD, family: "inet", proto: "tcp" },
  udp: { netid: "udp", semantics: NC_TPI_CLTS, family: "inet", proto: "udp" },
  tcp6: { netid: "tcp6", semantics: NC_TPI_COTS_ORD, family: "inet6", proto: "tcp" },
  udp6: { netid: "udp6", semantics: NC_TPI_CLTS, family: "inet6", proto: "udp" },
  local: { netid: "local", semantics: NC_TPI_COTS_ORD, family: "loopback", proto: "-" },
  unix: { netid: "unix", semantics: NC_TPI_COTS_ORD, family: "loopback", proto: "-" },
};

/** The netconfig entry of a netid (Debian's /etc/netconfig), or undefined for one we do not know. */
export function netidInfo(netid: string): NetidInfo | undefined {
  return Object.hasOwn(NETIDS, netid) ? NETIDS[netid] : undefined;
}

/** The netid of an address: `tcp`/`udp` for IPv4, `tcp6`/`udp6` for IPv6, `local` for a Unix socket. */
export function netidOf(address: Address): string {
  if (address.protocol === "unix") return Netid.LOCAL;
  const v6 = parseIPv4(unmapIPv4(address.host)) === undefined && parseIPv6(address.host) !== undefined;
  return v6 ? `${address.protocol}6` : address.protocol;
}

/**
 * The universal address of an address. IPv4-mapped IPv6 hosts (what a
 * dual-stack socket reports for an IPv4 peer) are written as IPv4. Throws a
 * TypeError for a host that is not a numeric IP address.
 */
export function formatUniversalAddress(address: Address): string {
  if (address.protocol === "unix") return address.path;
  const port = `${address.port >> 8}.${address.port & 255}`;
  const v4 = parseIPv4(unmapIPv4(address.host));
  if (v4 !== undefined) return `${v4.join(".")}.${port}`;
  const v6 = parseIPv6(address.host);
  if (v6 === undefined) throw new TypeError(`${JSON.stringify(address.host)} is not a numeric IP address`);
  return `${formatIPv6(v6)}.${port}`;
}

/**
 * The address a universal address names for a netid, or undefined when it
 * does not parse or the netid is not one of tcp, udp, tcp6, udp6, local, unix.
 * IPv4 and IPv6 forms are each accepted under either family's netid.
 */
export function parseUniversalAddress(uaddr: string, netid: string): Address | undefined {
  const info = netidInfo(netid);
  if (info === undefined) return undefined;
  if (info.family === "loopback")
    return uaddr.startsWith("/") ? { protocol: "unix", path: uaddr } : undefined;
  const split = splitPort(uaddr);
  if (split === undefined) return undefined;
  const protocol = info.proto as "tcp" | "udp";
  const v4 = parseIPv4(split.host);
  if (v4 !== undefined) return { protocol, host: v4.join("."), port: split.port };
  const v6 = parseIPv6(split.host);
  if (v6 !== undefined) return { protocol, host: formatIPv6(v6), port: split.port };
  return undefined;
}

/**
 * The port of an IP universal address, as rpcbind's uaddr2port reads it for
 * the portmapper's view: the last two dot-separated fields. Undefined when
 * there are no two such decimal fields.
 */
export function universalAddressPort(uaddr: string): number | undefined {
  return splitPort(uaddr)?.port;
}

/** Splits `HOST.p1.p2`; p1 and p2 must be decimal octets. */
function splitPort(uaddr: string): { host: string; port: number } | undefined {
  const m = /^(.+)\.(\d{1,3})\.(\d{1,3})$/.exec(uaddr);
  if (m === null) return undefined;
  const p1 = Number(m[2]);
  const p2 = Number(m[3]);
  if (p1 > 255 || p2 > 255) return undefined;
  return { host: m[1], port: p1 * 256 + p2 };
}

/** True for 0.0.0.0 and ::, the addresses of a socket bound to every interface. */
export function isWildcardHost(host: string): boolean {
  const v4 = parseIPv4(unmapIPv4(host));
  if (v4 !== undefined) return v4.every((b) => b === 0);
  const v6 = parseIPv6(host);
  return v6?.every((b) => b === 0) ?? false;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8 (::ffff:127.x.y.z). */
export function isLoopbackHost(host: string): boolean {
  const v4 = parseIPv4(unmapIPv4(host));
  if (v4 !== undefined) return v4[0] === 127;
  const v6 = parseIPv6(host);
  return v6?.every((b, i) => b === (i === 15 ? 1 : 0)) ?? false;
}

/** `::ffff:a.b.c.d` → `a.b.c.d`; anything else unchanged. */
export function unmapIPv4(host: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return m === null ? host : m[1];
}

/** The four octets of a dotted-quad IPv4 address, or undefined. */
export function parseIPv4(host: string): number[] | undefined {
  const parts = host.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

/** The sixteen bytes of an IPv6 address (with `::` and a trailing dotted quad allowed), or undefined. */
export function parseIPv6(host: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(":")) return undefined;
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const words = (text: string): number[] | undefined => {
    if (text === "") return [];
    const out: number[] = [];
    const groups = text.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  const head = words(halves[0]);
  const tail = halves.length === 2 ? words(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return all.flatMap((w) => [w >> 8, w & 255]);
}

/**
 * An IPv6 address as glibc's inet_ntop writes it (what rpcbind puts in a
 * universal address): RFC 5952 compression of the longest run of zero words,
 * lower case, and a dotted quad for ::a.b.c.d and ::ffff:a.b.c.d.
 */
export function formatIPv6(bytes: readonly number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  // glibc: an IPv4-compatible (::a.b.c.d, six zero words) or mapped (::ffff:a.b.c.d) address ends in a dotted quad.
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))) {
    const quad = `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
    return bestLength === 6 ? `::${quad}` : `::ffff:${quad}`;
  }
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      parts.push(i === 0 ? ":" : "");
      i += bestLength - 1;
      if (i === 7) parts.push("");
      continue;
    }
    parts.push(words[i].toString(16));
  }
  return parts.join(":");
}

/** sizeof(struct sockaddr_in), sizeof(struct sockaddr_in6), sizeof(struct sockaddr_un) on Linux. */
const SOCKADDR_IN_BYTES = 16;
const SOCKADDR_IN6_BYTES = 28;
const SOCKADDR_UN_BYTES = 110;
const AF_LOCAL = 1;
const AF_INET = 2;
const AF_INET6 = 10;

/** A transport address as rpcbind's `struct netbuf` carries it: a `struct sockaddr`. */
export interface TransportAddress {
  readonly maxlen: number;
  readonly buf: Uint8Array;
}

/** The netbuf UADDR2TADDR answers when it cannot convert: all zero. */
export const NO_TRANSPORT_ADDRESS: TransportAddress = Object.freeze({ maxlen: 0, buf: new Uint8Array(0) });

/** sa_family is in the host's byte order in a struct sockaddr. */
function writeFamily(view: DataView, family: number): void {
  view.setUint16(0, family, endianness() === "LE");
}

/**
 * A universal address as the `struct sockaddr` of the family of `netid`
 * (the transport a call came over, as rpcbind uses it): sockaddr_in,
 * sockaddr_in6 or sockaddr_un, as Linux lays them out. Undefined when the
 * address does not parse for that family.
 */
export function universalToTransport(uaddr: string, netid: string): TransportAddress | undefined {
  const info = netidInfo(netid);
  if (info === undefined) return undefined;
  if (info.family === "loopback") {
    if (!uaddr.startsWith("/")) return undefined;
    const path = new TextEncoder().encode(uaddr);
    if (path.length > SOCKADDR_UN_BYTES - 2) return undefined;
    const buf = new Uint8Array(2 + path.length);
    writeFamily(new DataView(buf.buffer), AF_LOCAL);
    buf.set(path, 2);
    return { maxlen: SOCKADDR_UN_BYTES, buf };
  }
  const split = splitPort(uaddr);
  if (split === undefined) return undefined;
  if (info.family === "inet") {
    const v4 = parseIPv4(split.host);
    if (v4 === undefined) return undefined;
    const buf = new Uint8Array(SOCKADDR_IN_BYTES);
    const view = new DataView(buf.buffer);
    writeFamily(view, AF_INET);
    view.setUint16(2, split.port);
    buf.set(v4, 4);
    return { maxlen: SOCKADDR_IN_BYTES, buf };
  }
  const v6 = parseIPv6(split.host);
  if (v6 === undefined) return undefined;
  const buf = new Uint8Array(SOCKADDR_IN6_BYTES);
  const view = new DataView(buf.buffer);
  writeFamily(view, AF_INET6);
  view.setUint16(2, split.port);
  buf.set(v6, 8);
  return { maxlen: SOCKADDR_IN6_BYTES, buf };
}

/**
 * The universal address of a `struct sockaddr` read as the family of
 * `netid` (as libtirpc's taddr2uaddr reads it, without looking at
 * sa_family), or undefined when it is too short.
 */
export function transportToUniversal(buf: Uint8Array, netid: string): string | undefined {
  const info = netidInfo(netid);
  if (info === undefined) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (info.family === "loopback") {
    if (buf.length <= 2) return undefined;
    const path = buf.subarray(2);
    const nul = path.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? path : path.subarray(0, nul));
  }
  if (info.family === "inet") {
    if (buf.length < SOCKADDR_IN_BYTES) return undefined;
    const port = view.getUint16(2);
    return `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}.${port >> 8}.${port & 255}`;
  }
  if (buf.length < SOCKADDR_IN6_BYTES) return undefined;
  const port = view.getUint16(2);
  return `${formatIPv6(Array.from(buf.subarray(8, 24)))}.${port >> 8}.${port & 255}`;
}

/** An InetAddress with another host, same protocol and port. */
export function withHost(address: InetAddress, host: string): InetAddress {
  return { protocol: address.protocol, host, port: address.port };
}
