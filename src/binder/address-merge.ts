/**
 * The address a caller should use for a registered service (rpcbind's
 * addrmerge, util.c). A service bound to every interface registers
 * 0.0.0.0.P1.P2; a remote caller cannot use that, so GETADDR answers the
 * address of this host's interface on the caller's network (or on the
 * network of the hint the caller gave in `r_addr`), with the service's port.
 */
import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";
import type { Peer } from "../transport/index.js";
import {
  formatIPv6,
  netidInfo,
  parseIPv4,
  parseIPv6,
  parseUniversalAddress,
  unmapIPv4,
} from "../transport/universal-address.js";

/** The host's interfaces, as `os.networkInterfaces()` lists them (up and running only). */
export type InterfaceList = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * `source` read at most once per `maxAgeMs`: the list it gave is answered
 * until it is that old, then read again at the next call. Listing the
 * interfaces is a netlink dump (rpcbind's getifaddrs, our
 * os.networkInterfaces), which cost most of a GETADDR when every lookup
 * made one; an interface that comes or goes is seen within `maxAgeMs`.
 * With `maxAgeMs` 0 or less every call reads `source`. The age is measured
 * on a monotonic clock (`performance.now`), so that a change of the
 * system's time neither freezes nor flushes the list.
 */
export function cachedInterfaces(
  source: () => InterfaceList,
  maxAgeMs: number,
  now: () => number = () => performance.now(),
): () => InterfaceList {
  if (!(maxAgeMs > 0)) return source;
  let list: InterfaceList | undefined;
  let readAt = 0;
  return () => {
    const t = now();
    if (list === undefined || t - readAt >= maxAgeMs || t < readAt) {
      list = source();
      readAt = t;
    }
    return list;
  };
}

/**
 * The universal address of `registered` (on `netid`) as `caller` should use
 * it, or undefined when rpcbind's addrmerge fails (the caller then gets the
 * registered address as it is):
 * - for a caller on the Unix socket it fails (rpcbind cannot write the
 *   caller's address as a universal address): GETADDR then answers the
 *   registered address, and GETADDRLIST leaves the entry out;
 * - otherwise the host becomes that of the first interface whose network
 *   contains the hint (`hint`, when it is of the caller's family, else the
 *   caller's address), or failing that the first interface of that family,
 *   preferring one that is not loopback; the port stays the registered one.
 *
 * The addresses and netmasks of `interfaces` are parsed once per list
 * object and remembered while it lives, so a list must not be changed in
 * place once given (a list from {@link cachedInterfaces} is answered for a
 * second and parsed once).
 */
export function mergeAddress(
  caller: Peer,
  registered: string,
  netid: string,
  hint = "",
  interfaces: InterfaceList = networkInterfaces(),
): string | undefined {
  const info = netidInfo(netid);
  if (info === undefined) return undefined;
  if (caller.protocol === "unix") return undefined;
  const callerBytes = ipBytes(unmapIPv4(caller.host));
  if (callerBytes === undefined) return undefined;
  let hintBytes = callerBytes;
  if (hint !== "") {
    const parsed = parseUniversalAddress(hint, netid);
    if (parsed === undefined || parsed.protocol === "unix") return undefined;
    const bytes = ipBytes(parsed.host);
    if (bytes !== undefined && bytes.length === callerBytes.length) hintBytes = bytes;
  }
  // rpcbind: a caller that is the host itself (a wildcard address) gets the address as registered.
  if (callerBytes.every((b) => b === 0)) return registered;
  const service = parseUniversalAddress(registered, netid);
  if (service === undefined || service.protocol === "unix") return undefined;
  const family = hintBytes.length === 4 ? "IPv4" : "IPv6";
  let best: ParsedInterface | undefined;
  for (const entry of parsedInterfaces(interfaces)) {
    if (entry.family !== family || entry.address.length !== hintBytes.length) continue;
    const { address, mask } = entry;
    if (address.every((b, i) => (b & mask[i]) === (hintBytes[i] & mask[i]))) {
      return formatMerged(address, service.port);
    }
    // Remember the first candidate, preferring an interface that is not loopback.
    if (best === undefined || (best.internal && !entry.internal)) best = entry;
  }
  if (best === undefined) return undefined;
  return formatMerged(best.address, service.port);
}

/** An interface with its address and netmask as bytes. */
interface ParsedInterface {
  readonly family: string;
  readonly address: number[];
  readonly mask: number[];
  readonly internal: boolean;
}

/** The parsed form of each list of interfaces seen, while the list lives (a cached list is asked for again and again). */
const parsedLists = new WeakMap<InterfaceList, readonly ParsedInterface[]>();

/** The interfaces of `list` whose address and netmask parse, in its order; parsed once per list object. */
function parsedInterfaces(list: InterfaceList): readonly ParsedInterface[] {
  let parsed = parsedLists.get(list);
  if (parsed !== undefined) return parsed;
  const out: ParsedInterface[] = [];
  for (const entries of Object.values(list)) {
    for (const entry of entries ?? []) {
      const address = ipBytes(entry.address);
      const mask = ipBytes(entry.netmask);
      if (address === undefined || mask === undefined) continue;
      out.push({ family: entry.family, address, mask, internal: entry.internal });
    }
  }
  parsed = out;
  parsedLists.set(list, parsed);
  return parsed;
}

function ipBytes(host: string): number[] | undefined {
  return parseIPv4(host) ?? parseIPv6(host.replace(/%.*$/, ""));
}

function formatMerged(address: number[], port: number): string {
  const host = address.length === 4 ? address.join(".") : formatIPv6(address);
  return `${host}.${port >> 8}.${port & 255}`;
}
