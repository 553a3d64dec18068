/**
 * Durable completion records for exactly-once calls, after RIFL (Lee et
 * al., SOSP 2015): the reply of each call, keyed by its client and
 * sequence, written in the same transaction as the call's effects, so that
 * a call that is sent again — after a lost reply, a reconnection, a restart
 * of the client or of the server — gets its recorded reply instead of a
 * second run. The server layer needs only this interface; a store over
 * SQLite implements it (docs/semantics.md).
 */

/** What a completion store knows of a client's call: see CompletionStore.acknowledge. */
export type ClientStanding = "live" | "stale" | "expired";

/** Where exactly-once calls leave their completion records. */
export interface CompletionStore {
  /** The recorded reply of (client, sequence): the reply message from its xid on, or undefined. */
  find(clientKey: string, sequence: bigint): Uint8Array | undefined;
  /**
   * Runs `work` in one transaction with the writes it makes through
   * `database` and the completion record it writes with `record`: all of it
   * commits, or none. Synchronous: a transaction cannot wait for I/O.
   */
  transaction<T>(work: () => T): T;
  /** Writes the completion record of (client, sequence); inside `transaction` it commits with the rest. */
  record(clientKey: string, sequence: bigint, reply: Uint8Array): void;
  /**
   * The client has received every reply below `firstIncomplete`: their
   * records may go, and the client's lease is renewed. `sequence` is the
   * call that says so. The answer: "live"; "stale" when `sequence` is below
   * what the client acknowledged (a late duplicate of a call whose reply it
   * has: drop it); "expired" when the client's lease ran out and its
   * unacknowledged records were collected (refuse its calls: they might run
   * a second time).
   */
  acknowledge(clientKey: string, firstIncomplete: bigint, sequence?: bigint): ClientStanding;
  /** What a handler's `ctx.commit(fn)` passes to `fn`: the store's database, for the call's own writes. */
  readonly database: unknown;
  /** Closes the store. */
  close(): void;
}
