/**
 * Deadlines a caller can move while it waits (docs/semantics.md, "Deadlines
 * and cancellation"): `createDeadline(5_000)` passed as a call's `deadline`
 * option ends the call at that time, and `deadline.extend(10_000)` moves it
 * to 10 s from now, for the client and, through ONCE_EXTEND, for the
 * handler running on the server. One deadline may serve several calls.
 */

/** Hears of a deadline's move; may answer how many computations a server extended. */
export type DeadlineListener = (at: number) => Promise<number> | undefined;

/** A deadline a caller can move: pass it as CallOptions.deadline. */
export interface Deadline {
  /** When the calls that use it stop waiting, in ms since the epoch (Date.now()). */
  readonly at: number;
  /** Time left, in ms (0 once passed). */
  readonly remainingMs: number;
  /**
   * Moves the deadline to `ms` from now, for the calls in flight that use it
   * and for their handlers on session servers (ONCE_EXTEND, best effort).
   * Resolves with the number of running computations the servers said they
   * extended; never rejects.
   */
  extend(ms: number): Promise<number>;
  /** @internal the channel follows the deadline with this; returns the stop. */
  watch(listener: DeadlineListener): () => void;
}

/** setTimeout keeps delays in a signed 32-bit int. */
const MAX_TIMER_MS = 0x7fff_ffff;

class MovableDeadline implements Deadline {
  #at: number;
  readonly #listeners = new Set<DeadlineListener>();

  constructor(at: number) {
    this.#at = at;
  }

  get at(): number {
    return this.#at;
  }

  get remainingMs(): number {
    return Math.max(0, this.#at - Date.now());
  }

  extend(ms: number): Promise<number> {
    checkMs(ms, "extend");
    this.#at = Date.now() + Math.min(ms, MAX_TIMER_MS);
    const answers: Promise<number>[] = [];
    for (const listener of [...this.#listeners]) {
      const answer = listener(this.#at);
      if (answer !== undefined) answers.push(answer.catch(() => 0));
    }
    return Promise.all(answers).then((counts) => counts.reduce((a, b) => a + b, 0));
  }

  watch(listener: DeadlineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function checkMs(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0)
    throw new RangeError(`${what}: ms must be a finite number ≥ 0, got ${ms}`);
}

/** A deadline `ms` from now, for CallOptions.deadline; move it with `extend`. */
export function createDeadline(ms: number): Deadline {
  checkMs(ms, "createDeadline");
  return new MovableDeadline(Date.now() + Math.min(ms, MAX_TIMER_MS));
}

/**
 * @internal A signal that fires when either fires, with that one's reason:
 * AbortSignal.any where the runtime has it (Node ≥ 20.3), else composed by
 * hand (the listener on `b` then stays until `b` fires or is collected).
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === "function") return AbortSignal.any([a, b]);
  const controller = new AbortController();
  if (a.aborted) controller.abort(a.reason);
  else if (b.aborted) controller.abort(b.reason);
  else {
    const onA = () => controller.abort(a.reason);
    const onB = () => controller.abort(b.reason);
    a.addEventListener("abort", onA, { once: true });
    b.addEventListener("abort", onB, { once: true });
    controller.signal.addEventListener(
      "abort",
      () => {
        a.removeEventListener("abort", onA);
        b.removeEventListener("abort", onB);
      },
      { once: true },
    );
  }
  return controller.signal;
}
