/**
 * Durable completion records over SQLite (better-sqlite3), the embedded
 * CompletionStore of exactly-once (docs/semantics.md#exactly-once). One
 * file holds the records, the clients' leases and acknowledgements, and the
 * handlers' own tables, so that `ctx.commit((db) => …)` commits a call's
 * effects and its record in one SQLite transaction.
 *
 * better-sqlite3 is an optional peer dependency: it is loaded when a store
 * is created, never when once-rpc is imported, so servers that do not use
 * exactly-once need no native module.
 */
import { createRequire } from "node:module";
import type { ClientStanding, CompletionStore } from "./completion-store.js";

/** What the store uses of a better-sqlite3 statement. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  pluck(toggle?: boolean): this;
  safeIntegers(toggle?: boolean): this;
}

/**
 * What the store uses of a better-sqlite3 Database, and what a handler gets
 * in `ctx.commit((db) => …)`: prepare its statements once, with
 * `store.database.prepare(…)`, and run them inside commit.
 */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): F;
  close(): unknown;
  readonly inTransaction: boolean;
  readonly open: boolean;
}

/** better-sqlite3's default export: `new Database(path)`. */
export type SqliteDatabaseConstructor = new (path: string, options?: { timeout?: number }) => SqliteDatabase;

/** Options of createSqliteCompletionStore. Defaults in {@link SQLITE_COMPLETION_STORE_DEFAULTS}. */
export interface SqliteCompletionStoreOptions {
  /** The database file (created when missing). ":memory:" keeps nothing across restarts: tests only. */
  readonly path: string;
  /**
   * When a commit is on disk. "full" (the default): fsync of the write-ahead
   * log at every commit, so a committed record survives a power loss or an
   * OS crash. "normal": the log is fsynced only at checkpoints, so a commit
   * survives the server process dying (kill -9) but the last commits before
   * a power loss may be lost — and with them the knowledge that those calls
   * ran, so a retransmission would run them again.
   */
  readonly synchronous?: "full" | "normal";
  /**
   * A client not heard from for this long has its records collected; if any
   * were not yet acknowledged, its exactly-once calls are refused from then
   * on (SESSION_EXPIRED) instead of running again. Default 24 h.
   */
  readonly clientLeaseMs?: number;
  /** How often expired leases are swept (an unref'ed timer); 0: only by `sweep()`. Default 10 min. */
  readonly sweepIntervalMs?: number;
  /** How long the mark of an expired client is kept after its records went. Default 30 days. */
  readonly tombstoneMs?: number;
  /** How long a statement waits for another connection's lock on the file. Default 5 s. */
  readonly busyTimeoutMs?: number;
  /** better-sqlite3's Database class, when it cannot be found from once-rpc's own folder (pnpm, bundlers). */
  readonly driver?: SqliteDatabaseConstructor;
  /** The clock, in ms since the epoch; for tests. Default Date.now. */
  readonly now?: () => number;
}

/** The defaults of SqliteCompletionStoreOptions. */
export const SQLITE_COMPLETION_STORE_DEFAULTS = Object.freeze({
  synchronous: "full" as const,
  clientLeaseMs: 24 * 3_600_000,
  sweepIntervalMs: 600_000,
  tombstoneMs: 30 * 24 * 3_600_000,
  busyTimeoutMs: 5_000,
});

/** What a sweep did. */
export interface SweepResult {
  /** Clients whose lease ran out. */
  readonly expired: number;
  /** Of those, the ones that had records not yet acknowledged: marked, their calls refused from now on. */
  readonly tombstoned: number;
  /** Records deleted. */
  readonly records: number;
  /** Old tombstones dropped. */
  readonly tombstonesDropped: number;
}

/** What the store holds now. */
export interface SqliteCompletionStoreCounts {
  readonly records: number;
  /** Clients with a live lease. */
  readonly clients: number;
  /** Clients marked expired. */
  readonly tombstones: number;
}

/** The package the store loads, and the version range we test with. */
const DRIVER = "better-sqlite3";
const DRIVER_RANGE = "12.x";
const SCHEMA_VERSION = 1;

/** A client as the store knows it between writes. */
interface ClientState {
  lastSeen: number;
  /** The client has had every reply below this (its first_incomplete): their records may go. */
  acknowledged: bigint;
  /** What the file says: records below this are deleted there already. */
  storedAcknowledged: bigint;
  storedLastSeen: number;
  expired: boolean;
}

/**
 * A sequence (an XDR unsigned hyper) as SQLite's signed 64-bit INTEGER, in
 * the same order: flipping the top bit maps 0..2^64-1 onto -2^63..2^63-1.
 */
function sqlSequence(sequence: bigint): bigint {
  return BigInt.asIntN(64, sequence ^ 0x8000_0000_0000_0000n);
}

/** Loads better-sqlite3 from once-rpc's own folder, or says clearly how to get it. */
function loadDriver(): SqliteDatabaseConstructor {
  try {
    return createRequire(import.meta.url)(DRIVER) as SqliteDatabaseConstructor;
  } catch (error) {
    throw new Error(
      `createSqliteCompletionStore needs the package ${DRIVER} (${DRIVER_RANGE}), an optional peer dependency of once-rpc: npm install ${DRIVER}@12 (or pass its Database class as the driver option)`,
      { cause: error },
    );
  }
}

/**
 * A CompletionStore in one SQLite file: WAL mode, `synchronous` FULL by
 * default; tables once_records (client, sequence, reply, at) and
 * once_clients (client, last_seen, acknowledged_below, expired_at), created
 * when missing. Handlers keep their own tables in the same file
 * (`store.database`).
 */
export class SqliteCompletionStore implements CompletionStore {
  /** The better-sqlite3 Database: what `ctx.commit((db) => …)` passes. */
  readonly database: SqliteDatabase;
  readonly #now: () => number;
  readonly #leaseMs: number;
  readonly #tombstoneMs: number;
  readonly #clients = new Map<string, ClientState>();
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  readonly #run: (work: () => unknown) => unknown;
  readonly #find: SqliteStatement;
  readonly #insert: SqliteStatement;
  readonly #loadClient: SqliteStatement;
  readonly #upsertClient: SqliteStatement;
  readonly #deleteBelow: SqliteStatement;
  readonly #staleClients: SqliteStatement;
  readonly #hasUnacknowledged: SqliteStatement;
  readonly #deleteClientRecords: SqliteStatement;
  readonly #tombstone: SqliteStatement;
  readonly #deleteClient: SqliteStatement;
  readonly #dropTombstones: SqliteStatement;
  readonly #counts: SqliteStatement;

  constructor(options: SqliteCompletionStoreOptions) {
    const d = SQLITE_COMPLETION_STORE_DEFAULTS;
    const synchronous = options.synchronous ?? d.synchronous;
    if (synchronous !== "full" && synchronous !== "normal") {
      throw new TypeError(
        `createSqliteCompletionStore: synchronous is "full" or "normal", not ${synchronous}`,
      );
    }
    this.#now = options.now ?? Date.now;
    this.#leaseMs = options.clientLeaseMs ?? d.clientLeaseMs;
    this.#tombstoneMs = options.tombstoneMs ?? d.tombstoneMs;
    const Driver = options.driver ?? loadDriver();
    const db = new Driver(options.path, { timeout: options.busyTimeoutMs ?? d.busyTimeoutMs });
    this.database = db;
    try {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version !== 0 && version !== SCHEMA_VERSION) {
        throw new Error(
          `${options.path}: completion records of schema ${version}; this once-rpc reads schema ${SCHEMA_VERSION}`,
        );
      }
      db.exec(`
        CREATE TABLE IF NOT EXISTS once_records (
          client TEXT NOT NULL,
          sequence INTEGER NOT NULL,
          reply BLOB NOT NULL,
          at INTEGER NOT NULL,
          PRIMARY KEY (client, sequence)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS once_clients (
          client TEXT PRIMARY KEY,
          last_seen INTEGER NOT NULL,
          acknowledged_below INTEGER NOT NULL,
          expired_at INTEGER
        ) WITHOUT ROWID;
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
      const runner = db.transaction((work: () => unknown) => {
        const result = work();
        if (isThenable(result)) {
          // better-sqlite3 would commit at the first await, before the rest ran: refuse, and roll back.
          throw new TypeError(
            "a completion store transaction is synchronous: its function returned a promise",
          );
        }
        return result;
      });
      this.#run = runner;
      this.#find = db.prepare("SELECT reply FROM once_records WHERE client = ? AND sequence = ?").pluck();
      this.#insert = db.prepare("INSERT INTO once_records (client, sequence, reply, at) VALUES (?, ?, ?, ?)");
      this.#loadClient = db
        .prepare(
          "SELECT last_seen AS lastSeen, acknowledged_below AS acknowledged, expired_at AS expiredAt FROM once_clients WHERE client = ?",
        )
        .safeIntegers();
      this.#upsertClient = db.prepare(`
        INSERT INTO once_clients (client, last_seen, acknowledged_below, expired_at) VALUES (?, ?, ?, NULL)
        ON CONFLICT (client) DO UPDATE SET
          last_seen = max(last_seen, excluded.last_seen),
          acknowledged_below = max(acknowledged_below, excluded.acknowledged_below)`);
      this.#deleteBelow = db.prepare("DELETE FROM once_records WHERE client = ? AND sequence < ?");
      this.#staleClients = db
        .prepare(
          "SELECT client, acknowledged_below AS acknowledged FROM once_clients WHERE expired_at IS NULL AND last_seen < ?",
        )
        .safeIntegers();
      this.#hasUnacknowledged = db
        .prepare("SELECT EXISTS (SELECT 1 FROM once_records WHERE client = ? AND sequence >= ?)")
        .pluck();
      this.#deleteClientRecords = db.prepare("DELETE FROM once_records WHERE client = ?");
      this.#tombstone = db.prepare("UPDATE once_clients SET expired_at = ? WHERE client = ?");
      this.#deleteClient = db.prepare("DELETE FROM once_clients WHERE client = ?");
      this.#dropTombstones = db.prepare(
        "DELETE FROM once_clients WHERE expired_at IS NOT NULL AND expired_at < ?",
      );
      this.#counts = db.prepare(`SELECT
        (SELECT count(*) FROM once_records) AS records,
        (SELECT count(*) FROM once_clients WHERE expired_at IS NULL) AS clients,
        (SELECT count(*) FROM once_clients WHERE expired_at IS NOT NULL) AS tombstones`);
    } catch (error) {
      db.close();
      throw error;
    }
    const every = options.sweepIntervalMs ?? d.sweepIntervalMs;
    if (every > 0) {
      // Coarse and unref'ed: leases are hours long, and the timer must not keep a process alive.
      this.#timer = setInterval(() => this.sweep(), Math.min(every, 0x7fff_ffff));
      this.#timer.unref();
    }
  }

  /** The recorded reply of (client, sequence), or undefined. */
  find(clientKey: string, sequence: bigint): Uint8Array | undefined {
    const reply = this.#find.get(clientKey, sqlSequence(sequence)) as Buffer | undefined;
    return reply === undefined ? undefined : new Uint8Array(reply.buffer, reply.byteOffset, reply.length);
  }

  /**
   * Runs `work` in one SQLite transaction (BEGIN … COMMIT, or ROLLBACK when
   * it throws). Nested use is a savepoint inside the outer transaction.
   * `work` must be synchronous: a promise is refused and rolled back.
   */
  transaction<T>(work: () => T): T {
    return this.#run(work) as T;
  }

  /**
   * Writes the record of (client, sequence), with the client's lease and
   * acknowledgement and the deletion of the records it acknowledged, in the
   * caller's transaction or one of its own. A second record of the same call
   * fails (a primary key): the call ran twice, and its transaction must not
   * commit.
   */
  record(clientKey: string, sequence: bigint, reply: Uint8Array): void {
    if (this.database.inTransaction) this.#write(clientKey, sequence, reply);
    else this.#run(() => this.#write(clientKey, sequence, reply));
  }

  #write(clientKey: string, sequence: bigint, reply: Uint8Array): void {
    const now = this.#now();
    const state = this.#state(clientKey, now);
    this.#store(clientKey, state);
    this.#insert.run(clientKey, sqlSequence(sequence), reply, now);
  }

  /** Writes what is known of a client beyond the file: its lease, and its acknowledgement with the deletions. */
  #store(clientKey: string, state: ClientState): void {
    this.#upsertClient.run(clientKey, state.lastSeen, sqlSequence(state.acknowledged));
    if (state.acknowledged > state.storedAcknowledged) {
      this.#deleteBelow.run(clientKey, sqlSequence(state.acknowledged));
    }
    // Only once the transaction commits is this true; a rollback leaves it a little optimistic,
    // which costs at most a redundant write later (the upsert keeps the maximum).
    state.storedAcknowledged = state.acknowledged;
    state.storedLastSeen = state.lastSeen;
  }

  /**
   * The client has every reply below `firstIncomplete`; `sequence` is the
   * call that says so. Renews the client's lease (in memory: written with
   * its next record, or by the next sweep); the records it acknowledged are
   * deleted with its next record. Answers "expired" for a client whose lease
   * ran out with records it had not acknowledged, and "stale" for a call
   * below what the client acknowledged.
   */
  acknowledge(clientKey: string, firstIncomplete: bigint, sequence?: bigint): ClientStanding {
    const now = this.#now();
    const state = this.#state(clientKey, now);
    if (state.expired) return "expired";
    state.lastSeen = now;
    if (firstIncomplete > state.acknowledged) state.acknowledged = firstIncomplete;
    if (sequence !== undefined && sequence < state.acknowledged) return "stale";
    return "live";
  }

  /** The client's state, from memory or from the file. */
  #state(clientKey: string, now: number): ClientState {
    let state = this.#clients.get(clientKey);
    if (state !== undefined) return state;
    const row = this.#loadClient.get(clientKey) as
      | { lastSeen: bigint; acknowledged: bigint; expiredAt: bigint | null }
      | undefined;
    if (row === undefined) {
      state = { lastSeen: now, acknowledged: 0n, storedAcknowledged: 0n, storedLastSeen: 0, expired: false };
    } else {
      const acknowledged = BigInt.asUintN(64, row.acknowledged ^ 0x8000_0000_0000_0000n);
      state = {
        lastSeen: Number(row.lastSeen),
        acknowledged,
        storedAcknowledged: acknowledged,
        storedLastSeen: Number(row.lastSeen),
        expired: row.expiredAt !== null,
      };
    }
    // Expired clients are not kept in memory: the file remembers them, and they are rare.
    if (!state.expired) this.#clients.set(clientKey, state);
    return state;
  }

  /**
   * Writes the leases renewed in memory, then collects the clients whose
   * lease ran out: their records go, and a client that had records it had
   * not acknowledged is marked expired (its late calls are refused, since
   * the records that would have answered them are gone). A client with no
   * such records is simply forgotten: none of its calls ran unacknowledged,
   * so a late one may run. Runs on the store's timer; tests call it.
   */
  sweep(): SweepResult {
    const now = this.#now();
    let expired = 0;
    let tombstoned = 0;
    let records = 0;
    let tombstonesDropped = 0;
    this.#run(() => {
      for (const [clientKey, state] of this.#clients) {
        if (state.lastSeen !== state.storedLastSeen || state.acknowledged !== state.storedAcknowledged) {
          this.#store(clientKey, state);
        }
      }
      const stale = this.#staleClients.all(now - this.#leaseMs) as Array<{
        client: string;
        acknowledged: bigint;
      }>;
      for (const { client, acknowledged } of stale) {
        expired++;
        const owed = this.#hasUnacknowledged.get(client, acknowledged) as number;
        records += this.#deleteClientRecords.run(client).changes;
        if (owed) {
          this.#tombstone.run(now, client);
          tombstoned++;
        } else {
          this.#deleteClient.run(client);
        }
        this.#clients.delete(client);
      }
      tombstonesDropped = this.#dropTombstones.run(now - this.#tombstoneMs).changes;
    });
    return { expired, tombstoned, records, tombstonesDropped };
  }

  /** How many records, live clients and tombstones the file holds. */
  counts(): SqliteCompletionStoreCounts {
    return this.#counts.get() as SqliteCompletionStoreCounts;
  }

  /** Writes the leases renewed in memory, stops the sweep timer and closes the database. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (!this.database.open) return;
    try {
      this.sweep();
    } finally {
      this.database.close();
    }
  }
}

/**
 * A CompletionStore in the SQLite file at `options.path`, for
 * `createServer({ completionStore })`. Loads better-sqlite3 (an optional
 * peer dependency of once-rpc; an Error names it when it is missing).
 */
export function createSqliteCompletionStore(options: SqliteCompletionStoreOptions): SqliteCompletionStore {
  return new SqliteCompletionStore(options);
}

function isThenable(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}
