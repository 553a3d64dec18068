/**
 * Finding every live instance of a program version through the binder's
 * own program (ONCE_BINDER_LIST, docs/binder.md), for clients that balance
 * their calls among them. Several binders may be given: the first that
 * answers is believed, so a client keeps finding servers while one binder
 * is down.
 */
import type { BindingQuery, ClientOptions, Endpoint, Resolver } from "../client/index.js";
import { BINDER_PORT } from "../client/rpcbind-resolver.js";
import { isRpcError, RpcError } from "../rpc/index.js";
import { type AddressLike, formatAddress, parseAddress } from "../transport/index.js";
import { isWildcardHost, parseUniversalAddress } from "../transport/universal-address.js";
import { listInstances } from "./list-instances.js";

/** Options of instanceResolver. Defaults in {@link INSTANCE_RESOLVER_DEFAULTS}. */
export interface InstanceResolverOptions {
  /**
   * The binders to ask, in order (`tcp://H:P`, `udp://H:P`, `unix:///PATH`).
   * Default: TCP port 111 on the host the client was given, else 127.0.0.1.
   */
  readonly binders?: readonly AddressLike[];
  /** Only instances registered under this service name. */
  readonly name?: string;
  /** How long one question to one binder may take. */
  readonly timeoutMs?: number;
  /** Options of the clients that ask the binders (auth, retransmission). */
  readonly client?: ClientOptions;
}

/** The defaults of InstanceResolverOptions. */
export const INSTANCE_RESOLVER_DEFAULTS = Object.freeze({
  timeoutMs: 3_000,
});

/**
 * A resolver that answers every live instance of the program version over
 * the client's protocol (IPv4 or IPv6), instances that missed their last
 * health check only when no other is left, as endpoints with their ids and
 * metadata.
 */
export function instanceResolver(options: InstanceResolverOptions = {}): Resolver {
  const binders = options.binders?.map((b) => parseAddress(b));
  const clientOptions: ClientOptions = {
    timeoutMs: options.timeoutMs ?? INSTANCE_RESOLVER_DEFAULTS.timeoutMs,
    ...options.client,
  };
  return {
    async resolve(query: BindingQuery): Promise<readonly Endpoint[]> {
      const asked = binders ?? [parseAddress(`tcp://${bracket(query.host ?? "127.0.0.1")}:${BINDER_PORT}`)];
      const failures: string[] = [];
      let lastError: unknown;
      let answered = false;
      for (const binder of asked) {
        try {
          const instances = await listInstances(
            binder,
            { program: query.program, version: query.version, name: options.name },
            clientOptions,
          );
          answered = true;
          const alive: Endpoint[] = [];
          const suspect: Endpoint[] = [];
          for (const i of instances) {
            if (!i.netid.startsWith(query.protocol)) continue;
            const address = parseUniversalAddress(i.address, i.netid);
            if (address === undefined || address.protocol === "unix") continue;
            const host =
              isWildcardHost(address.host) && binder.protocol !== "unix" ? binder.host : address.host;
            const endpoint = { address: { ...address, host }, id: i.id, metadata: i.metadata };
            (i.state === "alive" ? alive : suspect).push(endpoint);
          }
          const endpoints = alive.length > 0 ? alive : suspect;
          if (endpoints.length > 0) return endpoints;
        } catch (error) {
          lastError = error;
          failures.push(
            `${formatAddress(binder)}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      const where = asked.map((b) => formatAddress(b)).join(", ");
      if (answered) {
        throw new RpcError(
          "NOT_REGISTERED",
          `${query.label} has no live instance over ${query.protocol} at ${where}`,
        );
      }
      const rpcbindOnly = isRpcError(lastError, "PROG_UNAVAIL")
        ? " (a plain rpcbind has no instances: use rpcbindResolver)"
        : "";
      throw new RpcError(
        "BINDER_UNREACHABLE",
        `${query.label}: no binder answered where its instances are${rpcbindOnly} (${failures.join("; ")})`,
        { cause: lastError },
      );
    },
  };
}

function bracket(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
