/**
 * The binder's replicated state as keyed records. Each kind of record the
 * binder keeps (rpcbind registrations, instances of its own program) has
 * the same replication hooks — a change feed, `apply` without re-emitting,
 * `snapshot` and `load` — in its own shape; a Collection shows them as puts
 * and deletes of JSON values under string keys, which is all a state file
 * or etcd needs to carry them.
 */
import { type InstanceRecord, isInstanceRecord } from "../instances/instance.js";
import type { InstanceTable } from "../instances/instance-table.js";
import { isRegistration, type Registration, type Registry, registrationKey } from "../registry.js";

/** One record: a key unique in its collection and a JSON-serializable value. */
export interface StoreEntry {
  readonly key: string;
  readonly value: unknown;
}

/** One change to a collection: a record put (added or replaced) or deleted. */
export type StoreChange =
  | { readonly op: "put"; readonly key: string; readonly value: unknown }
  | { readonly op: "delete"; readonly key: string };

/**
 * How a put made here meets a different value put under the same key
 * elsewhere. `first-wins`: the slot is claimed once (rpcbind's one address
 * per (program, version, netid)); a later claim with another value loses
 * unless `sameClaim` says it is the same. `last-wins`: the later put
 * replaces (records with unique keys, updated in place).
 */
export type ConflictRule = "first-wins" | "last-wins";

/** A kind of record the store carries, through its owner's replication hooks. */
export interface Collection {
  /** The name: a section of the state file, a segment of the etcd key. Letters, digits and '-'. */
  readonly name: string;
  readonly conflict: ConflictRule;
  /** Under `first-wins`: true when an existing value `held` satisfies a claim of `wanted` (a SET that succeeds). */
  sameClaim(held: unknown, wanted: unknown): boolean;
  /** Calls `listener` after each change made here; returns the function that stops it. */
  subscribe(listener: (change: StoreChange) => void): () => void;
  /** Makes a change from elsewhere without emitting it. False when the value is not a record of this kind, or the owner is full. */
  apply(change: StoreChange): boolean;
  /** Every record, in the owner's order. */
  snapshot(): StoreEntry[];
  /** Replaces every record, without emitting; values that are not records of this kind are left out. Returns how many were loaded. */
  load(entries: readonly StoreEntry[]): number;
  /** True when `value` is a record of this kind (for data read from a file or etcd). */
  isValue(value: unknown): boolean;
  /** The key a record of this kind is kept under (`value` must pass `isValue`). */
  keyOf(value: unknown): string;
}

/** The name of the registrations' collection. */
export const REGISTRATIONS = "registrations";

/** The name of the instances' collection. */
export const INSTANCES = "instances";

/**
 * The registry as a collection: one record per (program, version, netid)
 * slot ({@link registrationKey}), first wins, and a claim of the same
 * address is the same claim (rpcbind's SET of the same address again).
 */
export function registryCollection(registry: Registry): Collection {
  return {
    name: REGISTRATIONS,
    conflict: "first-wins",
    sameClaim: (held, wanted) =>
      isRegistration(held) && isRegistration(wanted) && held.address === wanted.address,
    subscribe: (listener) =>
      registry.subscribe((change) => {
        const key = registrationKey(change.registration);
        listener(
          change.type === "set" ? { op: "put", key, value: change.registration } : { op: "delete", key },
        );
      }),
    apply: (change) => {
      if (change.op === "put") {
        if (!isRegistration(change.value) || registrationKey(change.value) !== change.key) return false;
        return registry.apply({ type: "set", registration: change.value });
      }
      const slot = parseRegistrationKey(change.key);
      if (slot === undefined) return false;
      return registry.apply({ type: "unset", registration: { ...slot, address: "", owner: "" } });
    },
    snapshot: () => registry.snapshot().map((r) => ({ key: registrationKey(r), value: r })),
    load: (entries) =>
      registry.load(
        entries
          .filter((e) => isRegistration(e.value) && registrationKey(e.value) === e.key)
          .map((e) => e.value as Registration),
      ),
    isValue: isRegistration,
    keyOf: (value) => registrationKey(value as Registration),
  };
}

/**
 * The instance table as a collection: one record per instance id, the
 * last put wins (ids are unique; health checks and renewals update a
 * record in place).
 */
export function instanceCollection(table: InstanceTable): Collection {
  return {
    name: INSTANCES,
    conflict: "last-wins",
    sameClaim: () => true,
    subscribe: (listener) =>
      table.subscribe((change) => {
        if (change.type === "remove") listener({ op: "delete", key: change.id });
        else listener({ op: "put", key: change.instance.id, value: change.instance });
      }),
    apply: (change) => {
      if (change.op === "delete")
        return table.apply({ type: "remove", id: change.key, reason: "unregistered" });
      if (!isInstanceRecord(change.value) || change.value.id !== change.key) return false;
      return table.apply({ type: "update", instance: change.value });
    },
    snapshot: () => table.snapshot().map((r) => ({ key: r.id, value: r })),
    load: (entries) =>
      table.load(
        entries
          .filter((e) => isInstanceRecord(e.value) && e.value.id === e.key)
          .map((e) => e.value as InstanceRecord),
      ),
    isValue: isInstanceRecord,
    keyOf: (value) => (value as InstanceRecord).id,
  };
}

/** The slot a registration key names, or undefined when it is not one. */
function parseRegistrationKey(key: string): Pick<Registration, "program" | "version" | "netid"> | undefined {
  const m = /^(\d+)\/(\d+)\/(.*)$/.exec(key);
  if (m === null) return undefined;
  try {
    return { program: Number(m[1]), version: Number(m[2]), netid: decodeURIComponent(m[3]) };
  } catch {
    return undefined;
  }
}
