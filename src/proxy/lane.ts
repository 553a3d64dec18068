/**
 * One direction of one flow (a TCP connection, or a UDP client's datagrams):
 * each message is decided by its direction's plan, then dropped, corrupted,
 * held back, delayed or duplicated on its way to the sink.
 */
import type { Direction, FaultDecision, FaultPlan, Faults } from "./faults.js";

/** The counts of one direction, over every flow. */
export interface DirectionStats {
  /** Messages that arrived. */
  readonly seen: number;
  /** Messages sent on (a duplicated one counts once here). */
  readonly forwarded: number;
  /** Messages decided to be lost. */
  readonly dropped: number;
  /** Messages decided to be sent twice. */
  readonly duplicated: number;
  /** Messages held back to follow a later one. */
  readonly reordered: number;
  /** Messages with one byte changed. */
  readonly corrupted: number;
  /** Messages held or delayed when their flow was cut or closed, never sent. */
  readonly discarded: number;
}

/** What the proxy tells `trace` about each message, before acting on it. */
export interface ProxyTraceEvent {
  readonly direction: Direction;
  /** The message's place among its direction's messages, from 0: what the seed's decisions are indexed by. */
  readonly index: number;
  readonly bytes: number;
  readonly drop: boolean;
  readonly dup: boolean;
  readonly reorder: boolean;
  readonly corrupt: boolean;
  readonly delayMs: number;
}

/** The state a direction shares between its flows: the faults now, the plan, the counts. */
export interface DirectionState {
  readonly direction: Direction;
  faults: Faults;
  readonly plan: FaultPlan;
  readonly counts: { -readonly [K in keyof DirectionStats]: number };
  readonly trace: ((event: ProxyTraceEvent) => void) | undefined;
}

/** Counts all at zero. */
export function zeroCounts(): DirectionState["counts"] {
  return { seen: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0, discarded: 0 };
}

/** Where a lane's messages go: one send per call (a duplicate is two calls). */
export type Sink = (bytes: Uint8Array) => void;

/** Limits of a lane's held messages. */
export interface LaneOptions {
  readonly reorderTimeoutMs: number;
  readonly maxHeldMessages: number;
}

interface Held {
  readonly bytes: Uint8Array;
  readonly copies: number;
  readonly delayMs: number;
}

/** One direction of one flow. */
export class Lane {
  readonly #state: DirectionState;
  readonly #sink: Sink;
  readonly #options: LaneOptions;
  #held: Held[] = [];
  #heldTimer: NodeJS.Timeout | undefined;
  /** Messages waiting out their delay. */
  #delayed = 0;
  #onEnd: (() => void) | undefined;
  #ending = false;
  #closed = false;

  constructor(state: DirectionState, sink: Sink, options: LaneOptions) {
    this.#state = state;
    this.#sink = sink;
    this.#options = options;
  }

  /** Messages held back or delayed, not yet sent. */
  get pending(): number {
    return this.#held.length + this.#delayed;
  }

  /**
   * One message from the source. It may be changed in place (corruption) and
   * kept (held, delayed): the caller must not reuse its bytes.
   */
  push(bytes: Uint8Array): void {
    if (this.#closed) return;
    const state = this.#state;
    const counts = state.counts;
    const d = state.plan.decide(state.faults, bytes.length);
    counts.seen++;
    if (state.trace !== undefined) state.trace(traceEvent(state.direction, d, bytes.length));
    if (d.drop) {
      counts.dropped++;
      return;
    }
    if (d.corrupt) {
      bytes[d.corruptAt] ^= d.corruptXor;
      counts.corrupted++;
    }
    const copies = d.dup ? 2 : 1;
    if (d.dup) counts.duplicated++;
    if (d.reorder && this.#held.length < this.#options.maxHeldMessages) {
      // Held until a message of this flow passes that is not held itself (a
      // run of held ones follows it in order), or until the timeout.
      this.#held.push({ bytes, copies, delayMs: d.delayMs });
      counts.reordered++;
      this.#heldTimer ??= setTimeout(Lane.#heldTimeout, this.#options.reorderTimeoutMs, this).unref();
      return;
    }
    this.#emit(bytes, copies, d.delayMs);
    if (this.#held.length > 0) this.#release();
  }

  /**
   * The source has ended: sends what is held now and, once every delayed
   * message is out, calls `onEnd` (the proxy then ends the other side).
   */
  end(onEnd: () => void): void {
    if (this.#closed) return;
    this.#ending = true;
    this.#onEnd = onEnd;
    this.#release();
    this.#maybeEnded();
  }

  /** The flow is gone: what is held or delayed is discarded. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heldTimer !== undefined) clearTimeout(this.#heldTimer);
    this.#heldTimer = undefined;
    this.#state.counts.discarded += this.#held.length + this.#delayed;
    this.#held = [];
  }

  #emit(bytes: Uint8Array, copies: number, delayMs: number): void {
    if (delayMs > 0) {
      this.#delayed++;
      // One timer per delayed message, but no closure: the lane and the message ride as arguments.
      setTimeout(Lane.#delayOver, delayMs, this, bytes, copies).unref();
      return;
    }
    this.#send(bytes, copies);
  }

  #send(bytes: Uint8Array, copies: number): void {
    this.#state.counts.forwarded++;
    this.#sink(bytes);
    if (copies === 2) this.#sink(bytes);
  }

  #release(): void {
    if (this.#heldTimer !== undefined) clearTimeout(this.#heldTimer);
    this.#heldTimer = undefined;
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    for (const h of held) this.#emit(h.bytes, h.copies, h.delayMs);
  }

  #maybeEnded(): void {
    if (!this.#ending || this.#closed || this.pending > 0) return;
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.();
  }

  static #heldTimeout(lane: Lane): void {
    lane.#heldTimer = undefined;
    if (lane.#closed) return;
    lane.#release();
  }

  static #delayOver(lane: Lane, bytes: Uint8Array, copies: number): void {
    lane.#delayed--;
    // A closed lane counted this message as discarded when it closed.
    if (lane.#closed) return;
    lane.#send(bytes, copies);
    lane.#maybeEnded();
  }
}

function traceEvent(direction: Direction, d: FaultDecision, bytes: number): ProxyTraceEvent {
  return {
    direction,
    index: d.index,
    bytes,
    drop: d.drop,
    dup: d.dup && !d.drop,
    reorder: d.reorder && !d.drop,
    corrupt: d.corrupt && !d.drop,
    delayMs: d.delayMs,
  };
}
