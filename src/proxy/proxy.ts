/**
 * createProxy: a seeded fault-injecting relay between ONC RPC clients and a
 * server, over TCP (per record) or UDP (per datagram). This kernel has no
 * netem; lost requests and replies, duplicates, reordering, latency,
 * corruption and broken connections are made here, in user space, and a
 * seed repeats them.
 */
import { randomInt } from "node:crypto";
import { type AddressLike, formatAddress, type InetAddress, parseAddress } from "../transport/index.js";
import { listenDatagramFront } from "./datagram-front.js";
import {
  type Direction,
  FaultPlan,
  type FaultSettings,
  type Faults,
  faultsOf,
  mergeFaultSettings,
} from "./faults.js";
import type { Front, ProxyCore } from "./front.js";
import { type DirectionState, type DirectionStats, type ProxyTraceEvent, zeroCounts } from "./lane.js";
import { listenStreamFront } from "./stream-front.js";

/** Options of createProxy: where, the faults (see FaultSettings), the seed and limits. Defaults in {@link PROXY_DEFAULTS}. */
export interface ProxyOptions extends FaultSettings {
  /** Where clients connect: `tcp://HOST:PORT` or `udp://HOST:PORT` (port 0: any free port). */
  readonly listen: AddressLike;
  /** Where messages go: of the same protocol (a TCP proxy may also reach `unix:///PATH`). */
  readonly target: AddressLike;
  /** Seeds the decisions (an unsigned 32-bit integer); without one a random seed is chosen, and shown in `seed`. */
  readonly seed?: number;
  /** A message held back for reordering is sent after this long if no later message of its flow comes first. */
  readonly reorderTimeoutMs?: number;
  /** At most this many messages held back per flow and direction; beyond, a message to hold is sent at once. */
  readonly maxHeldMessages?: number;
  /** TCP: a longer record closes its connection (both sides). */
  readonly maxRecordBytes?: number;
  /** UDP: a client's upstream socket closes after between one and two times this long without traffic. */
  readonly flowIdleMs?: number;
  /** Told about each message and its fate before the proxy acts on it (for tests and logs; it costs an object per message). */
  readonly trace?: (event: ProxyTraceEvent) => void;
}

/** The defaults of ProxyOptions. */
export const PROXY_DEFAULTS = Object.freeze({
  reorderTimeoutMs: 20,
  maxHeldMessages: 64,
  maxRecordBytes: 64 * 1024 * 1024,
  flowIdleMs: 60_000,
});

/** What the proxy has done so far. */
export interface ProxyStats {
  /** Client to target. */
  readonly request: DirectionStats;
  /** Target to client. */
  readonly reply: DirectionStats;
  /** Flows opened: TCP connections accepted, or UDP clients (address and port) seen. */
  readonly flows: number;
  /** Flows open now. */
  readonly open: number;
  /** Times cut() was called. */
  readonly cuts: number;
}

/** A running proxy. */
export interface FaultProxy {
  /** Where clients reach it, with the port chosen when 0 was asked for. */
  readonly address: InetAddress;
  /** Where it relays to. */
  readonly target: string;
  /** The seed of its decisions: pass it again to repeat a run. */
  readonly seed: number;
  /** A snapshot of the counts. */
  readonly stats: ProxyStats;
  /** The faults in force now, per direction. */
  readonly faults: { readonly request: Faults; readonly reply: Faults };
  /**
   * Changes the faults from the next message on, merged into the settings so
   * far as if all had been given to createProxy. The decision sequence goes
   * on: only the rates it is compared with change.
   */
  setFaults(settings: FaultSettings): void;
  /**
   * Closes every connection now, as a crash of the network would: TCP
   * connections are reset on both sides, UDP clients' upstream sockets
   * closed (the target sees a new source port afterwards), and whatever is
   * held or delayed is lost. The proxy keeps listening.
   */
  cut(): void;
  /** Stops listening and closes everything. */
  close(): Promise<void>;
}

/** Starts a proxy; resolves once it listens. Throws TypeError or RangeError on bad options. */
export async function createProxy(options: ProxyOptions): Promise<FaultProxy> {
  const listen = parseAddress(options.listen);
  const target = parseAddress(options.target);
  if (listen.protocol === "unix") throw new TypeError("a proxy listens on tcp:// or udp://, not unix://");
  if (listen.protocol === "udp" ? target.protocol !== "udp" : target.protocol === "udp") {
    throw new TypeError(
      `a ${listen.protocol} proxy needs a ${listen.protocol === "udp" ? "udp" : "tcp or unix"} target, not ${formatAddress(target)}`,
    );
  }
  const seed = options.seed ?? randomInt(0, 0xffffffff);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an unsigned 32-bit integer, not ${seed}`);
  }
  const settings = mergeFaultSettings({}, options);
  const limits: { -readonly [K in keyof typeof PROXY_DEFAULTS]: number } = { ...PROXY_DEFAULTS };
  for (const key of Object.keys(PROXY_DEFAULTS) as (keyof typeof PROXY_DEFAULTS)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < (key === "maxHeldMessages" ? 0 : 1)) {
      throw new RangeError(`${key} must be a positive integer, not ${value}`);
    }
    limits[key] = value;
  }
  const state = (direction: Direction): DirectionState => ({
    direction,
    faults: faultsOf(settings, direction),
    plan: new FaultPlan(seed, direction),
    counts: zeroCounts(),
    trace: options.trace,
  });
  const core: ProxyCore = {
    request: state("request"),
    reply: state("reply"),
    lane: { reorderTimeoutMs: limits.reorderTimeoutMs, maxHeldMessages: limits.maxHeldMessages },
    maxRecordBytes: limits.maxRecordBytes,
    flowIdleMs: limits.flowIdleMs,
    flows: 0,
    cuts: 0,
  };
  const front =
    listen.protocol === "udp"
      ? await listenDatagramFront(core, listen, target as InetAddress)
      : await listenStreamFront(core, listen, target);
  return new RelayProxy(core, front, settings, seed, formatAddress(target));
}

class RelayProxy implements FaultProxy {
  readonly seed: number;
  readonly target: string;
  readonly #core: ProxyCore;
  readonly #front: Front;
  #settings: FaultSettings;
  #closing: Promise<void> | undefined;

  constructor(core: ProxyCore, front: Front, settings: FaultSettings, seed: number, target: string) {
    this.#core = core;
    this.#front = front;
    this.#settings = settings;
    this.seed = seed;
    this.target = target;
  }

  get address(): InetAddress {
    return this.#front.address;
  }

  get stats(): ProxyStats {
    const core = this.#core;
    return {
      request: { ...core.request.counts },
      reply: { ...core.reply.counts },
      flows: core.flows,
      open: this.#front.open,
      cuts: core.cuts,
    };
  }

  get faults(): { readonly request: Faults; readonly reply: Faults } {
    return { request: this.#core.request.faults, reply: this.#core.reply.faults };
  }

  setFaults(settings: FaultSettings): void {
    const next = mergeFaultSettings(this.#settings, settings);
    // Both computed before either is set: a bad value changes nothing.
    const request = faultsOf(next, "request");
    const reply = faultsOf(next, "reply");
    this.#settings = next;
    this.#core.request.faults = request;
    this.#core.reply.faults = reply;
  }

  cut(): void {
    this.#core.cuts++;
    this.#front.cut();
  }

  close(): Promise<void> {
    this.#closing ??= this.#front.close();
    return this.#closing;
  }
}
