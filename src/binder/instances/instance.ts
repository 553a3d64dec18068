/**
 * Instances: the servers of one (program, version) the binder knows beyond
 * rpcbind's one address per (program, version, netid), as its own program
 * (once_binder.x) registers them. Everything here is plain data, so that an
 * instance or a change to the table can be written as JSON to a file or to
 * etcd and read back unchanged.
 */

/** What the binder last learned of an instance (once_binder.x: instance_state). */
export type InstanceState = "alive" | "suspect";

/**
 * One instance as the table keeps it. Times are ms since the epoch (of the
 * table's clock), so that a copy replicated elsewhere means the same.
 */
export interface InstanceRecord {
  /** Unique, chosen by the binder (a UUID). */
  readonly id: string;
  /** The service's name, as the server gave it. */
  readonly name: string;
  readonly program: number;
  readonly version: number;
  /** The netid to reach it over (`tcp`, `udp`, `tcp6`, `udp6`, `local`). */
  readonly netid: string;
  /** Its universal address on that netid (RFC 5665). */
  readonly address: string;
  /** Key/value strings the server attached (a zone, a weight, …). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Who registered it, as rpcbind records owners ("superuser", a uid, "unknown"). */
  readonly owner: string;
  /** `suspect` after a missed health check, `alive` after an answer or a renewal. */
  readonly state: InstanceState;
  /** Health checks missed in a row (a replica holds the count told with the change to suspect). */
  readonly misses: number;
  /** When it was registered. */
  readonly registeredAt: number;
  /**
   * When it last answered a health check, renewed, or registered. Health
   * answers that change nothing else are this binder's own: a replica holds
   * the time of the last change it was told of.
   */
  readonly lastSeenAt: number;
  /** The lease granted, in ms; 0: no lease (health checks only). */
  readonly leaseMs: number;
  /** When the lease runs out unless renewed; null without a lease. */
  readonly leaseExpiresAt: number | null;
}

/** Why an instance left the table. */
export type RemovalReason = "unregistered" | "unhealthy" | "lease-expired";

/**
 * One change to an instance table, as its change feed emits it and as
 * `apply` takes it from elsewhere. `update` carries the whole new record
 * (a renewal, a change of state between alive and suspect), so applying
 * it needs no earlier state.
 */
export type InstanceChange =
  | { readonly type: "add"; readonly instance: InstanceRecord }
  | { readonly type: "update"; readonly instance: InstanceRecord }
  | { readonly type: "remove"; readonly id: string; readonly reason: RemovalReason };

/** Which instances a lookup wants; a field left out matches anything. */
export interface InstanceFilter {
  readonly program?: number;
  readonly version?: number;
  readonly name?: string;
  readonly netid?: string;
}

/** True when `value` has the shape of an InstanceRecord (for data read back from a file or etcd). */
export function isInstanceRecord(value: unknown): value is InstanceRecord {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  const isUint32 = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
  const isTime = (n: unknown) => typeof n === "number" && Number.isFinite(n);
  return (
    typeof v.id === "string" &&
    v.id !== "" &&
    typeof v.name === "string" &&
    isUint32(v.program) &&
    isUint32(v.version) &&
    typeof v.netid === "string" &&
    typeof v.address === "string" &&
    typeof v.metadata === "object" &&
    v.metadata !== null &&
    Object.values(v.metadata).every((s) => typeof s === "string") &&
    typeof v.owner === "string" &&
    (v.state === "alive" || v.state === "suspect") &&
    isUint32(v.misses) &&
    isTime(v.registeredAt) &&
    isTime(v.lastSeenAt) &&
    isUint32(v.leaseMs) &&
    (v.leaseExpiresAt === null || isTime(v.leaseExpiresAt))
  );
}

/** True when `record` matches `filter`. Netids compare without regard to case, as rpcbind's. */
export function matchesFilter(record: InstanceRecord, filter: InstanceFilter): boolean {
  return (
    (filter.program === undefined || record.program === filter.program) &&
    (filter.version === undefined || record.version === filter.version) &&
    (filter.name === undefined || record.name === filter.name) &&
    (filter.netid === undefined || record.netid.toLowerCase() === filter.netid.toLowerCase())
  );
}
