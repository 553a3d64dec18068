/**
 * The binder's own program, ONCE_BINDER_PROG (0x2f0ce001) version 1
 * (once_binder.x): REGISTER, RENEW and UNREGISTER instances, LIST and DUMP
 * them. Who may register follows rpcbind's rule for SET and UNSET
 * (authorization.ts); lookups are open to all. docs/binder.md has the rules.
 */
import { AuthError, AuthStat, type CallTarget } from "../../rpc/index.js";
import type { CallContext, Implementation } from "../../server/index.js";
import type { Peer } from "../../transport/index.js";
import {
  isWildcardHost,
  netidInfo,
  parseIPv4,
  parseUniversalAddress,
  unmapIPv4,
} from "../../transport/universal-address.js";
import { type InterfaceList, mergeAddress } from "../address-merge.js";
import { type AuthorizationOptions, authorize } from "../authorization.js";
import {
  type InstanceInfo,
  InstanceStatus,
  type ListRes,
  type MetadataEntry,
  ONCE_BINDER_MAX_LIST,
  type OnceBinderProgV1,
  type RegisterArgs,
  type RegisterRes,
  InstanceState as WireState,
} from "../protocol/once_binder.js";
import { SUPERUSER } from "../registry.js";
import type { InstanceFilter, InstanceRecord } from "./instance.js";
import type { InstanceTable } from "./instance-table.js";

/** Options of the instance service. */
export interface InstanceServiceOptions extends AuthorizationOptions {
  /** The longest lease granted, in ms; a longer one asked for is cut to it. */
  readonly maxLeaseMs: number;
  /** This host's interfaces, for merging wildcard addresses in LIST. Default os.networkInterfaces. */
  readonly interfaces?: () => InterfaceList;
  /**
   * Resolves once the change just made to instance `id` is kept where the
   * binder keeps its state (the state file, etcd): REGISTER, RENEW and
   * UNREGISTER answer after it, as SET and UNSET do, so that an instance
   * whose REGISTER was answered is in the file and in etcd. Its boolean is
   * not looked at: an instance's record is last-wins, and one that etcd
   * could not take stays here (the failure goes to the binder's
   * onStoreError). Default: none (memory only), they answer at once.
   */
  readonly settled?: (id: string) => Promise<boolean>;
}

/**
 * A LIST or DUMP answer over UDP stops before this many bytes, so that it
 * fits one datagram (65,507 bytes of UDP payload, less the reply header);
 * `truncated` then says so. Over streams only ONCE_BINDER_MAX_LIST bounds it.
 */
const UDP_LIST_BUDGET_BYTES = 60_000;

const MAX_UINT32 = 0xffff_ffff;

/** The implementation of ONCE_BINDER_PROG version 1 over `table`. */
export function instanceService(
  table: InstanceTable,
  options: InstanceServiceOptions,
): Implementation<typeof OnceBinderProgV1> {
  const owner = (ctx: CallContext): string => {
    const verdict = authorize(ctx.peer, ctx.credentials, 3, undefined, options);
    if (!verdict.allowed) throw new AuthError(AuthStat.AUTH_TOOWEAK, callTarget(ctx));
    return verdict.owner;
  };
  const mayChange = (record: InstanceRecord, caller: string) =>
    caller === SUPERUSER || record.owner === caller;
  /** `answer` once the change to `id` is kept, when the binder keeps its state anywhere. */
  const once = <T>(id: string, answer: T): T | Promise<T> =>
    options.settled === undefined ? answer : options.settled(id).then(() => answer);
  const listed = (records: readonly InstanceRecord[], ctx: CallContext): ListRes => {
    const now = table.now();
    const budget = ctx.peer.protocol === "udp" ? UDP_LIST_BUDGET_BYTES : Number.POSITIVE_INFINITY;
    const instances: InstanceInfo[] = [];
    let bytes = 8; // the array's length and `truncated`
    for (const record of records) {
      if (instances.length >= ONCE_BINDER_MAX_LIST) break;
      const info = instanceInfo(record, now, mergedAddress(record, ctx.peer, options.interfaces));
      bytes += encodedSize(info);
      if (bytes > budget) break;
      instances.push(info);
    }
    return { instances, truncated: instances.length < records.length };
  };
  return {
    register: (args: RegisterArgs, ctx: CallContext): RegisterRes | Promise<RegisterRes> => {
      const caller = owner(ctx);
      const address = checkedAddress(args, ctx.peer);
      const metadata = metadataRecord(args.metadata);
      if (args.name === "" || address === undefined || metadata === undefined) {
        return { status: InstanceStatus.INSTANCE_BAD_REGISTRATION };
      }
      const leaseMs = Math.min(args.lease_ms, options.maxLeaseMs);
      const record = table.register({
        name: args.name,
        program: args.prog,
        version: args.vers,
        netid: args.netid,
        address,
        metadata,
        owner: caller,
        leaseMs,
      });
      if (record === undefined) return { status: InstanceStatus.INSTANCE_TABLE_FULL };
      return once(record.id, {
        status: InstanceStatus.INSTANCE_OK,
        instance: { id: record.id, lease_ms: record.leaseMs },
      });
    },
    renew: (id: string, ctx: CallContext) => {
      const caller = owner(ctx);
      const record = table.get(id);
      if (record === undefined) return InstanceStatus.INSTANCE_UNKNOWN;
      if (!mayChange(record, caller)) return InstanceStatus.INSTANCE_NOT_OWNER;
      table.renew(id);
      return once(id, InstanceStatus.INSTANCE_OK);
    },
    unregister: (id: string, ctx: CallContext) => {
      const caller = owner(ctx);
      const record = table.get(id);
      if (record === undefined) return InstanceStatus.INSTANCE_UNKNOWN;
      if (!mayChange(record, caller)) return InstanceStatus.INSTANCE_NOT_OWNER;
      table.remove(id, "unregistered");
      return once(id, InstanceStatus.INSTANCE_OK);
    },
    list: (args, ctx) => {
      const filter: InstanceFilter = {
        program: args.prog,
        version: args.vers,
        name: args.name === "" ? undefined : args.name,
        netid: args.netid === "" ? undefined : args.netid,
      };
      return listed(table.list(filter), ctx);
    },
    dump: (_args, ctx) => listed(table.list(), ctx),
  };
}

/**
 * The address to record for a registration, or undefined when the netid is
 * unknown or the address does not parse on it (the binder could not probe
 * it). A wildcard host (`0.0.0.0`, `::`) given by a caller on another host
 * becomes the caller's host: the server is there, not here.
 */
function checkedAddress(args: RegisterArgs, caller: Peer): string | undefined {
  if (netidInfo(args.netid) === undefined) return undefined;
  const parsed = parseUniversalAddress(args.addr, args.netid);
  if (parsed === undefined) return undefined;
  if (parsed.protocol === "unix" || caller.protocol === "unix" || !isWildcardHost(parsed.host))
    return args.addr;
  const host = unmapIPv4(caller.host);
  if (isLoopbackOrWildcard(host)) return args.addr;
  const callerIsV4 = parseIPv4(host) !== undefined;
  const netidIsV4 = netidInfo(args.netid)?.family === "inet";
  if (callerIsV4 !== netidIsV4) return args.addr;
  const port = parsed.port;
  return `${host}.${port >> 8}.${port & 255}`;
}

function isLoopbackOrWildcard(host: string): boolean {
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return v4[0] === 127 || v4.every((b) => b === 0);
  return host === "::1" || isWildcardHost(host);
}

/** Metadata as a record, or undefined when a key is given twice. */
function metadataRecord(entries: readonly MetadataEntry[]): Record<string, string> | undefined {
  const record = Object.fromEntries(entries.map((e) => [e.key, e.value]));
  return Object.keys(record).length === entries.length ? record : undefined;
}

/** A wildcard address as the caller should use it (as GETADDR merges it); any other as registered. */
function mergedAddress(record: InstanceRecord, caller: Peer, interfaces?: () => InterfaceList): string {
  const parsed = parseUniversalAddress(record.address, record.netid);
  if (parsed === undefined || parsed.protocol === "unix" || !isWildcardHost(parsed.host))
    return record.address;
  return mergeAddress(caller, record.address, record.netid, "", interfaces?.()) ?? record.address;
}

function instanceInfo(record: InstanceRecord, now: number, address: string): InstanceInfo {
  return {
    id: record.id,
    name: record.name,
    prog: record.program,
    vers: record.version,
    netid: record.netid,
    addr: address,
    metadata: Object.entries(record.metadata).map(([key, value]) => ({ key, value })),
    state: record.state === "alive" ? WireState.INSTANCE_ALIVE : WireState.INSTANCE_SUSPECT,
    misses: Math.min(record.misses, MAX_UINT32),
    last_seen_age_ms: clampUint32(now - record.lastSeenAt),
    lease_ms: record.leaseMs,
    lease_remaining_ms: record.leaseExpiresAt === null ? 0 : clampUint32(record.leaseExpiresAt - now),
  };
}

function clampUint32(n: number): number {
  return Math.min(MAX_UINT32, Math.max(0, Math.floor(n)));
}

/** The XDR size of an instance_info (RFC 4506 §4.11: a string is its length, its bytes, padding to 4). */
function encodedSize(info: InstanceInfo): number {
  const string = (s: string) => 4 + ((Buffer.byteLength(s) + 3) & ~3);
  let size = string(info.id) + string(info.name) + 8 + string(info.netid) + string(info.addr) + 4 + 20;
  for (const m of info.metadata) size += string(m.key) + string(m.value);
  return size;
}

function callTarget(ctx: CallContext): CallTarget {
  return {
    program: ctx.program,
    version: ctx.version,
    procedure: ctx.procedure,
    label: `${ctx.procedureName} v${ctx.version}`,
  };
}
