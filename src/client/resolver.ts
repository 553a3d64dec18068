/**
 * Binding: how a client that knows a program but not an address finds its
 * servers. A Resolver answers "where is (program, version) over this
 * protocol?" with the endpoints that serve it. The binder layer implements
 * it (rpcbind lookups, our instance registry); the client only consumes it,
 * so that imports keep flowing one way.
 */
import type { Address } from "../transport/index.js";

/** What a client asks its resolver. */
export interface BindingQuery {
  readonly program: number;
  readonly version: number;
  /** The transport the client will call over. */
  readonly protocol: "tcp" | "udp";
  /** The host the client was given, when it was given one (`tcp://HOST` without a port). */
  readonly host: string | undefined;
  /** `DATE_PROG v2`, for error messages. */
  readonly label: string;
}

/** One server of a program version, as a resolver found it. */
export interface Endpoint {
  readonly address: Address;
  /** An instance id, when the resolver knows one (the binder's instance registry does). */
  readonly id?: string;
  /** What the server registered about itself, when the resolver knows it. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Finds the servers of a program version. Resolves with at least one
 * endpoint, or rejects with an RpcError: NOT_REGISTERED when the binders
 * asked know no server of it, BINDER_UNREACHABLE when none could be asked.
 */
export interface Resolver {
  resolve(query: BindingQuery, signal?: AbortSignal): Promise<readonly Endpoint[]>;
  /** Releases what the resolver holds open (connections to binders). */
  close?(): Promise<void>;
}

/** A resolver that always answers the same endpoints: for tests, and for a fixed list of replicas. */
export function staticResolver(addresses: readonly Address[]): Resolver {
  const endpoints: Endpoint[] = addresses.map((address) => ({ address }));
  return { resolve: async () => endpoints };
}
