/**
 * The binder's registrations: which (program, version, netid) is served at
 * which universal address, and who registered it. SET, UNSET and the lookups
 * follow rpcbind 1.2.6 (rpcb_svc_com.c: map_set, map_unset, find_service;
 * pmap_svc.c for the portmapper's view) so that a binder answers exactly as
 * rpcbind does.
 *
 * Built to be replicated (src/binder/store): every SET and UNSET that
 * changes something is emitted to the subscribers after it is made, as
 * plain data; `apply` makes a change that came from elsewhere (a state
 * file, another binder) without emitting it again; `snapshot` and `load`
 * copy the registrations out and in. The binder's own entries (`setOwn`)
 * belong to one binder and are neither emitted nor in a snapshot.
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

/**
 * One change to the registrations, as the change feed emits it and as
 * `apply` takes it: the registration added by a SET, or one removed by an
 * UNSET (an UNSET of every netid emits one per registration it removes).
 */
export type RegistryChange =
  | { readonly type: "set"; readonly registration: Registration }
  | { readonly type: "unset"; readonly registration: Registration };

/** Options of a Registry. */
export interface RegistryOptions {
  /** Registrations kept at most (besides the binder's own); a SET past it fails. Default 65,536. */
  readonly maxEntries?: number;
  /** Told when a subscriber throws; the change is made and the other subscribers told all the same. Default: a process warning. */
  readonly onListenerError?: (error: unknown) => void;
}

/**
 * The key of a registration's slot: rpcbind keeps one address per
 * (program, version, netid), netids compared without regard to case. The
 * netid is lowercased and URI-encoded, so the key is also a safe path
 * segment (a netid may be any string).
 */
export function registrationKey(r: Pick<Registration, "program" | "version" | "netid">): string {
  return `${r.program >>> 0}/${r.version >>> 0}/${encodeURIComponent(r.netid.toLowerCase())}`;
}

/** True when `value` has the shape of a Registration (for data read back from a file or etcd). */
export function isRegistration(value: unknown): value is Registration {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  const isUint32 = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
  return (
    isUint32(v.program) &&
    isUint32(v.version) &&
    typeof v.netid === "string" &&
    typeof v.address === "string" &&
    typeof v.owner === "string"
  );
}

/**
 * The registrations, in the order DUMP lists them: the binder's own first,
 * then the others in the order they were set.
 */
export class Registry {
  #own: Registration[] = [];
  #entries: Registration[] = [];
  readonly #maxEntries: number;
  readonly #listeners = new Set<(change: RegistryChange) => void>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(options: RegistryOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 65_536;
    this.#onListenerError = options.onListenerError ?? warnListenerError;
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
    const added = copyRegistration(entry);
    this.#entries.push(added);
    this.#emit({ type: "set", registration: added });
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
    const removeFrom = (list: Registration[], emits: boolean): boolean => {
      for (let i = 0; i < list.length; ) {
        const r = list[i];
        if (r.program !== program || r.version !== version || (netid !== "" && !sameNetid(netid, r.netid))) {
          i++;
          continue;
        }
        if (owner !== SUPERUSER && r.owner !== owner) return false;
        list.splice(i, 1);
        if (emits) this.#emit({ type: "unset", registration: r });
      }
      return true;
    };
    return removeFrom(this.#own, false) && removeFrom(this.#entries, true);
  }

  /**
   * Calls `listener` after every SET that adds a registration and for each
   * registration an UNSET removes (not the binder's own, not those changed
   * by `apply` or `load`). Returns the function that stops it.
   */
  subscribe(listener: (change: RegistryChange) => void): () => void {
    const own = (change: RegistryChange) => listener(change);
    this.#listeners.add(own);
    return () => {
      this.#listeners.delete(own);
    };
  }

  /**
   * Makes a change that came from elsewhere, without emitting it. `set`
   * puts the registration in its slot (see {@link registrationKey}),
   * replacing whatever address was there in place (the winner of a race
   * between binders replaces the loser), else appends it; `unset` empties
   * the slot. Idempotent; no owner check (the change was authorized where
   * it was made). False when a `set` finds the registry full (the change
   * is then dropped).
   */
  apply(change: RegistryChange): boolean {
    const key = registrationKey(change.registration);
    const at = this.#entries.findIndex((r) => registrationKey(r) === key);
    if (change.type === "unset") {
      if (at >= 0) this.#entries.splice(at, 1);
      return true;
    }
    if (at >= 0) {
      this.#entries[at] = copyRegistration(change.registration);
      return true;
    }
    if (this.#entries.length >= this.#maxEntries) return false;
    this.#entries.push(copyRegistration(change.registration));
    return true;
  }

  /** The registrations (not the binder's own), in DUMP order: plain data to write out and `load` again. */
  snapshot(): Registration[] {
    return this.#entries.slice();
  }

  /**
   * Replaces the registrations (not the binder's own) with `entries`, as
   * `snapshot` gave them, without emitting changes. A later entry for a
   * slot already loaded replaces it; past `maxEntries` the rest are left
   * out. Returns how many were loaded.
   */
  load(entries: readonly Registration[]): number {
    const slots = new Map<string, Registration>();
    for (const entry of entries) {
      const key = registrationKey(entry);
      // Map.set on a key it has keeps its place, as apply replaces in place.
      if (slots.has(key) || slots.size < this.#maxEntries) slots.set(key, copyRegistration(entry));
    }
    this.#entries = [...slots.values()];
    return this.#entries.length;
  }

  #emit(change: RegistryChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
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

/**
 * A frozen copy with exactly the fields of a Registration, so that what the
 * registry keeps and emits never changes under its holder and serializes
 * the same whatever the caller's object carried.
 */
function copyRegistration(r: Registration): Registration {
  return Object.freeze({
    program: r.program,
    version: r.version,
    netid: r.netid,
    address: r.address,
    owner: r.owner,
  });
}

function warnListenerError(error: unknown): void {
  process.emitWarning(`a registry subscriber threw: ${String(error)}`, "RegistryWarning");
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
