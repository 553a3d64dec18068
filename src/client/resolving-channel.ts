/**
 * Calls to a program version wherever its servers are: a resolver says
 * where (a binder, an instance registry), a policy picks one server per
 * call, and a server that fails is left out while the client binds again.
 * Each server gets a Channel of its own; this class only chooses among them.
 */
import { currentCallScope, isRpcError, RpcError, type RpcErrorCode, TimeoutError } from "../rpc/index.js";
import { type Address, formatAddress } from "../transport/index.js";
import { type BalancePolicy, type BalancePolicyName, balancePolicy, type Candidate } from "./balance.js";
import { withCall } from "./call-errors.js";
import { type BoundProcedure, type CallChannel, type CallOptions, CHANNEL_DEFAULTS } from "./call-options.js";
import type { Channel } from "./channel.js";
import { eitherSignal } from "./deadline.js";
import type { BindingQuery, Endpoint, Resolver } from "./resolver.js";

/** Options of binding through a resolver. Defaults in {@link BINDING_DEFAULTS}. */
export interface BindingOptions {
  /** Who says where the servers are: `rpcbindResolver()` or `instanceResolver()` from once-rpc/binder. */
  readonly resolver?: Resolver;
  /** How a server is chosen for each call, when there are several. Default round-robin. */
  readonly balance?: BalancePolicyName | BalancePolicy;
  /** Ask the resolver again this often while calls are made, to learn of new servers. */
  readonly refreshMs?: number;
  /** How long a server that failed is left out of the choice, when others remain. */
  readonly failedServerMs?: number;
  /** Servers tried for one call before its last error is given up (the call is never sent twice unless idempotent). */
  readonly maxServersPerCall?: number;
}

/** The defaults of BindingOptions. */
export const BINDING_DEFAULTS = Object.freeze({
  balance: "round-robin" as BalancePolicyName,
  refreshMs: 30_000,
  failedServerMs: 5_000,
  maxServersPerCall: 4,
});

/** One server the resolver found, with the channel to it. */
class Member implements Candidate {
  readonly key: string;
  endpoint: Endpoint;
  readonly channel: Channel;

  constructor(key: string, endpoint: Endpoint, channel: Channel) {
    this.key = key;
    this.endpoint = endpoint;
    this.channel = channel;
  }

  get callsInFlight(): number {
    return this.channel.callsInFlight;
  }
}

/** Errors after which the call certainly did not run: it may go to another server. */
const NOT_RUN: ReadonlySet<RpcErrorCode> = new Set(["CONNECT_FAILED", "PROG_UNAVAIL"]);
/** Errors after which the server is left out and the client binds again. */
const SERVER_FAILED: ReadonlySet<RpcErrorCode> = new Set([
  "CONNECT_FAILED",
  "CONNECTION_CLOSED",
  "PROG_UNAVAIL",
]);

/** Calls to the servers of one program version, found through a resolver. */
export class ResolvingChannel implements CallChannel {
  readonly query: BindingQuery;
  readonly #resolver: Resolver;
  readonly #openChannel: (address: Address) => Channel;
  readonly #policy: BalancePolicy;
  readonly #timeoutMs: number;
  readonly #refreshMs: number;
  readonly #failedServerMs: number;
  readonly #maxServersPerCall: number;
  #members: Member[] = [];
  /** Servers that failed lately: key → when they may be chosen again. */
  readonly #failed = new Map<string, number>();
  #resolving: Promise<void> | undefined;
  #resolvedAt = 0;
  #stale = false;
  #closed = false;
  #retired: Channel[] = [];

  constructor(
    query: BindingQuery,
    resolver: Resolver,
    openChannel: (address: Address) => Channel,
    options: BindingOptions & { readonly timeoutMs?: number } = {},
  ) {
    this.query = query;
    this.#resolver = resolver;
    this.#openChannel = openChannel;
    this.#policy = balancePolicy(options.balance);
    this.#timeoutMs = options.timeoutMs ?? CHANNEL_DEFAULTS.timeoutMs;
    this.#refreshMs = options.refreshMs ?? BINDING_DEFAULTS.refreshMs;
    this.#failedServerMs = options.failedServerMs ?? BINDING_DEFAULTS.failedServerMs;
    this.#maxServersPerCall = options.maxServersPerCall ?? BINDING_DEFAULTS.maxServersPerCall;
  }

  /** The servers currently bound, in the order the resolver gave them. */
  get endpoints(): readonly Endpoint[] {
    return this.#members.map((m) => m.endpoint);
  }

  /** Calls waiting for a reply, over every server. */
  get callsInFlight(): number {
    let n = 0;
    for (const m of this.#members) n += m.channel.callsInFlight;
    return n;
  }

  /**
   * Makes one call on a server the policy picks, binding first when no
   * server is known. A call that certainly did not run (CONNECT_FAILED,
   * PROG_UNAVAIL) goes to another server; one cut off by a lost connection
   * goes again only when the caller says it is idempotent.
   */
  async call<Args, Result>(
    target: BoundProcedure<Args, Result>,
    args: Args,
    options?: CallOptions,
  ): Promise<Result> {
    // Binding waits no longer than the call may: its own bounds, and those of the handler it is made in.
    const scope = currentCallScope();
    let deadline = Date.now() + (options?.timeoutMs ?? (options?.deadline ? MAX_TIMER_MS : this.#timeoutMs));
    if (options?.deadline !== undefined) deadline = Math.min(deadline, options.deadline.at);
    if (scope?.deadline !== undefined) deadline = Math.min(deadline, scope.deadline);
    let signal = options?.signal;
    if (scope !== undefined)
      signal = signal === undefined ? scope.signal : eitherSignal(signal, scope.signal);
    let callOptions = options;
    for (let tried = 1; ; tried++) {
      const member = this.#pick() ?? (await this.#bind(target, deadline, signal));
      try {
        return await member.channel.call(target, args, callOptions);
      } catch (error) {
        if (!isRpcError(error) || !SERVER_FAILED.has(error.code)) throw error;
        this.#leaveOut(member);
        const again = NOT_RUN.has(error.code) || (options?.idempotent ?? target.idempotent) === true;
        const remainingMs = deadline - Date.now();
        if (!again || tried >= this.#maxServersPerCall || remainingMs <= 0 || this.#closed) throw error;
        callOptions = { ...options, timeoutMs: remainingMs };
      }
    }
  }

  /** Waits for calls in flight, then closes every channel. The resolver is the caller's to close. */
  async close(): Promise<void> {
    this.#closed = true;
    const channels = [...this.#members.map((m) => m.channel), ...this.#retired];
    this.#members = [];
    this.#retired = [];
    await Promise.all(channels.map((c) => c.close()));
  }

  /** Fails calls in flight with CLIENT_CLOSED and drops every connection now. */
  destroy(): void {
    this.#closed = true;
    for (const m of this.#members) m.channel.destroy();
    for (const c of this.#retired) c.destroy();
    this.#members = [];
    this.#retired = [];
  }

  /** The server for the next call, or undefined when none is bound. */
  #pick(): Member | undefined {
    const members = this.#members;
    if (members.length === 0) return undefined;
    if (this.#resolving === undefined && (this.#stale || Date.now() - this.#resolvedAt >= this.#refreshMs)) {
      // Learn of new or moved servers in the background; calls go on meanwhile.
      this.#resolve().catch(() => {});
    }
    return members.length === 1 ? members[0] : members[this.#policy.pick(members)];
  }

  async #bind(target: BoundProcedure<unknown, unknown>, deadline: number, signal?: AbortSignal) {
    if (this.#closed) {
      throw new RpcError("CLIENT_CLOSED", `the client is closed (${target.label})`, { call: target });
    }
    try {
      await withDeadline(this.#resolving ?? this.#resolve(), deadline, signal, target);
    } catch (error) {
      throw isRpcError(error) ? withCall(error, target) : error;
    }
    const member = this.#pick();
    if (member === undefined || this.#closed) {
      throw new RpcError("CLIENT_CLOSED", `the client is closed (${target.label})`, { call: target });
    }
    return member;
  }

  /** Asks the resolver and makes the members what it answered, keeping the channels of servers still there. */
  #resolve(): Promise<void> {
    this.#stale = false;
    const resolving = this.#resolver.resolve(this.query).then(
      (endpoints) => {
        if (this.#resolving === resolving) this.#resolving = undefined;
        this.#resolvedAt = Date.now();
        if (!this.#closed) this.#setMembers(endpoints);
      },
      (error: unknown) => {
        if (this.#resolving === resolving) this.#resolving = undefined;
        throw error;
      },
    );
    this.#resolving = resolving;
    return resolving;
  }

  #setMembers(endpoints: readonly Endpoint[]): void {
    const now = Date.now();
    for (const [key, until] of this.#failed) if (until <= now) this.#failed.delete(key);
    const byKey = new Map(this.#members.map((m) => [m.key, m]));
    let fresh: Member[] = [];
    let leftOut: Member[] = [];
    for (const endpoint of endpoints) {
      const key = formatAddress(endpoint.address);
      if (fresh.some((m) => m.key === key) || leftOut.some((m) => m.key === key)) continue;
      let member = byKey.get(key);
      byKey.delete(key);
      if (member === undefined) member = new Member(key, endpoint, this.#openChannel(endpoint.address));
      else member.endpoint = endpoint;
      (this.#failed.has(key) ? leftOut : fresh).push(member);
    }
    // A server that failed lately is chosen only when the resolver knows no other.
    if (fresh.length === 0) {
      fresh = leftOut;
      leftOut = [];
    }
    for (const m of leftOut) this.#retire(m.channel);
    for (const m of byKey.values()) this.#retire(m.channel);
    this.#members = fresh;
  }

  #leaveOut(member: Member): void {
    const index = this.#members.indexOf(member);
    if (index < 0) return;
    this.#members.splice(index, 1);
    this.#failed.set(member.key, Date.now() + this.#failedServerMs);
    this.#stale = true;
    this.#retire(member.channel);
  }

  /** Lets a channel finish what it carries, then closes it. */
  #retire(channel: Channel): void {
    this.#retired.push(channel);
    channel.close().then(
      () => {
        this.#retired = this.#retired.filter((c) => c !== channel);
      },
      () => {},
    );
  }
}

/** setTimeout keeps delays in a signed 32-bit int. */
const MAX_TIMER_MS = 0x7fff_ffff;

/** Waits for `promise` until the call's deadline or its signal, whichever comes first. */
function withDeadline(
  promise: Promise<void>,
  deadline: number,
  signal: AbortSignal | undefined,
  target: BoundProcedure<unknown, unknown>,
): Promise<void> {
  const ms = Math.min(deadline - Date.now(), MAX_TIMER_MS);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        done();
        reject(new TimeoutError("bind", 0, Math.max(0, ms), 0, target));
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      done();
      reject(
        new RpcError("ABORTED", `${target.label}: the call was aborted`, {
          cause: signal?.reason,
          call: target,
        }),
      );
    };
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        done();
        resolve();
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}
