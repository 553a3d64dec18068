/**
 * The binder's registrations: which (program, version, netid) is served at
 * which universal address, and who registered it. SET, UNSET and the lookups
 * follow rpcbind 1.2.6 (rpcb_svc_com.c: map_set, map_unset, find_service;
 * pmap_svc.c for the portmapper's view) so that a binder answers exactly as
 * rpcbind does.
 */
import { IPPROTO_TCP, IPPROTO_UDP, type Mapping } from "./protocol/pmap_prot.js";
import { Netid, universalAddressPort } from "./universal-address.js";

/** One registration, as rpcbind's `rpcb` (rpcb_prot.x). */
export interface Registration {
  readonly program: number;
  readonly version: number;
  /** The netid (`tcp`, `udp`, `tcp6`, `udp6`, `local`, or any string a caller gave). */
  readonly netid: string;
  /** The universal address (RFC 5665) the program version is served at. */
  readonly address: string;
  /** Who registered it: "superuser", a uid in decimal, or "unknown" (see docs/binder.md). */
  readonly owner: string;
}

/** The owner that may remove any registration. */
export const SUPERUSER = "superuser";

/** The owner of a registration whose caller could not be identified. */
export const UNKNOWN_OWNER = "unknown";

/** Options of a Registry. */
export interface RegistryOptions {
  /** Registrations kept at most (besides the binder's own); a SET past it fails. Default 65,536. */
  readonly maxEntries?: number;
}

/**
 * The registrations, in the order DUMP lists them: the binder's own first,
 * then the others in the order they were set.
 */
export class Registry {
  #own: Registration[] = [];
  #entries: Registration[] = [];
  readonly #maxEntries: number;

  constructor(options: RegistryOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 65_536;
  }

  /** Every registration, in DUMP order. */
  list(): readonly Registration[] {
    return this.#own.length === 0 ? this.#entries.slice() : [...this.#own, ...this.#entries];
  }

  /** The number of registrations. */
  get size(): number {
    return this.#own.length + this.#entries.length;
  }

  /**
   * Replaces the binder's own registrations (program 100000 at the addresses
   * it listens on), which DUMP lists first as rpcbind does.
   */
  setOwn(entries: readonly Registration[]): void {
    this.#own = entries.slice();
  }

  /**
   * RPCBPROC_SET (rpcbind's map_set): adds the registration unless
   * (program, version, netid) is registered already. Registering the same
   * address again is a success that changes nothing; another address is a
   * failure. Netids compare without regard to case, addresses exactly.
   * Past `maxEntries` (a bound rpcbind does not have) a new one fails too.
   */
  set(entry: Registration): boolean {
    const found = this.find(entry.program, entry.version, entry.netid);
    if (found !== undefined && found.version === entry.version) return found.address === entry.address;
    if (this.#entries.length >= this.#maxEntries) return false;
    this.#entries.push({ ...entry });
    return true;
  }

  /**
   * RPCBPROC_UNSET (rpcbind's map_unset): removes the registrations of
   * (program, version) for `netid`, or for every netid when `netid` is "".
   * Only their owner or the superuser may: at the first one `owner` may not
   * remove, it stops and answers false, keeping what it removed before.
   * Otherwise true, whether or not anything was there.
   */
  unset(program: number, version: number, netid: string, owner: string): boolean {
    const removeFrom = (list: Registration[]): boolean => {
      for (let i = 0; i < list.length; ) {
        const r = list[i];
        if (r.program !== program || r.version !== version || (netid !== "" && !sameNetid(netid, r.netid))) {
          i++;
          continue;
        }
        if (owner !== SUPERUSER && r.owner !== owner) return false;
        list.splice(i, 1);
      }
      return true;
    };
    return removeFrom(this.#own) && removeFrom(this.#entries);
  }

  /**
   * rpcbind's find_service: the registration of (program, version) on
   * `netid`; when that version is not registered there, the last
   * registration of the program on that netid (so that a client calling it
   * learns the versions served from PROG_MISMATCH), else undefined.
   */
  find(program: number, version: number, netid: string): Registration | undefined {
    let hit: Registration | undefined;
    for (const r of this.#all()) {
      if (r.program !== program || !sameNetid(r.netid, netid)) continue;
      hit = r;
      if (r.version === version) break;
    }
    return hit;
  }

  /** The lowest and highest versions of `program` registered on `netid` (rpcbind's find_versions), or undefined. */
  versions(program: number, netid: string): { low: number; high: number } | undefined {
    let range: { low: number; high: number } | undefined;
    for (const r of this.#all()) {
      if (r.program !== program || !sameNetid(r.netid, netid)) continue;
      if (range === undefined) range = { low: r.version, high: r.version };
      else range = { low: Math.min(range.low, r.version), high: Math.max(range.high, r.version) };
    }
    return range;
  }

  /** The registrations of exactly (program, version), every netid, in DUMP order. */
  findAll(program: number, version: number): Registration[] {
    return this.list().filter((r) => r.program === program && r.version === version);
  }

  /**
   * The portmapper's view (version 2): the registrations on netids `tcp`
   * and `udp` whose address has a port, as mappings, in DUMP order.
   */
  mappings(): Mapping[] {
    const out: Mapping[] = [];
    for (const r of this.#all()) {
      const prot = ipProtocolOf(r.netid);
      const port = universalAddressPort(r.address);
      if (prot === undefined || port === undefined) continue;
      out.push({ prog: r.program, vers: r.version, prot, port });
    }
    return out;
  }

  /**
   * PMAPPROC_GETPORT (rpcbind's find_service_pmap): the port of
   * (program, version, protocol); when that version is not mapped, the port
   * of the program's last mapping on that protocol; 0 when there is none.
   */
  getPort(program: number, version: number, protocol: number): number {
    let hit: Mapping | undefined;
    for (const m of this.mappings()) {
      if (m.prog !== program || m.prot !== protocol) continue;
      hit = m;
      if (m.vers === version) break;
    }
    return hit?.port ?? 0;
  }

  *#all(): Iterable<Registration> {
    yield* this.#own;
    yield* this.#entries;
  }
}

/** rpcbind compares netids with strcasecmp. */
function sameNetid(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** The IP protocol number the portmapper uses for a netid: only `tcp` and `udp` (IPv4) have one. */
export function ipProtocolOf(netid: string): number | undefined {
  if (netid === Netid.TCP) return IPPROTO_TCP;
  if (netid === Netid.UDP) return IPPROTO_UDP;
  return undefined;
}

/** The netid of a portmapper protocol number: 6 is `tcp`, 17 `udp`, anything else none. */
export function netidOfIpProtocol(protocol: number): string | undefined {
  if (protocol === IPPROTO_TCP) return Netid.TCP;
  if (protocol === IPPROTO_UDP) return Netid.UDP;
  return undefined;
}
