/**
 * Registering a server as instances with the binder's own program
 * (once_binder.x): each program version at each address the server listens
 * on becomes one instance, whose lease is renewed in the background. When
 * the binder answers that it does not know an instance (it restarted, or
 * dropped it), the instance is registered again.
 */
import { existsSync } from "node:fs";
import { type Client, type ClientOptions, createClient } from "../client/index.js";
import type { Address, AddressLike } from "../transport/index.js";
import { formatUniversalAddress, netidOf } from "../transport/universal-address.js";
import { InstanceStatus, OnceBinderProgV1, type RegisterArgs } from "./protocol/once_binder.js";

/** Where libtirpc looks for the local binder first (as registerServer). */
const LOCAL_BINDER_SOCKET = "/run/rpcbind.sock";

/** Options of registerInstance. Defaults in {@link REGISTER_INSTANCE_DEFAULTS}. */
export interface RegisterInstanceOptions {
  /** The service's name; not empty. */
  readonly name: string;
  /**
   * The binder. Default: unix:///run/rpcbind.sock when it exists, else
   * tcp://127.0.0.1:111 (as registerServer).
   */
  readonly binder?: AddressLike;
  /** Key/value strings for clients to choose by (at most 32; keys up to 128 bytes, values up to 1,024). */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The lease to ask for, in ms. 0: none; the binder then relies on its
   * health checks alone, and nothing renews (so nothing notices a binder
   * restart either).
   */
  readonly leaseMs?: number;
  /** Renew this often, in ms. Default: a third of the lease granted. */
  readonly renewIntervalMs?: number;
  /** Options of the client that talks to the binder (auth, timeoutMs). */
  readonly client?: ClientOptions;
  /**
   * Told when a background renewal fails (the binder unreachable, a
   * registration refused); renewing goes on. Default: a process warning at
   * the first failure after a success.
   */
  readonly onError?: (error: unknown) => void;
}

/** The defaults of RegisterInstanceOptions. */
export const REGISTER_INSTANCE_DEFAULTS = Object.freeze({
  leaseMs: 30_000,
});

/** One instance registered. */
export interface RegisteredInstance {
  /** The id the binder gave it (a new one after registering again). */
  readonly id: string;
  readonly program: number;
  readonly version: number;
  readonly netid: string;
  readonly address: string;
  /** The lease the binder granted, in ms; 0: none. */
  readonly leaseMs: number;
}

/** What registerInstance registered, and how to take it back. */
export interface RegisteredInstances {
  /** The instances, as they are now. */
  readonly instances: readonly RegisteredInstance[];
  /** Renews every lease now, registering again any instance the binder no longer knows. */
  renew(): Promise<void>;
  /** Stops renewing and UNREGISTERs every instance; rejects when a call fails. */
  unregister(): Promise<void>;
  /** As unregister, but never rejects (failures go to onError): for cleanup paths. Idempotent. */
  close(): Promise<void>;
}

/**
 * Registers each [program, version] of `server` at each of its addresses as
 * an instance named `options.name`, and renews their leases until
 * `unregister()` or `close()`. The renewal timer does not keep the process
 * alive. Rejects with an Error naming the status when the binder refuses a
 * registration (the ones made are taken back), or with the RpcError of a
 * failed call (AUTH_ERROR when this caller may not register).
 */
export async function registerInstance(
  server: { programs(): Array<[number, number]>; readonly addresses: readonly Address[] },
  options: RegisterInstanceOptions,
): Promise<RegisteredInstances> {
  const binder =
    options.binder ??
    (existsSync(LOCAL_BINDER_SOCKET) ? `unix://${LOCAL_BINDER_SOCKET}` : "tcp://127.0.0.1:111");
  const metadata = Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value }));
  const leaseMs = options.leaseMs ?? REGISTER_INSTANCE_DEFAULTS.leaseMs;
  const wanted: RegisterArgs[] = [];
  for (const [prog, vers] of server.programs()) {
    for (const address of server.addresses) {
      wanted.push({
        name: options.name,
        prog,
        vers,
        netid: netidOf(address),
        addr: formatUniversalAddress(address),
        metadata,
        lease_ms: leaseMs,
      });
    }
  }
  const client = createClient(OnceBinderProgV1, binder, options.client);
  const registration = new InstanceRegistration(client, options);
  try {
    for (const args of wanted) await registration.add(args);
  } catch (error) {
    await registration.unregister().catch(() => {});
    throw error;
  }
  registration.schedule();
  return registration;
}

/** The instances of one registerInstance call, and their renewal timer. */
class InstanceRegistration implements RegisteredInstances {
  readonly #client: Client<typeof OnceBinderProgV1>;
  readonly #options: RegisterInstanceOptions;
  readonly #entries: Array<{ args: RegisterArgs; instance: RegisteredInstance }> = [];
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #stopped = false;
  #failing = false;
  #closing: Promise<void> | undefined;

  constructor(client: Client<typeof OnceBinderProgV1>, options: RegisterInstanceOptions) {
    this.#client = client;
    this.#options = options;
  }

  get instances(): readonly RegisteredInstance[] {
    return this.#entries.map((e) => e.instance);
  }

  /** REGISTERs one instance; throws when the binder refuses it. */
  async add(args: RegisterArgs): Promise<void> {
    this.#entries.push({ args, instance: await this.#register(args) });
  }

  /** Arms the renewal timer, when there is a lease to renew. */
  schedule(): void {
    if (this.#stopped) return;
    const leases = this.#entries.map((e) => e.instance.leaseMs).filter((ms) => ms > 0);
    if (leases.length === 0) return;
    const every = this.#options.renewIntervalMs ?? Math.max(1, Math.floor(Math.min(...leases) / 3));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.renew().then(
        () => this.schedule(),
        () => this.schedule(),
      );
    }, every);
    this.#timer.unref();
  }

  renew(): Promise<void> {
    // One round at a time: a round asked for while one runs waits for it.
    this.#renewing ??= this.#renewAll().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async unregister(): Promise<void> {
    this.#stop();
    await this.#renewing?.catch(() => {});
    let failure: unknown;
    try {
      for (const entry of this.#entries) {
        try {
          await this.#client.unregister(entry.instance.id);
        } catch (error) {
          failure ??= error;
        }
      }
      this.#entries.length = 0;
    } finally {
      await this.#client.$close();
    }
    if (failure !== undefined) throw failure;
  }

  close(): Promise<void> {
    this.#closing ??= this.unregister().catch((error) => this.#report(error));
    return this.#closing;
  }

  async #renewAll(): Promise<void> {
    for (const entry of this.#entries) {
      if (this.#stopped) return;
      try {
        const status = await this.#client.renew(entry.instance.id);
        if (status === InstanceStatus.INSTANCE_UNKNOWN && !this.#stopped) {
          // The binder lost it (restarted, or dropped it as dead): register again.
          entry.instance = await this.#register(entry.args);
        } else if (status !== InstanceStatus.INSTANCE_OK) {
          throw new Error(`the binder refused to renew instance ${entry.instance.id}: ${statusName(status)}`);
        }
        this.#failing = false;
      } catch (error) {
        this.#report(error);
      }
    }
  }

  async #register(args: RegisterArgs): Promise<RegisteredInstance> {
    const res = await this.#client.register(args);
    if (res.status !== InstanceStatus.INSTANCE_OK) {
      throw new Error(
        `the binder refused to register ${args.name} (program ${args.prog} version ${args.vers} on ${args.netid} at ${args.addr}): ${statusName(res.status)}`,
      );
    }
    return {
      id: res.instance.id,
      program: args.prog,
      version: args.vers,
      netid: args.netid,
      address: args.addr,
      leaseMs: res.instance.lease_ms,
    };
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #report(error: unknown): void {
    if (this.#options.onError !== undefined) {
      this.#options.onError(error);
    } else if (!this.#failing) {
      process.emitWarning(`registerInstance: ${String(error)}`, "OnceRpcWarning");
    }
    this.#failing = true;
  }
}

function statusName(status: number): string {
  return Object.entries(InstanceStatus).find(([, v]) => v === status)?.[0] ?? String(status);
}
