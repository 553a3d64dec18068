/**
 * Health checks and leases for an instance table, on one coarse timer.
 *
 * Every tick (a fifth of the health interval, between 10 ms and 1 s) it
 * drops the instances whose lease ran out, then probes each instance not
 * seen for a health interval and not probed for one either, at most
 * `maxConcurrentProbes` at a time. An answer makes it alive; a miss makes
 * it suspect, and `maxMisses` in a row remove it. A renewal counts as an
 * answer (the table stamps `lastSeenAt`), so an instance that renews more
 * often than the interval is not probed at all. A dead instance is thus
 * gone within about healthIntervalMs × maxMisses (plus a tick and the last
 * probe's timeout) of its last sign of life.
 */
import type { InstanceRecord } from "./instance.js";
import type { InstanceTable } from "./instance-table.js";
import { type Probe, probeInstance } from "./probe.js";

/** Options of a HealthMonitor. Defaults in {@link HEALTH_DEFAULTS}. */
export interface HealthOptions {
  /** Probe an instance when it has not been seen for this long. 0: no health checks (leases only). */
  readonly healthIntervalMs?: number;
  /** A probe not answered within this long is a miss. */
  readonly healthTimeoutMs?: number;
  /** Misses in a row that remove an instance. */
  readonly maxMisses?: number;
  /** Probes running at once, at most. */
  readonly maxConcurrentProbes?: number;
  /** How to ask an instance whether it is alive. Default: a NULL call ({@link probeInstance}). */
  readonly probe?: Probe;
}

/** The defaults of HealthOptions. */
export const HEALTH_DEFAULTS = Object.freeze({
  healthIntervalMs: 5000,
  healthTimeoutMs: 1000,
  maxMisses: 3,
  maxConcurrentProbes: 64,
});

/** The tick when health checks are off: leases are then checked once a second. */
const MAX_TICK_MS = 1000;
const MIN_TICK_MS = 10;

/** Probes the instances of a table and expires their leases. `start()` it; `stop()` it. */
export class HealthMonitor {
  readonly #table: InstanceTable;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #maxMisses: number;
  readonly #maxConcurrent: number;
  readonly #probe: Probe;
  /** When each instance was last probed (its own state, not replicated). */
  readonly #probedAt = new Map<string, number>();
  readonly #inFlight = new Map<string, AbortController>();
  /** The ids the last tick found due, in table order; those from #dueNext on wait for a free slot. */
  #due: string[] = [];
  #dueNext = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;

  constructor(table: InstanceTable, options: HealthOptions = {}) {
    this.#table = table;
    this.#intervalMs = options.healthIntervalMs ?? HEALTH_DEFAULTS.healthIntervalMs;
    this.#timeoutMs = options.healthTimeoutMs ?? HEALTH_DEFAULTS.healthTimeoutMs;
    this.#maxMisses = Math.max(1, options.maxMisses ?? HEALTH_DEFAULTS.maxMisses);
    this.#maxConcurrent = Math.max(1, options.maxConcurrentProbes ?? HEALTH_DEFAULTS.maxConcurrentProbes);
    this.#probe = options.probe ?? probeInstance;
  }

  /** The period of the timer, in ms. */
  get tickMs(): number {
    if (this.#intervalMs <= 0) return MAX_TICK_MS;
    return Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(this.#intervalMs / 5)));
  }

  /** Probes running now. */
  get probesInFlight(): number {
    return this.#inFlight.size;
  }

  /** Starts the timer (unreferenced: it does not keep the process alive). Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = false;
    this.#timer = setInterval(() => this.tick(), this.tickMs);
    this.#timer.unref();
  }

  /** Stops the timer and aborts the probes running; their answers are ignored. */
  stop(): void {
    this.#running = false;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const controller of this.#inFlight.values()) controller.abort();
    this.#inFlight.clear();
    this.#probedAt.clear();
    this.#due = [];
    this.#dueNext = 0;
  }

  /** One round: expires leases and starts the probes that are due. The timer calls it; tests may too. */
  tick(): void {
    const now = this.#table.now();
    this.#table.expireLeases(now);
    if (this.#intervalMs <= 0) return;
    const live = this.#table.list();
    if (this.#probedAt.size > live.length) this.#forgetRemoved(live);
    this.#due = [];
    this.#dueNext = 0;
    for (const record of live) if (this.#isDue(record, now)) this.#due.push(record.id);
    this.#fill(now);
  }

  #isDue(record: InstanceRecord, now: number): boolean {
    if (this.#inFlight.has(record.id)) return false;
    const last = Math.max(record.lastSeenAt, this.#probedAt.get(record.id) ?? Number.NEGATIVE_INFINITY);
    return now - last >= this.#intervalMs;
  }

  /**
   * Starts due probes while there are free slots. Called by the tick and
   * whenever a probe ends, so that the limit bounds how many run at once,
   * not how many run per tick.
   */
  #fill(now: number): void {
    while (this.#inFlight.size < this.#maxConcurrent && this.#dueNext < this.#due.length) {
      const record = this.#table.get(this.#due[this.#dueNext++]);
      // Removed, renewed or probed since the tick found it due: skipped.
      if (record !== undefined && this.#isDue(record, now)) this.#start(record, now);
    }
  }

  #start(record: InstanceRecord, now: number): void {
    const controller = new AbortController();
    this.#inFlight.set(record.id, controller);
    this.#probedAt.set(record.id, now);
    void this.#probe(record, this.#timeoutMs, controller.signal)
      .catch(() => false)
      .then((alive) => {
        // Stopped, or a newer probe of the same id took its place: this answer no longer counts.
        if (controller.signal.aborted || this.#inFlight.get(record.id) !== controller) return;
        this.#inFlight.delete(record.id);
        if (alive) this.#table.markAlive(record.id);
        else if (this.#table.markMissed(record.id, this.#maxMisses) === "removed")
          this.#probedAt.delete(record.id);
        if (!this.#stopped && this.#dueNext < this.#due.length) this.#fill(this.#table.now());
      });
  }

  /** Forgets the probe times of instances no longer in the table. */
  #forgetRemoved(live: readonly InstanceRecord[]): void {
    const ids = new Set(live.map((r) => r.id));
    for (const id of this.#probedAt.keys())
      if (!ids.has(id) && !this.#inFlight.has(id)) this.#probedAt.delete(id);
  }
}
