/**
 * Exactly-once over the SQLite completion store, in one process: a call
 * whose reply was lost is answered from its record (no second run), a late
 * duplicate below what the client acknowledged is dropped, ctx.commit makes
 * the handler's writes and the record commit together or not at all,
 * acknowledgements and leases collect records, and a client whose lease ran
 * out with unacknowledged records gets SESSION_EXPIRED instead of a second run.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  authNone,
  type CallContext,
  createClient,
  createServer,
  createSession,
  createSqliteCompletionStore,
  type InetAddress,
  isRpcError,
  type ProgramVersionDescriptor,
  type SessionIdentity,
  type SessionOutgoingCall,
  type SqliteCompletionStore,
  type SqliteDatabase,
  sessionAuth,
  silentLogger,
  writeCallHeader,
  XdrWriter,
  xdrInt,
  xdrUnsignedInt,
} from "once-rpc";

/** LEDGER v1 POST(n): appends n to the ledger table; answers how many rows the ledger has. Not idempotent. */
const LedgerV1 = {
  programName: "LEDGER_PROG",
  program: 0x2000_0e31,
  versionName: "LEDGER_V1",
  version: 1,
  procedures: {
    post: { name: "LEDGER_POST", number: 1, args: xdrInt, result: xdrUnsignedInt, semantics: "exactly-once" },
  },
} as const satisfies ProgramVersionDescriptor;

const dir = mkdtempSync(join(tmpdir(), "once-exactly-once-"));
const cleanup: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function storePath(): string {
  return join(dir, `store-${++files}.db`);
}

interface Ledger {
  readonly address: InetAddress;
  readonly store: SqliteCompletionStore;
  /** How many times the handler ran. */
  runs(): number;
  /** Rows in the ledger table. */
  rows(): number;
}

/**
 * A LEDGER server over UDP with its store. `post` writes through ctx.commit
 * (or, with `commit: false`, writes nothing and returns); a negative n throws
 * inside the commit after writing, the first `failFirst` runs throw too.
 */
async function ledger(
  options: { commit?: boolean; failFirst?: number; delayMs?: number; store?: SqliteCompletionStore } = {},
): Promise<Ledger> {
  const store = options.store ?? createSqliteCompletionStore({ path: storePath() });
  const db = store.database as SqliteDatabase;
  db.exec("CREATE TABLE IF NOT EXISTS ledger (n INTEGER NOT NULL)");
  const insert = db.prepare("INSERT INTO ledger (n) VALUES (?)");
  const count = db.prepare("SELECT count(*) FROM ledger").pluck();
  let runs = 0;
  let failures = options.failFirst ?? 0;
  const server = createServer({ completionStore: store, logger: silentLogger }).addProgram(LedgerV1, {
    post: async (n: number, ctx: CallContext) => {
      runs++;
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.commit === false) return runs;
      return ctx.commit(() => {
        insert.run(n);
        if (n < 0 || failures-- > 0) throw new Error("the handler failed after its write");
        return count.get() as number;
      });
    },
  });
  const address = (await server.listen("udp://127.0.0.1:0")) as InetAddress;
  cleanup.push(async () => {
    await server.destroy();
    store.close();
  });
  return { address, store, runs: () => runs, rows: () => count.get() as number };
}

/** A session call written by hand, to control its identity exactly. */
function sessionCall(
  identity: SessionIdentity,
  fields: { xid: number; sequence: bigint; firstIncomplete: bigint; n: number },
): Buffer {
  const w = new XdrWriter();
  const call: SessionOutgoingCall = {
    xid: fields.xid,
    program: LedgerV1.program,
    version: 1,
    procedure: 1,
    sequence: fields.sequence,
    firstIncomplete: fields.firstIncomplete,
    timeoutMs: 10_000,
    semantics: "exactly-once",
  };
  writeCallHeader(w, call, sessionAuth(identity, authNone));
  w.writeInt(fields.n);
  return Buffer.from(w.bytes());
}

/** A UDP socket that sends a message and waits up to `waitMs` for the reply with the same xid. */
async function rawPeer(address: InetAddress): Promise<{
  exchange(message: Buffer, waitMs?: number): Promise<Buffer | undefined>;
}> {
  const socket: Socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  cleanup.push(() => socket.close());
  return {
    exchange(message, waitMs = 1_000) {
      return new Promise((resolve) => {
        const xid = message.readUInt32BE(0);
        const timer = setTimeout(() => {
          socket.off("message", onMessage);
          resolve(undefined);
        }, waitMs);
        const onMessage = (reply: Buffer) => {
          if (reply.readUInt32BE(0) !== xid) return;
          clearTimeout(timer);
          socket.off("message", onMessage);
          resolve(reply);
        };
        socket.on("message", onMessage);
        socket.send(message, address.port, address.host);
      });
    },
  };
}

/** The uint result at the end of an accepted SUCCESS reply with a session verifier. */
function resultOf(reply: Buffer): number {
  assert.equal(reply.readUInt32BE(8), 0, "MSG_ACCEPTED");
  return reply.readUInt32BE(reply.length - 4);
}

describe("exactly-once: the completion record answers calls sent again", () => {
  test("a call whose reply was lost is answered from its record, under the new xid; the handler does not run again", async () => {
    const l = await ledger();
    const peer = await rawPeer(l.address);
    const identity = createSession().identity;
    const first = await peer.exchange(
      sessionCall(identity, { xid: 1, sequence: 1n, firstIncomplete: 1n, n: 10 }),
    );
    assert.ok(first !== undefined);
    assert.equal(resultOf(first), 1);
    // The client never saw that reply: it sends the call again, as a restarted client would, with a new xid.
    const again = await peer.exchange(
      sessionCall(identity, { xid: 2, sequence: 1n, firstIncomplete: 1n, n: 10 }),
    );
    assert.ok(again !== undefined);
    assert.equal(again.readUInt32BE(0), 2, "the new xid");
    assert.deepEqual(again.subarray(4), first.subarray(4), "the recorded reply, byte for byte after the xid");
    assert.equal(l.runs(), 1);
    assert.equal(l.rows(), 1);
    // The next sequence is a new call and runs.
    const next = await peer.exchange(
      sessionCall(identity, { xid: 3, sequence: 2n, firstIncomplete: 2n, n: 5 }),
    );
    assert.ok(next !== undefined);
    assert.equal(resultOf(next), 2);
    assert.equal(l.runs(), 2);
  });

  test("a late duplicate of a call the client acknowledged is dropped, not run", async () => {
    const l = await ledger();
    const peer = await rawPeer(l.address);
    const identity = createSession().identity;
    await peer.exchange(sessionCall(identity, { xid: 1, sequence: 1n, firstIncomplete: 1n, n: 1 }));
    // Call 2 says every reply below 2 came: the record of 1 goes with call 2's record.
    await peer.exchange(sessionCall(identity, { xid: 2, sequence: 2n, firstIncomplete: 2n, n: 2 }));
    assert.equal(l.store.counts().records, 1);
    const late = await peer.exchange(
      sessionCall(identity, { xid: 9, sequence: 1n, firstIncomplete: 1n, n: 1 }),
      300,
    );
    assert.equal(late, undefined, "no reply: nobody waits for it");
    assert.equal(l.runs(), 2);
    assert.equal(l.rows(), 2);
  });

  test("retransmissions of a slow call while it runs are not run again (UDP client)", async () => {
    const l = await ledger({ delayMs: 300 });
    const client = createClient(LedgerV1, l.address, { retransmitInitialMs: 40, session: createSession() });
    cleanup.push(() => client.$close());
    assert.equal(await client.post(7), 1);
    assert.equal(l.runs(), 1);
    assert.equal(l.rows(), 1);
  });
});

describe("exactly-once: ctx.commit", () => {
  test("a handler that throws after its writes leaves neither its writes nor a record; a retransmission runs it", async () => {
    const l = await ledger({ failFirst: 1 });
    const peer = await rawPeer(l.address);
    const identity = createSession().identity;
    const message = sessionCall(identity, { xid: 1, sequence: 1n, firstIncomplete: 1n, n: 3 });
    const failed = await peer.exchange(message);
    assert.ok(failed !== undefined);
    assert.equal(failed.readUInt32BE(failed.length - 4), 5, "SYSTEM_ERR");
    assert.equal(l.rows(), 0, "the write rolled back");
    assert.equal(l.store.counts().records, 0, "no record");
    const retried = await peer.exchange(message);
    assert.ok(retried !== undefined);
    assert.equal(resultOf(retried), 1);
    assert.equal(l.runs(), 2);
    assert.equal(l.rows(), 1);
    assert.equal(l.store.counts().records, 1);
  });

  test("a handler without ctx.commit has its reply recorded when it returns", async () => {
    const l = await ledger({ commit: false });
    const peer = await rawPeer(l.address);
    const identity = createSession().identity;
    const a = await peer.exchange(sessionCall(identity, { xid: 1, sequence: 1n, firstIncomplete: 1n, n: 0 }));
    const b = await peer.exchange(sessionCall(identity, { xid: 2, sequence: 1n, firstIncomplete: 1n, n: 0 }));
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(resultOf(a), 1);
    assert.equal(resultOf(b), 1, "the recorded reply, not a second run");
    assert.equal(l.runs(), 1);
  });

  test("ctx.commit is refused for calls that are not exactly-once", async () => {
    const store = createSqliteCompletionStore({ path: storePath() });
    let seen: unknown;
    const server = createServer({ completionStore: store, logger: silentLogger }).addProgram(
      { ...LedgerV1, procedures: { post: { ...LedgerV1.procedures.post, semantics: "at-least-once" } } },
      {
        post: (_n, ctx) => {
          try {
            ctx.commit(() => 1);
          } catch (error) {
            seen = error;
          }
          return 0;
        },
      },
    );
    const address = await server.listen("udp://127.0.0.1:0");
    cleanup.push(async () => {
      await server.destroy();
      store.close();
    });
    const client = createClient(LedgerV1, address, { semantics: "at-least-once" });
    cleanup.push(() => client.$close());
    assert.equal(await client.post(1, { semantics: "at-least-once" }), 0);
    assert.match(String(seen), /ctx\.commit\(\) is for exactly-once calls/);
  });
});

describe("the SQLite completion store", () => {
  test("records, leases and acknowledgements survive closing and opening the file again", () => {
    const path = storePath();
    let now = 1_000;
    const a = createSqliteCompletionStore({ path, now: () => now, sweepIntervalMs: 0 });
    assert.equal(a.acknowledge("aa".repeat(16), 1n, 1n), "live");
    a.record("aa".repeat(16), 1n, new Uint8Array([0, 0, 0, 1, 2, 3, 4, 5]));
    assert.equal(a.acknowledge("aa".repeat(16), 2n, 2n), "live");
    a.record("aa".repeat(16), 2n, new Uint8Array([0, 0, 0, 2]));
    // The largest sequences keep their order (an unsigned hyper in SQLite's signed INTEGER).
    a.record("bb".repeat(16), 0xffff_ffff_ffff_ffffn, new Uint8Array([9, 9, 9, 9]));
    a.close();
    now = 2_000;
    const b = createSqliteCompletionStore({ path, now: () => now, sweepIntervalMs: 0 });
    cleanup.push(() => b.close());
    assert.equal(b.find("aa".repeat(16), 1n), undefined, "acknowledged: collected");
    assert.deepEqual([...(b.find("aa".repeat(16), 2n) ?? [])], [0, 0, 0, 2]);
    assert.deepEqual([...(b.find("bb".repeat(16), 0xffff_ffff_ffff_ffffn) ?? [])], [9, 9, 9, 9]);
    assert.equal(b.acknowledge("aa".repeat(16), 1n, 1n), "stale", "the acknowledgement was kept");
    assert.deepEqual(b.counts(), { records: 2, clients: 2, tombstones: 0 });
  });

  test("transactions: nested ones are savepoints, a promise is refused and rolled back", () => {
    const store = createSqliteCompletionStore({ path: storePath(), sweepIntervalMs: 0 });
    cleanup.push(() => store.close());
    const db = store.database as SqliteDatabase;
    db.exec("CREATE TABLE t (x INTEGER)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    const count = db.prepare("SELECT count(*) FROM t").pluck();
    store.transaction(() => {
      insert.run(1);
      assert.throws(() =>
        store.transaction(() => {
          insert.run(2);
          throw new Error("inner");
        }),
      );
      insert.run(3);
    });
    assert.equal(count.get(), 2, "the inner savepoint rolled back alone");
    assert.throws(
      () =>
        store.transaction(() => {
          insert.run(4);
          return Promise.resolve();
        }),
      /synchronous/,
    );
    assert.equal(count.get(), 2, "the work that returned a promise rolled back");
  });
});

describe("exactly-once: garbage collection", () => {
  test("acknowledgements collect records: after 30 calls one record is left (the last, not yet acknowledged)", async () => {
    const l = await ledger();
    const client = createClient(LedgerV1, l.address, { session: createSession() });
    cleanup.push(() => client.$close());
    for (let i = 1; i <= 30; i++) assert.equal(await client.post(i), i);
    assert.equal(l.store.counts().records, 1);
    assert.equal(l.runs(), 30);
  });

  test("leases: a client silent past its lease with unacknowledged records gets SESSION_EXPIRED; one without is forgotten and goes on", async () => {
    let now = Date.now();
    const store = createSqliteCompletionStore({
      path: storePath(),
      now: () => now,
      clientLeaseMs: 60_000,
      tombstoneMs: 3_600_000,
      sweepIntervalMs: 0,
    });
    const l = await ledger({ store });
    // Client A: its last call's record is unacknowledged (no later call said it had the reply).
    const a = createClient(LedgerV1, l.address, { session: createSession() });
    cleanup.push(() => a.$close());
    assert.equal(await a.post(1), 1);
    // Client B: its only call failed (nothing recorded), so it owes the server nothing.
    const peer = await rawPeer(l.address);
    const b = createSession().identity;
    const failed = await peer.exchange(sessionCall(b, { xid: 1, sequence: 1n, firstIncomplete: 1n, n: -1 }));
    assert.ok(failed !== undefined);
    // B's lease lives in memory until a record or a sweep writes it.
    assert.deepEqual(store.counts(), { records: 1, clients: 1, tombstones: 0 });

    now += 30_000;
    assert.equal(store.sweep().expired, 0, "within the lease");
    assert.deepEqual(store.counts(), { records: 1, clients: 2, tombstones: 0 });
    now += 31_000;
    const swept = store.sweep();
    assert.deepEqual(swept, { expired: 2, tombstoned: 1, records: 1, tombstonesDropped: 0 });
    assert.deepEqual(store.counts(), { records: 0, clients: 0, tombstones: 1 });

    // A's record of call 1 is gone: a retransmission of it could run twice, so its calls are refused.
    await assert.rejects(a.post(2), (e: unknown) => {
      assert.ok(isRpcError(e, "SESSION_EXPIRED"));
      assert.match(e.message, /begin a new session/);
      return true;
    });
    const again = await peer.exchange(sessionCall(b, { xid: 2, sequence: 1n, firstIncomplete: 1n, n: 4 }));
    assert.ok(again !== undefined);
    assert.equal(resultOf(again), 2, "B's call runs: nothing of it had been recorded");
    // A new session (a new client id) is served.
    const a2 = createClient(LedgerV1, l.address, { session: createSession() });
    cleanup.push(() => a2.$close());
    assert.equal(await a2.post(3), 3);
    // The tombstone itself goes after tombstoneMs.
    now += 3_600_001;
    assert.equal(store.sweep().tombstonesDropped, 1);
    assert.equal(l.runs(), 4);
  });
});
