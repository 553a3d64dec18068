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
import { IPPROTO_TCP, IPPROTO_UDP, type Mapping } from "../rpc/protocol/pmap_prot.js";
import { Netid, universalAddressPort } from "../transport/universal-address.js";

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
 * A registration as the registry holds it, with what the lookups compare
 * worked out once, when it is set: rpcbind scans its list and compares
 * netids and parses ports on every lookup; we do it per SET.
 */
interface Slot {
  readonly registration: Registration;
  /** {@link registrationKey} of the registration. */
  readonly key: string;
  readonly version: number;
  /** The netid lowercased: rpcbind compares netids with strcasecmp. */
  readonly netid: string;
  /** The portmapper's protocol (6, 17) when the netid is `tcp` or `udp` and the address has a port; else undefined. */
  readonly protocol: number | undefined;
  /** The port of the universal address, when it has one (0 otherwise). */
  readonly port: number;
  /** One of the binder's own (setOwn): neither emitted nor in a snapshot. */
  readonly own: boolean;
}

/**
 * The registrations, in the order DUMP lists them: the binder's own first,
 * then the others in the order they were set.
 *
 * Indexed by program: each program's registrations in DUMP order, so that
 * a lookup (GETADDR, GETPORT, INDIRECT) reads the few registrations of
 * the program asked for rather than scanning them all, as rpcbind does.
 * One list per program rather than per (program, netid): GETADDRLIST
 * wants every netid of a version in DUMP order, and a program has a
 * handful of registrations.
 */
export class Registry {
  #own: Slot[] = [];
  /** The others by key, in the order set (a Map keeps the place of a key it has). */
  #entries = new Map<string, Slot>();
  /** Each program's registrations, the binder's own first, then in the order set. */
  #byProgram = new Map<number, Slot[]>();
  readonly #maxEntries: number;
  readonly #listeners = new Set<(change: RegistryChange) => void>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(options: RegistryOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 65_536;
    this.#onListenerError = options.onListenerError ?? warnListenerError;
  }

  /** Every registration, in DUMP order. */
  list(): readonly Registration[] {
    const out: Registration[] = [];
    for (const slot of this.#own) out.push(slot.registration);
    for (const slot of this.#entries.values()) out.push(slot.registration);
    return out;
  }

  /** The number of registrations. */
  get size(): number {
    return this.#own.length + this.#entries.size;
  }

  /**
   * Replaces the binder's own registrations (program 100000 at the addresses
   * it listens on), which DUMP lists first as rpcbind does.
   */
  setOwn(entries: readonly Registration[]): void {
    const programs = new Set<number>();
    for (const slot of this.#own) programs.add(slot.registration.program);
    this.#own = entries.map((r) => slotOf(r, true));
    for (const slot of this.#own) programs.add(slot.registration.program);
    for (const program of programs) {
      const own = this.#own.filter((s) => s.registration.program === program);
      const others = (this.#byProgram.get(program) ?? []).filter((s) => !s.own);
      this.#setProgram(program, [...own, ...others]);
    }
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
    const key = registrationKey(entry);
    // Only numbers that are not uint32 (-1 and 0xffffffff) reach here with a key that is taken.
    const taken = this.#entries.get(key);
    if (taken !== undefined) return taken.registration.address === entry.address;
    if (this.#entries.size >= this.#maxEntries) return false;
    const slot = slotOf(copyRegistration(entry), false);
    this.#add(slot);
    this.#emit({ type: "set", registration: slot.registration });
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
    const list = this.#byProgram.get(program);
    if (list === undefined) return true;
    const lower = netid.toLowerCase();
    const removed: Registration[] = [];
    let allowed = true;
    for (let i = 0; i < list.length; ) {
      const slot = list[i];
      if (slot.version !== version || (netid !== "" && slot.netid !== lower)) {
        i++;
        continue;
      }
      if (owner !== SUPERUSER && slot.registration.owner !== owner) {
        allowed = false;
        break;
      }
      list.splice(i, 1);
      if (slot.own) this.#own.splice(this.#own.indexOf(slot), 1);
      else {
        this.#entries.delete(slot.key);
        removed.push(slot.registration);
      }
    }
    if (list.length === 0) this.#byProgram.delete(program);
    // Told once the registry is consistent again, in DUMP order, as they were removed.
    for (const registration of removed) this.#emit({ type: "unset", registration });
    return allowed;
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
    const held = this.#entries.get(key);
    if (change.type === "unset") {
      if (held !== undefined) this.#remove(held);
      return true;
    }
    const slot = slotOf(copyRegistration(change.registration), false);
    if (held !== undefined) {
      this.#replace(held, slot);
      return true;
    }
    if (this.#entries.size >= this.#maxEntries) return false;
    this.#add(slot);
    return true;
  }

  /** The registrations (not the binder's own), in DUMP order: plain data to write out and `load` again. */
  snapshot(): Registration[] {
    const out: Registration[] = [];
    for (const slot of this.#entries.values()) out.push(slot.registration);
    return out;
  }

  /**
   * Replaces the registrations (not the binder's own) with `entries`, as
   * `snapshot` gave them, without emitting changes. A later entry for a
   * slot already loaded replaces it; past `maxEntries` the rest are left
   * out. Returns how many were loaded.
   */
  load(entries: readonly Registration[]): number {
    const slots = new Map<string, Slot>();
    for (const entry of entries) {
      const key = registrationKey(entry);
      // Map.set on a key it has keeps its place, as apply replaces in place.
      if (slots.has(key) || slots.size < this.#maxEntries)
        slots.set(key, slotOf(copyRegistration(entry), false));
    }
    this.#entries = slots;
    this.#byProgram = new Map();
    for (const slot of this.#own) this.#listOf(slot.registration.program).push(slot);
    for (const slot of slots.values()) this.#listOf(slot.registration.program).push(slot);
    return slots.size;
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
    const list = this.#byProgram.get(program);
    if (list === undefined) return undefined;
    const lower = netid.toLowerCase();
    let hit: Slot | undefined;
    for (const slot of list) {
      if (slot.netid !== lower) continue;
      hit = slot;
      if (slot.version === version) break;
    }
    return hit?.registration;
  }

  /** The lowest and highest versions of `program` registered on `netid` (rpcbind's find_versions), or undefined. */
  versions(program: number, netid: string): { low: number; high: number } | undefined {
    const lower = netid.toLowerCase();
    let range: { low: number; high: number } | undefined;
    for (const slot of this.#byProgram.get(program) ?? []) {
      if (slot.netid !== lower) continue;
      if (range === undefined) range = { low: slot.version, high: slot.version };
      else range = { low: Math.min(range.low, slot.version), high: Math.max(range.high, slot.version) };
    }
    return range;
  }

  /** The registrations of exactly (program, version), every netid, in DUMP order. */
  findAll(program: number, version: number): Registration[] {
    const out: Registration[] = [];
    for (const slot of this.#byProgram.get(program) ?? [])
      if (slot.version === version) out.push(slot.registration);
    return out;
  }

  /**
   * The portmapper's view (version 2): the registrations on netids `tcp`
   * and `udp` whose address has a port, as mappings, in DUMP order.
   */
  mappings(): Mapping[] {
    const out: Mapping[] = [];
    const add = (slot: Slot) => {
      if (slot.protocol === undefined) return;
      const r = slot.registration;
      out.push({ prog: r.program, vers: r.version, prot: slot.protocol, port: slot.port });
    };
    for (const slot of this.#own) add(slot);
    for (const slot of this.#entries.values()) add(slot);
    return out;
  }

  /**
   * PMAPPROC_GETPORT (rpcbind's find_service_pmap): the port of
   * (program, version, protocol); when that version is not mapped, the port
   * of the program's last mapping on that protocol; 0 when there is none.
   */
  getPort(program: number, version: number, protocol: number): number {
    const list = this.#byProgram.get(program);
    if (list === undefined) return 0;
    let hit: Slot | undefined;
    for (const slot of list) {
      if (slot.protocol !== protocol) continue;
      hit = slot;
      if (slot.version === version) break;
    }
    return hit?.port ?? 0;
  }

  /** The list of `program`'s registrations, made when it has none. */
  #listOf(program: number): Slot[] {
    let list = this.#byProgram.get(program);
    if (list === undefined) {
      list = [];
      this.#byProgram.set(program, list);
    }
    return list;
  }

  #setProgram(program: number, list: Slot[]): void {
    if (list.length === 0) this.#byProgram.delete(program);
    else this.#byProgram.set(program, list);
  }

  /** Appends a registration (not one of the binder's own): last in DUMP order, and in its program's list. */
  #add(slot: Slot): void {
    this.#entries.set(slot.key, slot);
    this.#listOf(slot.registration.program).push(slot);
  }

  #remove(slot: Slot): void {
    this.#entries.delete(slot.key);
    const program = slot.registration.program;
    const list = this.#byProgram.get(program) ?? [];
    const at = list.indexOf(slot);
    if (at >= 0) list.splice(at, 1);
    this.#setProgram(program, list);
  }

  /** Puts `slot` where `held` was, in DUMP order and in its program's list. */
  #replace(held: Slot, slot: Slot): void {
    this.#entries.set(slot.key, slot);
    const list = this.#byProgram.get(held.registration.program) ?? [];
    const at = list.indexOf(held);
    if (at >= 0 && held.registration.program === slot.registration.program) {
      list[at] = slot;
      return;
    }
    // The same key for another number (only numbers that are not uint32): moved to its own program's list.
    if (at >= 0) list.splice(at, 1);
    this.#setProgram(held.registration.program, list);
    this.#listOf(slot.registration.program).push(slot);
  }
}

/** A registration with what the lookups compare worked out. */
function slotOf(registration: Registration, own: boolean): Slot {
  const protocol = ipProtocolOf(registration.netid);
  const port = universalAddressPort(registration.address);
  return {
    registration,
    key: registrationKey(registration),
    version: registration.version,
    netid: registration.netid.toLowerCase(),
    protocol: port === undefined ? undefined : protocol,
    port: port ?? 0,
    own,
  };
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
