/**
 * createBinder: a drop-in for rpcbind. One once-rpc server serves the
 * portmapper (program 100000 version 2, RFC 1833 §3) and rpcbind versions 3
 * and 4 (RFC 1833 §2) over every address it listens on, from the modules
 * `once gen` makes of pmap_prot.x and rpcb_prot.x. Answers follow Debian's
 * rpcbind 1.2.6; the differences are listed in docs/binder.md.
 */
import { chmodSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { AuthError, AuthStat, type CallTarget, ProgramMismatchError, RpcError } from "../rpc/index.js";
import { PMAP_PROG, type Pmaplist, PmapProgV2 } from "../rpc/protocol/pmap_prot.js";
import {
  type Netbuf,
  type Rpcb,
  type RpcbEntryList,
  RpcbprogV3,
  RpcbprogV4,
  type RpcbRmtcallargs,
  type RpList,
} from "../rpc/protocol/rpcb_prot.js";
import { type CallContext, createServer, NoReply, type Server, type ServerOptions } from "../server/index.js";
import {
  type Address,
  type AddressLike,
  type InetAddress,
  type Peer,
  parseAddress,
} from "../transport/index.js";
import {
  formatUniversalAddress,
  isWildcardHost,
  NO_TRANSPORT_ADDRESS,
  netidInfo,
  netidOf,
  parseUniversalAddress,
  transportToUniversal,
  universalAddressPort,
  universalToTransport,
} from "../transport/universal-address.js";
import { xdrVoid } from "../xdr/index.js";
import { cachedInterfaces, type InterfaceList, mergeAddress } from "./address-merge.js";
import { type AuthorizationOptions, authorize } from "./authorization.js";
import { HEALTH_DEFAULTS, HealthMonitor, type HealthOptions } from "./instances/health-monitor.js";
import { instanceService } from "./instances/instance-service.js";
import { InstanceTable } from "./instances/instance-table.js";
import { OnceBinderProgV1 } from "./protocol/once_binder.js";
import { netidOfIpProtocol, type Registration, Registry, registrationKey, SUPERUSER } from "./registry.js";
import { isForwardingRefused, RemoteCalls } from "./remote-call.js";
import { BinderStatistics } from "./statistics.js";
import { BinderStore, type EtcdShareOptions } from "./store/binder-store.js";
import { INSTANCES, instanceCollection, REGISTRATIONS, registryCollection } from "./store/collection.js";
import { dropUnreachable } from "./store/restore-check.js";
import type { StoreError } from "./store/store-error.js";

/** Options of createBinder. Defaults in {@link BINDER_DEFAULTS}. */
export interface BinderOptions extends AuthorizationOptions, HealthOptions {
  /** Forward CALLIT, BCAST and INDIRECT to registered UDP services (as `rpcbind -r`). */
  readonly remoteCalls?: boolean;
  /** How long a forwarded call may wait for the service's reply. */
  readonly remoteCallTimeoutMs?: number;
  /** The registrations, to share or inspect. Default: a new Registry. */
  readonly registry?: Registry;
  /** Options of the binder's server; the binder's defaults lower maxRecordBytes to 1 MiB. */
  readonly server?: ServerOptions;
  /** GETTIME's clock, in ms since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** This host's interfaces, for the addresses GETADDR merges. Default os.networkInterfaces. */
  readonly interfaces?: () => InterfaceList;
  /**
   * How long a list of the interfaces is used before they are listed again,
   * in ms: a lookup then costs no system call, and an interface that comes
   * or goes is seen within this long. 0: listed on every lookup.
   */
  readonly interfacesCacheMs?: number;
  /**
   * The permissions of the Unix sockets it listens on. Default 0o666, as
   * rpcbind: every local user may register (see docs/binder.md on owners).
   */
  readonly unixSocketMode?: number;
  /**
   * The instances of the binder's own program (once_binder.x), to share or
   * inspect. Default: a new InstanceTable (65,536 instances at most).
   */
  readonly instances?: InstanceTable;
  /** The longest lease REGISTER grants, in ms; a longer one asked for is cut to it. */
  readonly maxLeaseMs?: number;
  /**
   * Keep the registrations and instances in this file: loaded before the
   * binder serves (`listen` waits for it), rewritten atomically after each
   * change; SET and UNSET answer once it is written. Default: memory only.
   * See docs/binder.md, "State".
   */
  readonly stateFile?: string;
  /** At start, drop restored registrations whose server does not answer a NULL call (rpcbind's `-w` restores all). */
  readonly checkRestored?: boolean;
  /** How long each restored registration has to answer when `checkRestored`. */
  readonly checkRestoredTimeoutMs?: number;
  /** Share the registrations and instances with other binders through etcd (docs/binder.md, "Sharing"). */
  readonly share?: { readonly etcd: EtcdShareOptions };
  /** Told of each failure of the state file or etcd while the binder runs. Default: a process warning. */
  readonly onStoreError?: (error: StoreError) => void;
}

/** The defaults of BinderOptions. */
export const BINDER_DEFAULTS = Object.freeze({
  remoteCalls: true,
  remoteCallTimeoutMs: 5000,
  maxRecordBytes: 1024 * 1024,
  unixSocketMode: 0o666,
  /** The interfaces are listed again once the last list is this old (ms). */
  interfacesCacheMs: 1000,
  /** Instances not seen for this long are probed with a NULL call; 0: no probes. */
  healthIntervalMs: HEALTH_DEFAULTS.healthIntervalMs,
  /** A probe not answered within this long is a miss. */
  healthTimeoutMs: HEALTH_DEFAULTS.healthTimeoutMs,
  /** Misses in a row that drop an instance. */
  maxMisses: HEALTH_DEFAULTS.maxMisses,
  /** Probes running at once, at most. */
  maxConcurrentProbes: HEALTH_DEFAULTS.maxConcurrentProbes,
  /** The longest lease REGISTER grants. */
  maxLeaseMs: 300_000,
  /** Restored registrations are kept without asking, as `rpcbind -w`. */
  checkRestored: false,
  checkRestoredTimeoutMs: 1000,
});

/** A running binder. */
export interface Binder {
  /** The server the binder's programs are served by; other programs may be added to it. */
  readonly server: Server;
  /** The registrations. */
  readonly registry: Registry;
  /** The instances of the binder's own program (once_binder.x), health-checked. */
  readonly instances: InstanceTable;
  /** The counters GETSTAT returns. */
  readonly statistics: BinderStatistics;
  /** The addresses listened on. */
  readonly addresses: readonly Address[];
  /**
   * Listens on an address (`tcp://127.0.0.1:111`, `udp://…`, `unix:///run/rpcbind.sock`)
   * and registers the binder there, as rpcbind registers itself. Refuses a
   * Unix socket path where something answers, or that is not a socket.
   */
  listen(address: AddressLike): Promise<Address>;
  /** Stops listening and lets running calls finish; removes the Unix socket files it made. */
  close(): Promise<void>;
  /** Closes everything now. */
  destroy(): Promise<void>;
}

/** rpcbind's NULL procedure, which rpcb_prot.x leaves out. */
const RPCBPROC_NULL = { name: "RPCBPROC_NULL", number: 0, args: xdrVoid, result: xdrVoid } as const;

/**
 * A version of RPCBPROG with its NULL procedure declared, so that a handler
 * of ours answers it and GETSTAT counts it as rpcbind does.
 */
function withNull<D extends typeof RpcbprogV3 | typeof RpcbprogV4>(descriptor: D) {
  return { ...descriptor, procedures: { null: RPCBPROC_NULL, ...descriptor.procedures } };
}

/** rpcbind's versions, newest first: the order of its own registrations. */
const OWN_VERSIONS: Readonly<Record<string, readonly number[]>> = {
  tcp6: [4, 3],
  udp6: [4, 3],
  tcp: [4, 3, 2],
  udp: [4, 3, 2],
  local: [4, 3],
};

/** Makes a binder; call `listen` for each address. */
export function createBinder(options: BinderOptions = {}): Binder {
  return new RpcBinder(options);
}

class RpcBinder implements Binder {
  readonly server: Server;
  readonly registry: Registry;
  readonly statistics = new BinderStatistics();
  readonly instances: InstanceTable;
  readonly #health: HealthMonitor;
  readonly #options: BinderOptions;
  readonly #remote: RemoteCalls;
  readonly #now: () => number;
  readonly #interfaces: () => InterfaceList;
  readonly #store: BinderStore | undefined;
  /** The state loaded (file, etcd): `listen` waits for it. */
  readonly #ready: Promise<void>;

  constructor(options: BinderOptions) {
    this.#options = options;
    this.registry = options.registry ?? new Registry();
    this.#now = options.now ?? Date.now;
    this.#interfaces = cachedInterfaces(
      options.interfaces ?? networkInterfaces,
      options.interfacesCacheMs ?? BINDER_DEFAULTS.interfacesCacheMs,
    );
    this.#remote = new RemoteCalls(options.remoteCallTimeoutMs ?? BINDER_DEFAULTS.remoteCallTimeoutMs);
    this.server = createServer({ maxRecordBytes: BINDER_DEFAULTS.maxRecordBytes, ...options.server });
    this.server.addProgram(PmapProgV2, this.#portmapper());
    const v3 = this.#rpcbind(3);
    this.server.addProgram(withNull(RpcbprogV3), {
      ...v3.common,
      callit: (a, ctx) => v3.remote(a, ctx, false),
    });
    const v4 = this.#rpcbind(4);
    this.server.addProgram(withNull(RpcbprogV4), {
      ...v4.common,
      bcast: (a, ctx) => v4.remote(a, ctx, false),
      indirect: (a, ctx) => v4.remote(a, ctx, true),
      ...v4.only4,
    });
    this.instances = options.instances ?? new InstanceTable();
    this.#store = this.#createStore(options);
    const store = this.#store;
    this.server.addProgram(
      OnceBinderProgV1,
      instanceService(this.instances, {
        tokens: options.tokens,
        insecure: options.insecure,
        maxLeaseMs: options.maxLeaseMs ?? BINDER_DEFAULTS.maxLeaseMs,
        interfaces: this.#interfaces,
        // REGISTER, RENEW and UNREGISTER answer once the state file and etcd hold the change, as SET does.
        settled: store === undefined ? undefined : (id) => store.settled(INSTANCES, id),
      }),
    );
    this.#health = new HealthMonitor(this.instances, options);
    this.#health.start();
    this.#ready = this.#store?.open() ?? Promise.resolve();
    // Reported by listen(); a binder that never listens must not crash the process for it.
    this.#ready.catch(() => {});
  }

  /** The file and etcd behind the registry and the instances, when either is asked for. */
  #createStore(options: BinderOptions): BinderStore | undefined {
    if (options.stateFile === undefined && options.share === undefined) return undefined;
    const check = options.checkRestored ?? BINDER_DEFAULTS.checkRestored;
    return new BinderStore({
      collections: [registryCollection(this.registry), instanceCollection(this.instances)],
      stateFile: options.stateFile,
      etcd: options.share?.etcd,
      onError: options.onStoreError,
      afterRestore: check
        ? async () => {
            await dropUnreachable(this.registry, {
              timeoutMs: options.checkRestoredTimeoutMs ?? BINDER_DEFAULTS.checkRestoredTimeoutMs,
              concurrency: BINDER_DEFAULTS.maxConcurrentProbes,
            });
          }
        : undefined,
    });
  }

  /**
   * SET's answer: with a state file or etcd, once the registration is
   * written, and FALSE when another binder's SET won the slot in etcd.
   */
  #answerSet(version: number, ok: boolean, entry: Registration | undefined): boolean | Promise<boolean> {
    if (this.#store === undefined || !ok || entry === undefined) {
      this.statistics.set(version, ok);
      return ok;
    }
    return this.#store.settled(REGISTRATIONS, registrationKey(entry)).then((held) => {
      this.statistics.set(version, held);
      return held;
    });
  }

  /** UNSET's answer: with a state file or etcd, once what it removed is written. */
  #answerUnset(version: number, ok: boolean): boolean | Promise<boolean> {
    this.statistics.unset(version, ok);
    return this.#store === undefined ? ok : this.#store.flush().then(() => ok);
  }

  get addresses(): readonly Address[] {
    return this.server.addresses;
  }

  async listen(address: AddressLike): Promise<Address> {
    await this.#ready;
    const parsed = parseAddress(address);
    const bound = await this.server.listen(parsed);
    if (parsed.protocol === "unix")
      chmodSync(parsed.path, this.#options.unixSocketMode ?? BINDER_DEFAULTS.unixSocketMode);
    this.#registerOwn();
    return bound;
  }

  async close(): Promise<void> {
    this.#health.stop();
    this.#remote.destroy();
    await this.server.close();
    await this.#store?.close();
  }

  async destroy(): Promise<void> {
    this.#health.stop();
    this.#remote.destroy();
    await this.server.destroy();
    await this.#store?.close();
  }

  /** rpcbind registers program 100000 at each of its addresses: ours, in its order. */
  #registerOwn(): void {
    const own: Registration[] = [];
    for (const netid of Object.keys(OWN_VERSIONS)) {
      for (const address of this.server.addresses) {
        if (netidOf(address) !== netid) continue;
        for (const version of OWN_VERSIONS[netid]) {
          own.push({
            program: PMAP_PROG,
            version,
            netid,
            address: formatUniversalAddress(address),
            owner: SUPERUSER,
          });
        }
      }
    }
    this.registry.setOwn(own);
  }

  #portmapper() {
    const stats = this.statistics;
    const registry = this.registry;
    return {
      null: () => {
        stats.procedure(2, 0);
        return null;
      },
      set: (m: { prog: number; vers: number; prot: number; port: number }, ctx: CallContext) => {
        stats.procedure(2, 1);
        const owner = this.#authorize(ctx, 2, undefined);
        const netid = netidOfIpProtocol(m.prot);
        const entry =
          netid === undefined
            ? undefined
            : {
                program: m.prog,
                version: m.vers,
                netid,
                address: `0.0.0.0.${(m.port >> 8) & 255}.${m.port & 255}`,
                owner,
              };
        const ok = entry !== undefined && registry.set(entry);
        return this.#answerSet(2, ok, entry);
      },
      unset: (m: { prog: number; vers: number }, ctx: CallContext) => {
        stats.procedure(2, 2);
        const owner = this.#authorize(ctx, 2, undefined);
        // pmap_svc.c: both protocols are tried; either one succeeding is a success.
        const tcp = registry.unset(m.prog, m.vers, "tcp", owner);
        const udp = registry.unset(m.prog, m.vers, "udp", owner);
        return this.#answerUnset(2, tcp || udp);
      },
      getport: (m: { prog: number; vers: number; prot: number }) => {
        stats.procedure(2, 3);
        const port = registry.getPort(m.prog, m.vers, m.prot);
        const netid = netidOfIpProtocol(m.prot);
        if (netid !== undefined) stats.lookup(2, m.prog, m.vers, netid, port !== 0);
        return port;
      },
      dump: () => {
        stats.procedure(2, 4);
        let list: Pmaplist | null = null;
        const mappings = registry.mappings();
        for (let i = mappings.length - 1; i >= 0; i--) list = { map: mappings[i], next: list };
        return list;
      },
      callit: async (args: RpcbRmtcallargs, ctx: CallContext) => {
        stats.procedure(2, 5);
        const { address, results } = await this.#remoteCall(args, ctx, 2, false);
        return { port: universalAddressPort(address) ?? 0, res: results };
      },
    };
  }

  /** The procedures of rpcbind version 3 (`common` and CALLIT) and 4 (all of them). */
  #rpcbind(version: 3 | 4) {
    const stats = this.statistics;
    const registry = this.registry;
    const lookup = (r: Rpcb, ctx: CallContext, procedure: number, anyVersion: boolean): string => {
      stats.procedure(version, procedure);
      // rpcbind answers for the netid the question came over, whatever r_netid says.
      const netid = transportNetid(ctx.peer);
      const found = registry.find(r.r_prog, r.r_vers, netid);
      let answer = "";
      if (found !== undefined && (anyVersion || found.version === r.r_vers)) {
        answer = this.#merge(ctx.peer, found.address, netid, r.r_addr) ?? found.address;
      }
      stats.lookup(version, r.r_prog, r.r_vers, netid, answer !== "");
      return answer;
    };
    const common = {
      null: () => {
        stats.procedure(version, 0);
        return null;
      },
      set: (r: Rpcb, ctx: CallContext) => {
        stats.procedure(version, 1);
        const owner = this.#authorize(ctx, version, r.r_owner);
        const entry = { program: r.r_prog, version: r.r_vers, netid: r.r_netid, address: r.r_addr, owner };
        return this.#answerSet(version, registry.set(entry), entry);
      },
      unset: (r: Rpcb, ctx: CallContext) => {
        stats.procedure(version, 2);
        const owner = this.#authorize(ctx, version, r.r_owner);
        return this.#answerUnset(version, registry.unset(r.r_prog, r.r_vers, r.r_netid, owner));
      },
      getaddr: (r: Rpcb, ctx: CallContext) => lookup(r, ctx, 3, true),
      dump: () => {
        stats.procedure(version, 4);
        let list: RpList | null = null;
        const entries = registry.list();
        for (let i = entries.length - 1; i >= 0; i--) {
          const e = entries[i];
          list = {
            rpcb_map: {
              r_prog: e.program,
              r_vers: e.version,
              r_netid: e.netid,
              r_addr: e.address,
              r_owner: e.owner,
            },
            rpcb_next: list,
          };
        }
        return list;
      },
      gettime: () => {
        stats.procedure(version, 6);
        return Math.floor(this.#now() / 1000) >>> 0;
      },
      uaddr2taddr: (uaddr: string, ctx: CallContext) => {
        stats.procedure(version, 7);
        return universalToTransport(uaddr, transportNetid(ctx.peer)) ?? NO_TRANSPORT_ADDRESS;
      },
      taddr2uaddr: (taddr: Netbuf, ctx: CallContext) => {
        stats.procedure(version, 8);
        // libtirpc's xdr_netbuf refuses a buffer longer than its maxlen.
        if (taddr.buf.length > taddr.maxlen)
          throw new RpcError("GARBAGE_ARGS", "netbuf longer than its maxlen");
        return transportToUniversal(taddr.buf, transportNetid(ctx.peer)) ?? "";
      },
    };
    const remote = async (args: RpcbRmtcallargs, ctx: CallContext, indirect: boolean) => {
      stats.procedure(version, indirect ? 10 : 5);
      const { address, results } = await this.#remoteCall(args, ctx, version, indirect);
      return { addr: address, results };
    };
    const only4 = {
      getversaddr: (r: Rpcb, ctx: CallContext) => lookup(r, ctx, 9, false),
      getaddrlist: (r: Rpcb, ctx: CallContext) => {
        stats.procedure(4, 11);
        const netid = transportNetid(ctx.peer);
        const family = netidInfo(netid)?.family;
        const entries: RpcbEntryList[] = [];
        let last: string | undefined;
        for (const e of registry.findAll(r.r_prog, r.r_vers)) {
          const info = netidInfo(e.netid);
          if (info === undefined || info.family !== family) continue;
          last = this.#merge(ctx.peer, e.address, e.netid, r.r_addr);
          if (last === undefined) continue;
          entries.push({
            rpcb_entry_map: {
              r_maddr: last,
              r_nc_netid: info.netid,
              r_nc_semantics: info.semantics,
              r_nc_protofmly: info.family,
              r_nc_proto: info.proto,
            },
            rpcb_entry_next: null,
          });
        }
        stats.lookup(4, r.r_prog, r.r_vers, netid, last !== undefined && last !== "");
        for (let i = entries.length - 2; i >= 0; i--) entries[i].rpcb_entry_next = entries[i + 1];
        return entries[0] ?? null;
      },
      getstat: () => {
        stats.procedure(4, 12);
        return stats.snapshot();
      },
    };
    return { common, remote, only4 };
  }

  /** The owner for a SET or UNSET, or AUTH_ERROR (AUTH_TOOWEAK) as rpcbind refuses it. */
  #authorize(ctx: CallContext, version: number, statedOwner: string | undefined): string {
    const verdict = authorize(ctx.peer, ctx.credentials, version, statedOwner, this.#options);
    if (!verdict.allowed) throw new AuthError(AuthStat.AUTH_TOOWEAK, callTarget(ctx));
    return verdict.owner;
  }

  #merge(caller: Peer, registered: string, netid: string, hint: string): string | undefined {
    return mergeAddress(caller, registered, netid, hint, this.#interfaces());
  }

  /**
   * rpcbind's rpcbproc_callit_com: forwards over UDP only, and sends no reply
   * to a remote call over TCP or a Unix socket. CALLIT and BCAST stay silent
   * when anything goes wrong (a broadcast must not be drowned in complaints,
   * RFC 5531 §7.4.2); INDIRECT says what.
   */
  async #remoteCall(
    args: RpcbRmtcallargs,
    ctx: CallContext,
    version: number,
    indirect: boolean,
  ): Promise<{ address: string; results: Uint8Array }> {
    const quiet = (reason: string): never => {
      throw noReply(reason);
    };
    if (ctx.peer.protocol !== "udp") return quiet("remote calls are taken over UDP only");
    if (isForwardingRefused(args.prog, args.proc, this.#options.insecure ?? false)) {
      throw new AuthError(AuthStat.AUTH_TOOWEAK, callTarget(ctx));
    }
    const netid = transportNetid(ctx.peer);
    const found = this.registry.find(args.prog, args.vers, netid);
    const call = { prog: args.prog, vers: args.vers, proc: args.proc };
    this.statistics.remoteCall(version, indirect, call, netid, found?.version === args.vers);
    if (found === undefined) {
      if (indirect) throw new RpcError("PROG_UNAVAIL", `program ${args.prog} is not registered on ${netid}`);
      return quiet("not registered");
    }
    if (found.version !== args.vers) {
      // rpcbind's find_versions: the lowest and highest versions of the program on this netid.
      const range = this.registry.versions(args.prog, netid);
      if (indirect && range !== undefined) {
        throw new ProgramMismatchError(range.low, range.high, {
          program: args.prog,
          version: args.vers,
          procedure: args.proc,
          label: `procedure ${args.proc} (INDIRECT)`,
        });
      }
      return quiet("version not registered");
    }
    const target = forwardingTarget(found);
    if (!(this.#options.remoteCalls ?? BINDER_DEFAULTS.remoteCalls) || target === undefined) {
      if (indirect) throw new RpcError("SYSTEM_ERR", "remote calls are not forwarded");
      return quiet("remote calls are not forwarded");
    }
    const key = `${ctx.peer.host}|${ctx.peer.port}|${ctx.xid}|${version}|${ctx.procedure}`;
    let results: Uint8Array;
    try {
      results = await this.#remote.forward(key, target, args, ctx.credentials);
    } catch (error) {
      if (indirect) throw new RpcError("SYSTEM_ERR", "the forwarded call failed", { cause: error });
      return quiet("the forwarded call failed");
    }
    const address = this.#merge(ctx.peer, found.address, found.netid, "") ?? found.address;
    return { address, results };
  }
}

/** What a handler throws where rpcbind sends no reply at all: the server then sends nothing. */
function noReply(reason: string): NoReply {
  return new NoReply(`${reason}: no reply, as rpcbind`);
}

function callTarget(ctx: CallContext): CallTarget {
  return {
    program: ctx.program,
    version: ctx.version,
    procedure: ctx.procedure,
    label: `${ctx.procedureName} v${ctx.version}`,
  };
}

/** The netid of the transport a call came over: what rpcbind looks registrations up by. */
export function transportNetid(peer: Peer): string {
  return netidOf(peer);
}

/** Where to forward a call for a registration: its address, with a wildcard host made loopback. */
function forwardingTarget(registration: Registration): InetAddress | undefined {
  const address = parseUniversalAddress(registration.address, registration.netid);
  if (address === undefined || address.protocol !== "udp") return undefined;
  if (!isWildcardHost(address.host)) return address;
  return { ...address, host: address.host.includes(":") ? "::1" : "127.0.0.1" };
}
