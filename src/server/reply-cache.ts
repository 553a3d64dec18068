/**
 * The reply cache of at-most-once calls (the "duplicate request cache" of
 * NFS servers, made explicit): a call that arrives again — retransmitted,
 * duplicated by the network, or sent anew after a reconnection — gets the
 * reply of its first run instead of a second run. Keyed by the caller (its
 * session's client id, or its address for a plain peer), the xid, program,
 * version, procedure and a checksum of the arguments, so that a reused xid
 * with other arguments is a new call. Bounded by entries, bytes and age.
 */
import type { ServerConnection } from "../transport/index.js";

/** Options of the reply cache. Defaults in {@link REPLY_CACHE_DEFAULTS}. */
export interface ReplyCacheOptions {
  /** Completed replies kept at most; the oldest go first. */
  readonly maxEntries?: number;
  /** Bytes of replies kept at most. */
  readonly maxBytes?: number;
  /** A reply older than this is forgotten: a duplicate that late runs again. */
  readonly maxAgeMs?: number;
}

/** The defaults of ReplyCacheOptions. */
export const REPLY_CACHE_DEFAULTS = Object.freeze({
  maxEntries: 16_384,
  maxBytes: 32 * 1024 * 1024,
  maxAgeMs: 300_000,
});

/** What the cache has counted. */
export interface ReplyCacheStats {
  /** Duplicates answered from the cache. */
  hits: number;
  /** Duplicates of a call still running: held, and answered when it completes. */
  inProgress: number;
  /** Calls seen for the first time. */
  misses: number;
  /** Replies forgotten for room or age. */
  evictions: number;
  entries: number;
  bytes: number;
}

/** One call in the cache: running (with the duplicates waiting for it), or done with its reply. */
interface Entry {
  readonly key: string;
  reply: Uint8Array | undefined;
  /** Connections a duplicate came on while the call ran. */
  waiters: ServerConnection[] | undefined;
  at: number;
}

/** What `begin` found. */
export const CacheLookup = {
  /** Not seen: run the call, then `complete` it. */
  RUN: 0,
  /** A duplicate: answered (or held until the first run replies). */
  ANSWERED: 1,
} as const;
export type CacheLookup = (typeof CacheLookup)[keyof typeof CacheLookup];

/** The reply cache; one per server. */
export class ReplyCache {
  readonly stats: ReplyCacheStats = { hits: 0, inProgress: 0, misses: 0, evictions: 0, entries: 0, bytes: 0 };
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #entries = new Map<string, Entry>();
  /**
   * The entries in the order they came, oldest from `#head`: eviction pops
   * here instead of iterating the Map, whose deleted slots V8 keeps until it
   * rebuilds the table (a full cache walked thousands of them per call).
   * An entry removed meanwhile is skipped when it reaches the head.
   */
  #order: Entry[] = [];
  #head = 0;
  readonly #now: () => number;

  constructor(options: ReplyCacheOptions = {}, now: () => number = Date.now) {
    this.#maxEntries = options.maxEntries ?? REPLY_CACHE_DEFAULTS.maxEntries;
    this.#maxBytes = options.maxBytes ?? REPLY_CACHE_DEFAULTS.maxBytes;
    this.#maxAgeMs = options.maxAgeMs ?? REPLY_CACHE_DEFAULTS.maxAgeMs;
    this.#now = now;
  }

  /**
   * A call arrived on `conn`: RUN when it is new (it is then marked
   * running), ANSWERED when it is a duplicate — its cached reply was sent on
   * `conn`, or `conn` waits for the running call's reply.
   */
  begin(key: string, conn: ServerConnection): CacheLookup {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry !== undefined && now - entry.at <= this.#maxAgeMs) {
      if (entry.reply !== undefined) {
        this.stats.hits++;
        sendReply(conn, entry.reply);
      } else {
        this.stats.inProgress++;
        // Over UDP the client retransmits anyway; over a stream the first connection may be gone.
        if (conn.kind === "stream") {
          entry.waiters ??= [];
          entry.waiters.push(conn);
        }
      }
      return CacheLookup.ANSWERED;
    }
    if (entry !== undefined) this.#remove(entry);
    this.stats.misses++;
    const fresh: Entry = { key, reply: undefined, waiters: undefined, at: now };
    this.#entries.set(key, fresh);
    this.#order.push(fresh);
    this.stats.entries++;
    this.#evict(now);
    return CacheLookup.RUN;
  }

  /**
   * The call's reply was sent: keep it (the message without its record mark)
   * and send it to the duplicates that waited.
   */
  complete(key: string, reply: Uint8Array): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.reply !== undefined) return;
    entry.reply = reply;
    this.stats.bytes += reply.length;
    const waiters = entry.waiters;
    entry.waiters = undefined;
    if (waiters !== undefined) for (const conn of waiters) sendReply(conn, reply);
    this.#evict(this.#now());
  }

  /** The call ended without a reply (the handler sent none): forget it, so a retransmission runs it. */
  abandon(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.reply === undefined) this.#remove(entry);
  }

  /**
   * Drops what is over the bounds or too old, oldest first. A call still
   * running is not dropped for room: it goes to the back of the line.
   */
  #evict(now: number): void {
    const order = this.#order;
    let requeued = 0;
    while (this.#head < order.length) {
      const entry = order[this.#head];
      if (this.#entries.get(entry.key) !== entry) {
        this.#head++; // removed or replaced meanwhile
        continue;
      }
      const old = now - entry.at > this.#maxAgeMs;
      const over = this.stats.entries > this.#maxEntries || this.stats.bytes > this.#maxBytes;
      if (!old && !over) break;
      this.#head++;
      if (entry.reply === undefined && !old) {
        order.push(entry);
        // Every entry left may be running: stop rather than go round.
        if (++requeued > this.stats.entries) break;
        continue;
      }
      this.#remove(entry);
      this.stats.evictions++;
    }
    if (this.#head > 1024 && this.#head * 2 > order.length) {
      this.#order = order.slice(this.#head);
      this.#head = 0;
    }
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.stats.entries--;
    if (entry.reply !== undefined) this.stats.bytes -= entry.reply.length;
  }
}

/** Sends a cached reply: a copy with room for the record mark in front when the connection is a stream. */
export function sendReply(conn: ServerConnection, reply: Uint8Array): void {
  const headroom = conn.headroomBytes;
  const message = new Uint8Array(headroom + reply.length);
  message.set(reply, headroom);
  conn.send([message], message.length);
}

/** FNV-1a, 32 bits: a cheap checksum of a call's argument bytes (not a defence against an attacker). */
export function checksum(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
