/**
 * The completion store alone, without RPC: what the dispatcher asks of a
 * `createSqliteCompletionStore` for each exactly-once call (acknowledge the
 * client's first incomplete sequence, look for a record, write the record of
 * a 28-byte reply in a transaction of its own), timed side by side for
 * `synchronous` FULL and NORMAL, beside what bounds them:
 *
 * - the disk alone: a 4 KiB append and `fdatasync`, what FULL pays at every
 *   commit (SQLite syncs the write-ahead log);
 * - the SQL alone: the same store in memory (":memory:", no file, no sync);
 * - 64 records per transaction (per record): what a server that committed
 *   the records of the calls finished in one tick together (group commit)
 *   would pay per call.
 *
 * Synchronous work, so it is timed with measure.ts's round-robin groups.
 */
import { closeSync, fdatasyncSync, ftruncateSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createSqliteCompletionStore, type SqliteCompletionStore } from "once-rpc/server";
import { type Measurement, type MeasureOptions, measureGroup } from "./measure.js";

/** The row labels, in table order. */
export const STORE_ROWS = Object.freeze({
  disk: "disk alone: 4 KiB append + fdatasync",
  full: 'store, synchronous "full" (a commit per call)',
  normal: 'store, synchronous "normal" (a commit per call)',
  memory: 'store in memory (":memory:", the SQL alone)',
  fullGroup: 'store, "full", 64 calls per commit (per call)',
  normalGroup: 'store, "normal", 64 calls per commit (per call)',
});

/** One row: the median time per record and its rate. */
export interface StoreMicroRow {
  readonly name: string;
  readonly usPerRecord: number;
  readonly recordsPerSec: number;
}

/** A 28-byte accepted reply with an int result (RFC 5531 §9: xid, REPLY, MSG_ACCEPTED, AUTH_NONE, SUCCESS). */
const REPLY = new Uint8Array(28);
const GROUP = 64;

/** Times the rows with files in `dir` (its file system is what FULL waits for). */
export function measureStore(dir: string, options: MeasureOptions): StoreMicroRow[] {
  const stores: SqliteCompletionStore[] = [];
  const files: string[] = [];
  const open = (name: string, synchronous: "full" | "normal" | "memory") => {
    const path = synchronous === "memory" ? ":memory:" : join(dir, `micro-${name}.db`);
    if (synchronous !== "memory") files.push(path, `${path}-wal`, `${path}-shm`);
    const store = createSqliteCompletionStore({
      path,
      synchronous: synchronous === "memory" ? "full" : synchronous,
      sweepIntervalMs: 0,
    });
    stores.push(store);
    return store;
  };
  // As the dispatcher does per exactly-once call: acknowledge, find, record (its own transaction).
  const perCall = (store: SqliteCompletionStore, client: string) => {
    let sequence = 1n;
    return () => {
      store.acknowledge(client, sequence, sequence);
      store.find(client, sequence);
      store.record(client, sequence, REPLY);
      return sequence++;
    };
  };
  const grouped = (store: SqliteCompletionStore, client: string) => {
    const one = perCall(store, client);
    return () =>
      store.transaction(() => {
        let last = 0n;
        for (let i = 0; i < GROUP; i++) last = one();
        return last;
      });
  };
  const diskPath = join(dir, "micro-disk.bin");
  files.push(diskPath);
  const fd = openSync(diskPath, "w");
  const page = Buffer.alloc(4096, 0x5a);
  let appended = 0;
  try {
    const measured: Measurement[] = measureGroup(
      [
        {
          name: STORE_ROWS.disk,
          run: () => {
            // An append (the size changes, as the log's does); emptied every 4 MiB so the file stays small.
            const at = (appended++ % 1024) * page.length;
            if (at === 0) ftruncateSync(fd, 0);
            writeSync(fd, page, 0, page.length, at);
            fdatasyncSync(fd);
            return appended;
          },
        },
        { name: STORE_ROWS.full, run: perCall(open("full", "full"), "bench-full") },
        { name: STORE_ROWS.normal, run: perCall(open("normal", "normal"), "bench-normal") },
        { name: STORE_ROWS.memory, run: perCall(open("memory", "memory"), "bench-memory") },
        { name: STORE_ROWS.fullGroup, run: grouped(open("full-group", "full"), "bench-full-group") },
        { name: STORE_ROWS.normalGroup, run: grouped(open("normal-group", "normal"), "bench-normal-group") },
      ],
      options,
    );
    return measured.map((m) => {
      const per = m.name === STORE_ROWS.fullGroup || m.name === STORE_ROWS.normalGroup ? GROUP : 1;
      const usPerRecord = m.nsPerOp / per / 1e3;
      return { name: m.name, usPerRecord, recordsPerSec: 1e6 / usPerRecord };
    });
  } finally {
    closeSync(fd);
    for (const store of stores) store.close();
    for (const file of files) rmSync(file, { force: true });
  }
}
