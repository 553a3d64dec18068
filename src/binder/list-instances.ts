/**
 * Looking instances up: LIST and DUMP of the binder's own program
 * (once_binder.x), as plain objects for a client to choose among.
 */
import { type ClientOptions, createClient } from "../client/index.js";
import type { AddressLike } from "../transport/index.js";
import type { InstanceState } from "./instances/instance.js";
import { type InstanceInfo, OnceBinderProgV1, InstanceState as WireState } from "./protocol/once_binder.js";

/** One live instance of a program version, as the binder answers LIST. */
export interface Instance {
  /** Unique, chosen by the binder. */
  readonly id: string;
  /** The service's name. */
  readonly name: string;
  readonly program: number;
  readonly version: number;
  /** The netid to reach it over (`tcp`, `udp`, `tcp6`, `udp6`, `local`). */
  readonly netid: string;
  /** Its universal address (RFC 5665); a wildcard host merged as GETADDR merges it. */
  readonly address: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** `suspect` when it missed its last health check. */
  readonly state: InstanceState;
  /** Health checks missed in a row. */
  readonly misses: number;
  /** Since it last answered a health check, renewed or registered, in ms. */
  readonly lastSeenAgeMs: number;
  /** The lease granted, in ms; 0: none. */
  readonly leaseMs: number;
  /** Until its lease runs out, in ms; 0 without a lease. */
  readonly leaseRemainingMs: number;
}

/** Which instances to list. */
export interface InstanceQuery {
  readonly program: number;
  readonly version: number;
  /** Only instances of this service name. */
  readonly name?: string;
  /** Only instances on this netid. */
  readonly netid?: string;
}

/**
 * The live instances of (program, version) a binder knows, in the order
 * they registered (ONCE_BINDER_LIST). At most 1,024, and over UDP as many as
 * fit one datagram. Rejects with the RpcError of the call: PROG_UNAVAIL from
 * a binder that does not serve ONCE_BINDER_PROG (rpcbind).
 */
export async function listInstances(
  binder: AddressLike,
  query: InstanceQuery,
  options?: ClientOptions,
): Promise<Instance[]> {
  const client = createClient(OnceBinderProgV1, binder, options);
  try {
    const res = await client.list({
      prog: query.program,
      vers: query.version,
      name: query.name ?? "",
      netid: query.netid ?? "",
    });
    return res.instances.map(fromWire);
  } finally {
    client.$destroy();
  }
}

/** Every live instance a binder knows (ONCE_BINDER_DUMP), bounded as {@link listInstances}. */
export async function dumpInstances(binder: AddressLike, options?: ClientOptions): Promise<Instance[]> {
  const client = createClient(OnceBinderProgV1, binder, options);
  try {
    return (await client.dump()).instances.map(fromWire);
  } finally {
    client.$destroy();
  }
}

function fromWire(info: InstanceInfo): Instance {
  return {
    id: info.id,
    name: info.name,
    program: info.prog,
    version: info.vers,
    netid: info.netid,
    address: info.addr,
    metadata: Object.freeze(Object.fromEntries(info.metadata.map((m) => [m.key, m.value]))),
    state: info.state === WireState.INSTANCE_ALIVE ? "alive" : "suspect",
    misses: info.misses,
    lastSeenAgeMs: info.last_seen_age_ms,
    leaseMs: info.lease_ms,
    leaseRemainingMs: info.lease_remaining_ms,
  };
}
