/**
 * Finding a server through rpcbind, as libtirpc's clnt_create does: ask the
 * binder on the server's host (port 111) GETADDR in rpcbind version 4, and
 * fall back to version 3 and to the portmapper's GETPORT (version 2) when
 * the binder is older. Works against our binder and Debian's rpcbind alike.
 */
import {
  isRpcError,
  type ProcedureDescriptor,
  type ProgramVersionDescriptor,
  RpcError,
} from "../rpc/index.js";
import { IPPROTO_TCP, IPPROTO_UDP, type Mapping, PmapProgV2 } from "../rpc/protocol/pmap_prot.js";
import { type Rpcb, RpcbprogV3, RpcbprogV4 } from "../rpc/protocol/rpcb_prot.js";
import { type InetAddress, isWildcardHost, parseIPv6, parseUniversalAddress } from "../transport/index.js";
import type { BoundProcedure } from "./call-options.js";
import type { Channel } from "./channel.js";
import type { ClientOptions } from "./client.js";
import { createChannel } from "./open-channel.js";
import type { BindingQuery, Endpoint, Resolver } from "./resolver.js";

/** The port every binder listens on (RFC 1833). */
export const BINDER_PORT = 111;

/** Options of rpcbindResolver. Defaults in {@link RPCBIND_RESOLVER_DEFAULTS}. */
export interface RpcbindResolverOptions {
  /**
   * The binders to ask, in order, as `HOST`, `HOST:PORT` or `[IPv6]:PORT`
   * (port 111 when left out); the next is asked when one does not answer.
   * Each is asked over the protocol the client calls over, because a binder
   * answers GETADDR for the transport the question came over. Default: the
   * host the client was given (`tcp://HOST`), else 127.0.0.1.
   */
  readonly binders?: readonly string[];
  /** How long one question to one binder may take. */
  readonly timeoutMs?: number;
  /** Options of the clients that ask the binders (auth, retransmission). */
  readonly client?: ClientOptions;
}

/** The defaults of RpcbindResolverOptions. */
export const RPCBIND_RESOLVER_DEFAULTS = Object.freeze({
  timeoutMs: 3_000,
});

/** A resolver that asks rpcbind (or our binder) where a program version is. */
export function rpcbindResolver(options: RpcbindResolverOptions = {}): Resolver {
  return new RpcbindResolver(options);
}

let processResolver: Resolver | undefined;

/**
 * The resolver of clients given an address without a port and no resolver:
 * the binder on that host. One per process, so that its connections to
 * binders are shared (they idle unreferenced: they never hold a process open).
 */
export function defaultRpcbindResolver(): Resolver {
  processResolver ??= rpcbindResolver();
  return processResolver;
}

/** A procedure of a binder's program, bound for Channel.call. */
function bound<P extends ProcedureDescriptor>(d: ProgramVersionDescriptor, p: P) {
  return {
    program: d.program,
    version: d.version,
    procedure: p.number,
    label: `${d.programName} v${d.version} ${p.name}`,
    args: p.args,
    result: p.result,
  } as BoundProcedure<unknown, unknown>;
}

/** The three lookups, newest first. */
const GETADDR_V4 = bound(RpcbprogV4, RpcbprogV4.procedures.getaddr) as BoundProcedure<Rpcb, string>;
const GETADDR_V3 = bound(RpcbprogV3, RpcbprogV3.procedures.getaddr) as BoundProcedure<Rpcb, string>;
const GETPORT_V2 = bound(PmapProgV2, PmapProgV2.procedures.getport) as BoundProcedure<Mapping, number>;

/** The channel to one binder over one protocol, and the newest rpcbind version it answered. */
interface BinderClients {
  readonly address: InetAddress;
  readonly channel: Channel;
  version: 4 | 3 | 2;
}

class RpcbindResolver implements Resolver {
  readonly #binders: readonly string[] | undefined;
  readonly #timeoutMs: number;
  readonly #clientOptions: ClientOptions;
  readonly #clients = new Map<string, BinderClients>();

  constructor(options: RpcbindResolverOptions) {
    this.#binders = options.binders;
    this.#timeoutMs = options.timeoutMs ?? RPCBIND_RESOLVER_DEFAULTS.timeoutMs;
    this.#clientOptions = options.client ?? {};
    for (const b of this.#binders ?? []) parseBinderAddress(b, "tcp"); // a bad one fails here, not at the first call
  }

  async resolve(query: BindingQuery): Promise<readonly Endpoint[]> {
    const binders = this.#binders ?? [query.host ?? "127.0.0.1"];
    const failures: string[] = [];
    let lastError: unknown;
    let answered = false;
    for (const binder of binders) {
      const clients = this.#clientsOf(parseBinderAddress(binder, query.protocol));
      try {
        const address = await this.#ask(clients, query);
        if (address !== undefined) return [{ address }];
        answered = true;
      } catch (error) {
        lastError = error;
        failures.push(`${binder}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const asked = binders.join(", ");
    if (answered) {
      throw new RpcError(
        "NOT_REGISTERED",
        `${query.label} over ${query.protocol} is not registered with the binder at ${asked}`,
      );
    }
    throw new RpcError(
      "BINDER_UNREACHABLE",
      `${query.label}: no binder answered where it is (${failures.join("; ")})`,
      { cause: lastError },
    );
  }

  async close(): Promise<void> {
    const all = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.channel.close()));
  }

  #clientsOf(address: InetAddress): BinderClients {
    const key = `${address.protocol}://[${address.host}]:${address.port}`;
    let clients = this.#clients.get(key);
    if (clients === undefined) {
      const channel = createChannel(address, { timeoutMs: this.#timeoutMs, ...this.#clientOptions });
      clients = { address, channel, version: 4 };
      this.#clients.set(key, clients);
    }
    return clients;
  }

  /** The address the binder knows for the query, or undefined when it knows none. */
  async #ask(clients: BinderClients, query: BindingQuery): Promise<InetAddress | undefined> {
    const binder = clients.address;
    const six = parseIPv6(binder.host) !== undefined;
    const netid = `${query.protocol}${six ? "6" : ""}`;
    for (;;) {
      try {
        if (clients.version === 2) {
          // The portmapper knows IPv4 TCP and UDP ports only, on the binder's own host.
          const port = await clients.channel.call(GETPORT_V2, {
            prog: query.program,
            vers: query.version,
            prot: query.protocol === "tcp" ? IPPROTO_TCP : IPPROTO_UDP,
            port: 0,
          });
          return port === 0 ? undefined : { protocol: query.protocol, host: binder.host, port };
        }
        const getaddr = clients.version === 4 ? GETADDR_V4 : GETADDR_V3;
        const uaddr = await clients.channel.call(getaddr, {
          r_prog: query.program,
          r_vers: query.version,
          r_netid: netid,
          r_addr: "",
          r_owner: "",
        });
        if (uaddr === "") return undefined;
        const address = parseUniversalAddress(uaddr, netid);
        if (address === undefined || address.protocol === "unix") {
          throw new RpcError("BAD_REPLY", `the binder answered an address that does not parse: ${uaddr}`);
        }
        // A wildcard the binder did not merge means "wherever you reached me".
        return isWildcardHost(address.host) ? { ...address, host: binder.host } : address;
      } catch (error) {
        // An older binder: rpcbind 3 answers PROG_MISMATCH for 4, a portmapper for 3.
        if (clients.version > 2 && isRpcError(error) && isOlderBinder(error.code)) {
          clients.version = clients.version === 4 ? 3 : 2;
          continue;
        }
        throw error;
      }
    }
  }
}

function isOlderBinder(code: string): boolean {
  return code === "PROG_MISMATCH" || code === "PROC_UNAVAIL" || code === "PROG_UNAVAIL";
}

/**
 * A binder's address written `HOST`, `HOST:PORT` or `[IPv6]:PORT` (port 111
 * when left out), over `protocol`. Throws a TypeError on anything else.
 */
export function parseBinderAddress(binder: string, protocol: "tcp" | "udp"): InetAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(binder) ?? /^([0-9a-fA-F:]+)$/.exec(binder);
  if (m === null)
    throw new TypeError(`not a binder address: ${JSON.stringify(binder)} (try HOST or HOST:PORT)`);
  const host = m[1] ?? m[2];
  const port = m[3] === undefined ? BINDER_PORT : Number(m[3]);
  if (port < 1 || port > 65535)
    throw new TypeError(`not a binder address: ${JSON.stringify(binder)} (port past 65535)`);
  return { protocol, host, port };
}
