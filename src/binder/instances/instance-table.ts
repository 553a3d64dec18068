/**
 * The binder's instances: synchronous, in memory, bounded. Records are
 * frozen and replaced on every change, so a snapshot or an emitted change
 * never changes under its holder.
 *
 * Built to be replicated: every add and remove, and every update that
 * changes what the other binders must know (a renewal, a change of state
 * between alive and suspect), is emitted to the subscribers after it is
 * made; `apply` makes a change that came from elsewhere (another binder, a
 * file) without emitting it again; `snapshot` and `load` copy the whole
 * table out and in.
 *
 * What only this binder's health checks learn is kept here and not
 * emitted: an answer from an instance already alive (its `lastSeenAt`),
 * and misses after the first (the count, while it stays suspect). Each
 * answer used to be one write to the state file and to etcd; now a healthy
 * instance costs none, and a failing one two (suspect, then removed).
 */
import { randomUUID } from "node:crypto";
import {
  type InstanceChange,
  type InstanceFilter,
  type InstanceRecord,
  matchesFilter,
  type RemovalReason,
} from "./instance.js";

/** Options of an InstanceTable. Defaults in {@link INSTANCE_TABLE_DEFAULTS}. */
export interface InstanceTableOptions {
  /** Instances kept at most; a registration past it is refused. */
  readonly maxInstances?: number;
  /** The clock, in ms since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** Makes the id of a new instance. Default crypto.randomUUID. */
  readonly newId?: () => string;
  /** Told when a subscriber throws; the change is made and the other subscribers told all the same. Default: a process warning. */
  readonly onListenerError?: (error: unknown) => void;
}

/** The defaults of InstanceTableOptions. */
export const INSTANCE_TABLE_DEFAULTS = Object.freeze({
  maxInstances: 65_536,
});

/** What a registration gives: the fields of a record that the table does not decide. */
export interface NewInstance {
  readonly name: string;
  readonly program: number;
  readonly version: number;
  readonly netid: string;
  readonly address: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly owner: string;
  /** The lease granted, in ms; 0: none. */
  readonly leaseMs: number;
}

/** What a missed health check did to an instance. */
export type MissOutcome = "suspect" | "removed";

/** The instances, in the order they were registered. */
export class InstanceTable {
  /** The clock the table stamps records with (ms since the epoch). */
  readonly now: () => number;
  /** Instances kept at most. */
  readonly maxInstances: number;
  readonly #byId = new Map<string, InstanceRecord>();
  readonly #listeners = new Set<(change: InstanceChange) => void>();
  readonly #newId: () => string;
  readonly #onListenerError: (error: unknown) => void;

  constructor(options: InstanceTableOptions = {}) {
    this.maxInstances = options.maxInstances ?? INSTANCE_TABLE_DEFAULTS.maxInstances;
    this.now = options.now ?? Date.now;
    this.#newId = options.newId ?? randomUUID;
    this.#onListenerError = options.onListenerError ?? warnListenerError;
  }

  /** The number of instances. */
  get size(): number {
    return this.#byId.size;
  }

  /** The instance with this id, or undefined. */
  get(id: string): InstanceRecord | undefined {
    return this.#byId.get(id);
  }

  /** The instances matching `filter` (all of them without one), in the order registered. */
  list(filter: InstanceFilter = {}): InstanceRecord[] {
    const out: InstanceRecord[] = [];
    for (const r of this.#byId.values()) if (matchesFilter(r, filter)) out.push(r);
    return out;
  }

  /**
   * Adds an instance, alive and seen now, with a new id and its lease
   * running from now. Undefined when the table is full.
   */
  register(instance: NewInstance): InstanceRecord | undefined {
    if (this.#byId.size >= this.maxInstances) return undefined;
    let id = this.#newId();
    // A UUID does not repeat; an injected generator might.
    for (let i = 0; this.#byId.has(id); i++) id = i < 8 ? this.#newId() : randomUUID();
    const now = this.now();
    const record = freeze({
      id,
      name: instance.name,
      program: instance.program,
      version: instance.version,
      netid: instance.netid,
      address: instance.address,
      metadata: Object.freeze({ ...instance.metadata }),
      owner: instance.owner,
      state: "alive",
      misses: 0,
      registeredAt: now,
      lastSeenAt: now,
      leaseMs: instance.leaseMs,
      leaseExpiresAt: instance.leaseMs > 0 ? now + instance.leaseMs : null,
    });
    this.#byId.set(id, record);
    this.#emit({ type: "add", instance: record });
    return record;
  }

  /**
   * Renews an instance: its lease runs again from now, and a renewal is a
   * sign of life (alive, no misses, seen now). Undefined for an unknown id.
   */
  renew(id: string): InstanceRecord | undefined {
    const r = this.#byId.get(id);
    if (r === undefined) return undefined;
    const now = this.now();
    return this.#update({
      ...r,
      state: "alive",
      misses: 0,
      lastSeenAt: now,
      leaseExpiresAt: r.leaseMs > 0 ? now + r.leaseMs : null,
    });
  }

  /**
   * A health check answered: alive, no misses, seen now. Emitted only when
   * the instance was suspect; an answer from one already alive changes its
   * `lastSeenAt` here only. Undefined for an unknown id.
   */
  markAlive(id: string): InstanceRecord | undefined {
    const r = this.#byId.get(id);
    if (r === undefined) return undefined;
    const record: InstanceRecord = { ...r, state: "alive", misses: 0, lastSeenAt: this.now() };
    return r.state === "alive" && r.misses === 0 ? this.#keep(record) : this.#update(record);
  }

  /**
   * A health check missed: one more miss in a row, and the instance is
   * suspect; at `maxMisses` it is removed (reason `unhealthy`). Emitted when
   * it becomes suspect and when it is removed; the misses counted in
   * between are kept here only. Undefined for an unknown id.
   */
  markMissed(id: string, maxMisses: number): MissOutcome | undefined {
    const r = this.#byId.get(id);
    if (r === undefined) return undefined;
    const misses = r.misses + 1;
    if (misses >= maxMisses) {
      this.remove(id, "unhealthy");
      return "removed";
    }
    const record: InstanceRecord = { ...r, state: "suspect", misses };
    if (r.state === "suspect") this.#keep(record);
    else this.#update(record);
    return "suspect";
  }

  /** Removes an instance; false when there was none with this id. */
  remove(id: string, reason: RemovalReason = "unregistered"): boolean {
    if (!this.#byId.delete(id)) return false;
    this.#emit({ type: "remove", id, reason });
    return true;
  }

  /** Removes the instances whose lease ran out at `now` or before (reason `lease-expired`); returns them. */
  expireLeases(now: number = this.now()): InstanceRecord[] {
    const expired: InstanceRecord[] = [];
    for (const r of this.#byId.values()) {
      if (r.leaseExpiresAt !== null && r.leaseExpiresAt <= now) expired.push(r);
    }
    for (const r of expired) this.remove(r.id, "lease-expired");
    return expired;
  }

  /**
   * Calls `listener` after every add, update and remove made here (not
   * those made by `apply` or `load`). Returns the function that stops it.
   */
  subscribe(listener: (change: InstanceChange) => void): () => void {
    const own = (change: InstanceChange) => listener(change);
    this.#listeners.add(own);
    return () => {
      this.#listeners.delete(own);
    };
  }

  /**
   * Makes a change that came from elsewhere, without emitting it: `add`
   * and `update` put the record in (replacing one with its id, else
   * appended), `remove` takes it out. Idempotent. False when an `add` or
   * `update` of a new id finds the table full (the change is then dropped).
   */
  apply(change: InstanceChange): boolean {
    if (change.type === "remove") {
      this.#byId.delete(change.id);
      return true;
    }
    const record = copyRecord(change.instance);
    if (!this.#byId.has(record.id) && this.#byId.size >= this.maxInstances) return false;
    this.#byId.set(record.id, record);
    return true;
  }

  /** Every instance, in the order registered: plain data to write out and `load` again. */
  snapshot(): InstanceRecord[] {
    return [...this.#byId.values()];
  }

  /**
   * Replaces every instance with `instances` (as `snapshot` gave them),
   * without emitting changes. Past `maxInstances` the rest are left out;
   * returns how many were loaded.
   */
  load(instances: readonly InstanceRecord[]): number {
    this.#byId.clear();
    for (const instance of instances) {
      if (this.#byId.size >= this.maxInstances) break;
      const record = copyRecord(instance);
      this.#byId.set(record.id, record);
    }
    return this.#byId.size;
  }

  #update(record: InstanceRecord): InstanceRecord {
    const frozen = this.#keep(record);
    this.#emit({ type: "update", instance: frozen });
    return frozen;
  }

  /** Replaces a record without emitting: what only this binder needs to know. */
  #keep(record: InstanceRecord): InstanceRecord {
    const frozen = freeze(record);
    // Map.set on an existing key keeps its place: the registration order stays.
    this.#byId.set(frozen.id, frozen);
    return frozen;
  }

  #emit(change: InstanceChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}

function freeze(record: InstanceRecord): InstanceRecord {
  return Object.freeze(record);
}

/** A frozen copy of a record from elsewhere, so the caller's object can change without changing ours. */
function copyRecord(record: InstanceRecord): InstanceRecord {
  return freeze({ ...record, metadata: Object.freeze({ ...record.metadata }) });
}

function warnListenerError(error: unknown): void {
  process.emitWarning(`an instance table subscriber threw: ${String(error)}`, "InstanceTableWarning");
}
