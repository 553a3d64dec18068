/**
 * Orphans (docs/semantics.md, "Orphans"): the session calls a server is
 * running, each with its deadline and the controller of its handler's
 * AbortSignal, found by client id, epoch and sequence so that the control
 * program (ONCE_CONTROL_PROG, control-program.ts) can extend, cancel, claim
 * and kill them, and so that a client that restarted can have its previous
 * incarnation's computations aborted (reincarnation, Nelson 1981).
 */
import { RpcError, type SessionInfo } from "../rpc/index.js";
import type { SignalSource } from "./call-context.js";
import { DeadlineQueue, type Expiring } from "./deadlines.js";

/** Names one call of a session client. */
export interface CallRef {
  /** The client id in hex (SessionInfo.clientKey). */
  readonly clientKey: string;
  readonly epoch: bigint;
  readonly sequence: bigint;
}

/** Options of an OrphanRegistry. Defaults in {@link ORPHAN_DEFAULTS}. */
export interface OrphanOptions {
  /** Clients whose last reincarnation is remembered (so that a late call of an old epoch dies at once); the oldest are forgotten. */
  readonly maxReincarnations?: number;
  /** The longest grace a gentle reincarnation may ask for; longer is cut to this. */
  readonly maxGraceMs?: number;
}

/** The defaults of OrphanOptions. */
export const ORPHAN_DEFAULTS = Object.freeze({ maxReincarnations: 10_000, maxGraceMs: 600_000 });

type DeadlineListener = (deadline: number | undefined) => void;

/**
 * One running session call: its deadline (in the registry's queue) and the
 * signal its handler sees, made when the handler first asks for it.
 */
export class CallLife implements Expiring {
  expiresAt = Number.POSITIVE_INFINITY;
  heapIndex = -1;
  readonly clientKey: string;
  readonly epoch: bigint;
  readonly sequence: bigint;
  /** Waiting for a claim until a gentle reincarnation's grace ends. */
  suspect = false;
  /** Until the call ends. */
  running = true;
  /** Another call of the client with the same sequence: another run (maybe and at-least-once calls may run twice), or another epoch's. */
  twin: CallLife | undefined;
  readonly #registry: OrphanRegistry;
  /** Without a deadline, the call also ends with its connection (else it would never end). */
  readonly #source: SignalSource | undefined;
  #controller: AbortController | undefined;
  #reason: unknown;
  #unlink: (() => void) | undefined;
  #watchers: Set<DeadlineListener> | undefined;

  constructor(registry: OrphanRegistry, session: SessionInfo, source: SignalSource, now: number) {
    this.#registry = registry;
    this.clientKey = session.clientKey;
    this.epoch = session.epoch;
    this.sequence = session.sequence;
    if (session.timeoutMs > 0) this.expiresAt = now + session.timeoutMs;
    else this.#source = source;
  }

  /** When the client stops waiting, in ms since the epoch; undefined: no deadline. */
  get deadline(): number | undefined {
    return this.expiresAt === Number.POSITIVE_INFINITY ? undefined : this.expiresAt;
  }

  /** Whether the call was abandoned (its signal fired or will fire when asked for). */
  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  /** The handler's signal: fires at the deadline, on cancel or kill, and (without a deadline) when the connection closes. */
  signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.#reason !== undefined) controller.abort(this.#reason);
      else if (this.#source !== undefined) {
        const connection = this.#source.signal();
        if (connection.aborted) this.abort(connection.reason);
        else {
          const onClose = () => this.abort(connection.reason);
          connection.addEventListener("abort", onClose, { once: true });
          this.#unlink = () => connection.removeEventListener("abort", onClose);
        }
      }
    }
    return this.#controller.signal;
  }

  /** Abandons the call: its signal fires with `reason` (once; later reasons are ignored). */
  abort(reason: unknown): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#unlink?.();
    this.#unlink = undefined;
    this.#controller?.abort(reason);
  }

  /** Moves the deadline to `at` (undefined: none) and tells who watches it. */
  setDeadline(at: number | undefined): void {
    this.#registry.move(this, at);
    if (this.#watchers !== undefined) for (const listener of this.#watchers) listener(at);
  }

  /** Hears of each move of the deadline (the handler's outgoing calls follow it); returns the stop. */
  watch(listener: DeadlineListener): () => void {
    this.#watchers ??= new Set();
    this.#watchers.add(listener);
    return () => this.#watchers?.delete(listener);
  }

  /** @internal the deadline passed. */
  expire(now: number): void {
    this.abort(
      new RpcError(
        "TIMEOUT",
        `the call's deadline passed ${now - this.expiresAt} ms ago: its client waits no longer`,
      ),
    );
  }

  /** @internal the call ended: stop listening to the connection. */
  finish(): void {
    this.#unlink?.();
    this.#unlink = undefined;
    this.#watchers = undefined;
  }
}

/** A client's last reincarnation: its epoch, and the end of its grace when gentle. */
class Reincarnation implements Expiring {
  expiresAt = Number.POSITIVE_INFINITY;
  heapIndex = -1;
  readonly clientKey: string;
  readonly epoch: bigint;
  readonly graceMs: number;
  readonly #registry: OrphanRegistry;

  constructor(registry: OrphanRegistry, clientKey: string, epoch: bigint, graceMs: number) {
    this.#registry = registry;
    this.clientKey = clientKey;
    this.epoch = epoch;
    this.graceMs = graceMs;
  }

  /** Whether calls of older epochs may still be claimed. */
  get inGrace(): boolean {
    return this.heapIndex >= 0;
  }

  expire(): void {
    this.#registry.endGrace(this);
  }
}

/** Past this many clients known, those with no call running are forgotten. */
const SWEEP_CLIENTS = 1024;

/** The reason an orphan's signal fires with. */
function orphanReason(why: string): RpcError {
  return new RpcError("ABORTED", `orphan: the client restarted${why}`);
}

/** The session calls a server runs, by client; what the control program acts on. */
export class OrphanRegistry {
  readonly #queue = new DeadlineQueue();
  /** Calls with a sequence, by client, then by sequence (calls of other epochs or runs are twins). */
  readonly #clients = new Map<string, Map<bigint, CallLife>>();
  #running = 0;
  #sweepAt = SWEEP_CLIENTS;
  readonly #reincarnations = new Map<string, Reincarnation>();
  readonly #maxReincarnations: number;
  readonly #maxGraceMs: number;
  #suspects = 0;

  constructor(options: OrphanOptions = {}) {
    this.#maxReincarnations = options.maxReincarnations ?? ORPHAN_DEFAULTS.maxReincarnations;
    this.#maxGraceMs = options.maxGraceMs ?? ORPHAN_DEFAULTS.maxGraceMs;
  }

  /** Calls running now with a life (a deadline, or a sequence). */
  get running(): number {
    return this.#running;
  }

  /** Calls waiting for a claim (gentle reincarnation). */
  get suspects(): number {
    return this.#suspects;
  }

  /**
   * A session call starts: its life, queued at its deadline and found by
   * its sequence. A call of an epoch older than its client's last
   * reincarnation is an orphan from the start: aborted at once, or a
   * suspect while a gentle reincarnation's grace lasts.
   */
  begin(session: SessionInfo, source: SignalSource, now: number): CallLife {
    const life = new CallLife(this, session, source, now);
    this.#running++;
    if (life.expiresAt !== Number.POSITIVE_INFINITY) this.#queue.schedule(life);
    if (life.sequence !== 0n) {
      let calls = this.#clients.get(life.clientKey);
      if (calls === undefined) {
        // A client's map is kept while it has no call (a client calling one at a time would
        // make one per call); the empty ones go when many clients have come.
        if (this.#clients.size >= this.#sweepAt) {
          for (const [key, map] of this.#clients) if (map.size === 0) this.#clients.delete(key);
          this.#sweepAt = Math.max(SWEEP_CLIENTS, 2 * this.#clients.size);
        }
        calls = new Map();
        this.#clients.set(life.clientKey, calls);
      }
      life.twin = calls.get(life.sequence);
      calls.set(life.sequence, life);
    }
    const reincarnation = this.#reincarnations.get(life.clientKey);
    if (reincarnation !== undefined && life.epoch < reincarnation.epoch) {
      if (reincarnation.inGrace) this.#suspect(life);
      else life.abort(orphanReason(` (epoch ${reincarnation.epoch}): this call is of epoch ${life.epoch}`));
    }
    return life;
  }

  /** A session call ended (it replied, or failed). */
  end(life: CallLife): void {
    if (!life.running) return;
    life.running = false;
    this.#running--;
    this.#queue.cancel(life);
    if (life.suspect) {
      life.suspect = false;
      this.#suspects--;
    }
    life.finish();
    if (life.sequence === 0n) return;
    const calls = this.#clients.get(life.clientKey);
    if (calls === undefined) return;
    const head = calls.get(life.sequence);
    if (head === life) {
      if (life.twin === undefined) calls.delete(life.sequence);
      else calls.set(life.sequence, life.twin);
    } else {
      for (let l = head; l !== undefined; l = l.twin) {
        if (l.twin === life) {
          l.twin = life.twin;
          break;
        }
      }
    }
  }

  /** @internal moves a life in the deadline queue. */
  move(life: CallLife, at: number | undefined): void {
    if (!life.running) return;
    if (at === undefined) {
      life.expiresAt = Number.POSITIVE_INFINITY;
      this.#queue.cancel(life);
    } else {
      life.expiresAt = at;
      this.#queue.schedule(life);
    }
  }

  /** The runs of a call (usually one), found by its reference. */
  find(ref: CallRef): CallLife[] {
    const out: CallLife[] = [];
    for (let l = this.#clients.get(ref.clientKey)?.get(ref.sequence); l; l = l.twin)
      if (l.epoch === ref.epoch) out.push(l);
    return out;
  }

  /** ONCE_EXTEND: the call's deadline becomes now + timeoutMs (0: none); it counts as a claim. Returns the runs reached. */
  extend(ref: CallRef, timeoutMs: number, now: number): number {
    const lives = this.find(ref);
    for (const life of lives) {
      this.#claim(life);
      life.setDeadline(timeoutMs > 0 ? now + timeoutMs : undefined);
    }
    return lives.length;
  }

  /** ONCE_CANCEL: the client gave up on the call. */
  cancel(ref: CallRef): number {
    const lives = this.find(ref);
    for (const life of lives) life.abort(new RpcError("ABORTED", "the client cancelled the call"));
    return lives.length;
  }

  /** ONCE_CLAIM: the call's owner still lives; a gentle reincarnation spares it. */
  claim(ref: CallRef): number {
    const lives = this.find(ref);
    for (const life of lives) this.#claim(life);
    return lives.length;
  }

  /**
   * A call that may be a retransmission arrived: an owner that still sends
   * its call is alive, so a suspect run of it is claimed. Cheap when no
   * reincarnation is in its grace.
   */
  touch(session: SessionInfo): void {
    if (this.#suspects === 0 || session.sequence === 0n) return;
    this.claim(session);
  }

  /**
   * ONCE_REINCARNATE: the client restarted as `epoch`; its calls of older
   * epochs are orphans. They are aborted now, or, with a grace, marked
   * suspect and aborted when it ends unless claimed meanwhile. A
   * reincarnation to an epoch not newer than the last is ignored (the same
   * announcement over several connections). Returns the calls reached.
   */
  reincarnate(clientKey: string, epoch: bigint, graceMs: number): number {
    const last = this.#reincarnations.get(clientKey);
    if (last !== undefined && epoch <= last.epoch) return 0;
    if (last !== undefined) this.#queue.cancel(last);
    const grace = Math.min(Math.max(0, graceMs), this.#maxGraceMs);
    const reincarnation = new Reincarnation(this, clientKey, epoch, grace);
    this.#reincarnations.delete(clientKey);
    this.#reincarnations.set(clientKey, reincarnation);
    if (this.#reincarnations.size > this.#maxReincarnations) {
      const oldest = this.#reincarnations.values().next().value as Reincarnation;
      this.#queue.cancel(oldest);
      this.#reincarnations.delete(oldest.clientKey);
    }
    const orphans = this.#older(clientKey, epoch);
    if (grace > 0) {
      for (const life of orphans) this.#suspect(life);
      reincarnation.expiresAt = Date.now() + grace;
      this.#queue.schedule(reincarnation);
    } else {
      const reason = orphanReason(` (epoch ${epoch})`);
      for (const life of orphans) life.abort(reason);
    }
    return orphans.length;
  }

  /** @internal a gentle reincarnation's grace ended: the suspects no one claimed die. */
  endGrace(reincarnation: Reincarnation): void {
    const reason = orphanReason(
      ` (epoch ${reincarnation.epoch}) and no one claimed the call within ${reincarnation.graceMs} ms`,
    );
    for (const life of this.#older(reincarnation.clientKey, reincarnation.epoch)) {
      if (!life.suspect) continue;
      this.#claim(life);
      life.abort(reason);
    }
  }

  /** ONCE_KILL: the calls an extermination log found unfinished. */
  kill(clientKey: string, epoch: bigint, sequences: readonly bigint[]): number {
    let n = 0;
    const reason = orphanReason(": its extermination log named this call unfinished");
    for (const sequence of sequences) {
      for (const life of this.find({ clientKey, epoch, sequence })) {
        life.abort(reason);
        n++;
      }
    }
    return n;
  }

  /** Aborts every running call (the server was destroyed). */
  abortAll(reason: unknown): void {
    for (const calls of this.#clients.values())
      for (const head of calls.values())
        for (let l: CallLife | undefined = head; l !== undefined; l = l.twin) l.abort(reason);
    // Calls without a sequence are found by their deadline.
    for (const item of this.#queue.items()) if (item instanceof CallLife) item.abort(reason);
  }

  /** Stops the timer; nothing expires any more. */
  stop(): void {
    this.#queue.stop();
  }

  #older(clientKey: string, epoch: bigint): CallLife[] {
    const out: CallLife[] = [];
    const calls = this.#clients.get(clientKey);
    if (calls === undefined) return out;
    for (const head of calls.values())
      for (let l: CallLife | undefined = head; l !== undefined; l = l.twin)
        if (l.epoch < epoch && !l.aborted) out.push(l);
    return out;
  }

  #suspect(life: CallLife): void {
    if (life.suspect || life.aborted) return;
    life.suspect = true;
    this.#suspects++;
  }

  #claim(life: CallLife): void {
    if (!life.suspect) return;
    life.suspect = false;
    this.#suspects--;
  }
}
