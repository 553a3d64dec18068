/**
 * What the proxy does to each message, and the seeded plan that decides it.
 * A message is a datagram over UDP and a record (RFC 5531 §11) over TCP.
 */
import { Sfc32, streamSeed, TWO_TO_32 } from "./prng.js";

/** The two directions through the proxy: client to target, and back. */
export type Direction = "request" | "reply";

/** The faults of one direction. Rates are probabilities per message, 0..1. */
export interface Faults {
  /** The message is not forwarded. Over TCP the connection stays up: the record is simply missing. */
  readonly drop: number;
  /** The message is forwarded twice, back to back. */
  readonly dup: number;
  /** The message is held back and sent after the next one of its flow (or after reorderTimeoutMs). */
  readonly reorder: number;
  /** One byte of the message (over TCP of the record's body, never its mark) is XORed with 1..255. */
  readonly corrupt: number;
  /** Every forwarded message waits this long first. */
  readonly delayMs: number;
  /** Plus a uniformly random 0..jitterMs (whole ms); messages then overtake one another, as on a real path. */
  readonly jitterMs: number;
}

/** No faults at all: the default of every rate and latency. */
export const NO_FAULTS: Faults = Object.freeze({
  drop: 0,
  dup: 0,
  reorder: 0,
  corrupt: 0,
  delayMs: 0,
  jitterMs: 0,
});

/**
 * Faults as createProxy and setFaults take them: rates and latencies for
 * the directions `direction` names, then per-direction values on top.
 * `{ drop: 0.3, direction: "reply" }` loses replies only;
 * `{ drop: 0.1, reply: { drop: 0.5 } }` loses 10% of requests and 50% of replies.
 */
export interface FaultSettings extends Partial<Faults> {
  /** The directions the top-level values apply to. Default "both". */
  readonly direction?: "both" | Direction;
  /** Values for requests only, over the top-level ones. */
  readonly request?: Partial<Faults>;
  /** Values for replies only, over the top-level ones. */
  readonly reply?: Partial<Faults>;
}

const FAULT_KEYS = ["drop", "dup", "reorder", "corrupt", "delayMs", "jitterMs"] as const;

/** Settings merged as if given together: `next` wins, per-direction values merged key by key. */
export function mergeFaultSettings(base: FaultSettings, next: FaultSettings): FaultSettings {
  return {
    ...base,
    ...next,
    request: { ...base.request, ...next.request },
    reply: { ...base.reply, ...next.reply },
  };
}

/** The faults of one direction under `settings`; throws RangeError on a rate outside 0..1 or a negative latency. */
export function faultsOf(settings: FaultSettings, direction: Direction): Faults {
  const applies = (settings.direction ?? "both") === "both" || settings.direction === direction;
  if (settings.direction !== undefined && !["both", "request", "reply"].includes(settings.direction)) {
    throw new RangeError(`direction must be "both", "request" or "reply", not ${String(settings.direction)}`);
  }
  const out: Record<string, number> = { ...NO_FAULTS };
  for (const key of FAULT_KEYS) {
    const own = settings[direction]?.[key];
    const value = own ?? (applies ? settings[key] : undefined);
    if (value === undefined) continue;
    const isRate = !key.endsWith("Ms");
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (isRate && value > 1)) {
      throw new RangeError(
        `${direction} ${key} must be ${isRate ? "in 0..1" : "a number of ms ≥ 0"}, not ${value}`,
      );
    }
    out[key] = value;
  }
  return Object.freeze(out) as unknown as Faults;
}

/**
 * What happens to one message. The plan fills one object per direction and
 * reuses it: read it before the next message of that direction.
 */
export interface FaultDecision {
  /** The message's place among its direction's messages, from 0. */
  index: number;
  drop: boolean;
  dup: boolean;
  reorder: boolean;
  corrupt: boolean;
  /** The byte that corruption changes, and what it is XORed with (1..255). */
  corruptAt: number;
  corruptXor: number;
  /** The latency added, delayMs plus the jitter drawn. */
  delayMs: number;
}

/**
 * The seeded decisions of one direction. Each message draws the same seven
 * numbers whatever the rates, so the n-th message's fate under one fault
 * depends only on the seed, the direction, n and that fault's rate: with
 * seed 7, the requests dropped at 30% are the same whether or not 10% are
 * also duplicated.
 */
export class FaultPlan {
  readonly #random: Sfc32;
  readonly #decision: FaultDecision = {
    index: -1,
    drop: false,
    dup: false,
    reorder: false,
    corrupt: false,
    corruptAt: 0,
    corruptXor: 0,
    delayMs: 0,
  };

  constructor(seed: number, direction: Direction) {
    this.#random = new Sfc32(streamSeed(seed, direction));
  }

  /** How many messages have been decided. */
  get count(): number {
    return this.#decision.index + 1;
  }

  /** Decides the next message, `length` bytes long, under `faults`. */
  decide(faults: Faults, length: number): FaultDecision {
    const r = this.#random;
    const d = this.#decision;
    d.index++;
    // A rate of 1 always holds (every draw is below 2^32), a rate of 0 never.
    d.drop = r.u32() < faults.drop * TWO_TO_32;
    d.dup = r.u32() < faults.dup * TWO_TO_32;
    d.reorder = r.u32() < faults.reorder * TWO_TO_32;
    d.corrupt = r.u32() < faults.corrupt * TWO_TO_32 && length > 0;
    d.corruptAt = Math.floor((r.u32() / TWO_TO_32) * length);
    d.corruptXor = 1 + (r.u32() % 255);
    const jitter = r.u32();
    const spread = Math.floor(faults.jitterMs) + 1;
    d.delayMs = faults.delayMs + Math.floor((jitter / TWO_TO_32) * spread);
    return d;
  }
}
