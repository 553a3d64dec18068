/**
 * The deadlines of a server's running calls (docs/semantics.md, "Deadlines
 * and cancellation"): one min-heap of everything that expires, and one
 * unref'ed timer set for the earliest of them, instead of a setTimeout per
 * call. Adding a later deadline than the earliest costs a heap push and no
 * timer call; removing one (the call replied in time) costs a heap removal
 * and leaves the timer as it is: when it fires it finds nothing due and is
 * set again for the next.
 */

/** Something that expires at a time: a call's deadline, the end of a reincarnation's grace. */
export interface Expiring {
  /** When, in ms since the epoch (Date.now()). */
  expiresAt: number;
  /** @internal Its place in the heap; -1 when not queued. */
  heapIndex: number;
  /** The time came. Called once, after it left the queue. */
  expire(now: number): void;
}

/** The options of a DeadlineQueue. Defaults in {@link DEADLINE_QUEUE_DEFAULTS}. */
export interface DeadlineQueueOptions {
  /**
   * How late an expiry may fire, so that deadlines close together share one
   * timer callback: the timer is set this much after the earliest.
   */
  readonly slackMs?: number;
}

/** The defaults of DeadlineQueueOptions. */
export const DEADLINE_QUEUE_DEFAULTS = Object.freeze({ slackMs: 5 });

/** setTimeout keeps delays in a signed 32-bit int; longer ones would fire at once. */
const MAX_TIMER_MS = 0x7fff_ffff;

/** A heap of expiring things under one coarse, unref'ed timer. */
export class DeadlineQueue {
  readonly #heap: Expiring[] = [];
  readonly #slackMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(options: DeadlineQueueOptions = {}) {
    this.#slackMs = options.slackMs ?? DEADLINE_QUEUE_DEFAULTS.slackMs;
  }

  /** How many are queued. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `item` at its expiresAt, or moves it there when it is queued already. */
  schedule(item: Expiring): void {
    if (this.#stopped) return;
    const heap = this.#heap;
    if (item.heapIndex < 0) {
      item.heapIndex = heap.length;
      heap.push(item);
      this.#up(item.heapIndex);
    } else {
      this.#down(this.#up(item.heapIndex));
    }
    if (item.heapIndex === 0) this.#arm(item.expiresAt);
  }

  /** Takes `item` out of the queue (it will not expire); nothing when it is not queued. */
  cancel(item: Expiring): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const heap = this.#heap;
    const last = heap.pop() as Expiring;
    item.heapIndex = -1;
    if (last === item) return;
    heap[i] = last;
    last.heapIndex = i;
    this.#down(this.#up(i));
  }

  /** The items queued, in no particular order. */
  items(): readonly Expiring[] {
    return [...this.#heap];
  }

  /** Stops the timer and forgets every item; nothing expires any more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const item of this.#heap) item.heapIndex = -1;
    this.#heap.length = 0;
  }

  /** @internal the timer fired: expire what is due, set the timer for the next. */
  tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const heap = this.#heap;
    const now = Date.now();
    // Bounded by the heap's size at the start: an expire() that schedules again lands later.
    for (let n = heap.length; n > 0 && heap.length > 0 && heap[0].expiresAt <= now; n--) {
      const item = heap[0];
      this.cancel(item);
      item.expire(now);
    }
    if (heap.length > 0) this.#arm(heap[0].expiresAt);
  }

  #arm(at: number): void {
    if (this.#stopped || at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now()) + this.#slackMs);
    this.#timer = setTimeout(onTimer, delay, this);
    this.#timer.unref();
  }

  #up(i: number): number {
    const heap = this.#heap;
    const item = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].expiresAt <= item.expiresAt) break;
      heap[i] = heap[parent];
      heap[i].heapIndex = i;
      i = parent;
    }
    heap[i] = item;
    item.heapIndex = i;
    return i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const item = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1].expiresAt < heap[child].expiresAt) child++;
      if (heap[child].expiresAt >= item.expiresAt) break;
      heap[i] = heap[child];
      heap[i].heapIndex = i;
      i = child;
    }
    heap[i] = item;
    item.heapIndex = i;
  }
}

function onTimer(queue: DeadlineQueue): void {
  queue.tick();
}
