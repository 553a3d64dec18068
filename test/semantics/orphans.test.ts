/**
 * Deadlines, cancellation and orphans in one process (docs/semantics.md):
 * a handler's signal fires at its session call's deadline; a client that
 * extends the deadline keeps it alive; a client that aborts its call aborts
 * the handler (ONCE_CANCEL); a restarted session (a higher epoch) kills its
 * older computations at once, or gently after a grace unless claimed;
 * extermination kills what a log found unfinished; a handler's outgoing
 * calls inherit its deadline and cancellation. The crash cases, with child
 * processes killed by SIGKILL, are in orphans-children.test.ts.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  authNone,
  type CallContext,
  type ClientSession,
  createClient,
  createDeadline,
  createServer,
  createSession,
  exterminate,
  isRpcError,
  OnceControlProgV1,
  type ProgramVersionDescriptor,
  RpcError,
  type Server,
  type SessionOutgoingCall,
  sessionAuth,
  silentLogger,
  writeCallHeader,
  XdrWriter,
  xdrInt,
} from "once-rpc";
import { DeadlineQueue, type Expiring } from "../../src/server/deadlines.js";

/** SLOW v1: WAIT(ms) waits ms or until its signal fires; answers ms. */
const SlowV1 = {
  programName: "SLOW_PROG",
  program: 0x2000_0e21,
  versionName: "SLOW_V1",
  version: 1,
  procedures: { wait: { name: "SLOW_WAIT", number: 1, args: xdrInt, result: xdrInt } },
} as const satisfies ProgramVersionDescriptor;

/** What a handler saw. */
interface Run {
  readonly startedAt: number;
  readonly context: CallContext;
  readonly deadlineAtStart: number | undefined;
  abortedAt?: number;
  reason?: unknown;
  finishedAt?: number;
  /** Settles when the handler returns or is aborted. */
  readonly ended: Promise<void>;
}

function sleepOrAbort(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A server of SLOW whose handler records each run; `onCall` may make outgoing calls. */
function slowServer(onCall?: (ms: number, ctx: CallContext) => Promise<unknown>) {
  const runs: Run[] = [];
  const server = createServer({ logger: silentLogger }).addProgram(SlowV1, {
    wait: async (ms, ctx) => {
      let end: () => void = () => {};
      const run: Run = {
        startedAt: Date.now(),
        context: ctx,
        deadlineAtStart: ctx.deadline,
        ended: new Promise<void>((r) => (end = r)),
      };
      runs.push(run);
      const signal = ctx.signal;
      const outgoing = onCall?.(ms, ctx);
      const done = await sleepOrAbort(ms, signal);
      if (!done) {
        run.abortedAt = Date.now();
        run.reason = signal.reason;
      }
      await outgoing?.catch(() => {});
      run.finishedAt = Date.now();
      end();
      if (!done) throw signal.reason;
      return ms;
    },
  });
  return { server, runs };
}

const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function started(runs: Run[], n: number): Promise<void> {
  for (let i = 0; i < 500 && runs.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(runs.length >= n, `${n} handler runs started (saw ${runs.length})`);
}

async function listen(server: Server, protocol = "tcp"): Promise<string> {
  cleanup.push(() => server.destroy());
  const a = await server.listen(`${protocol}://127.0.0.1:0`);
  return `${protocol}://127.0.0.1:${(a as { port: number }).port}`;
}

/**
 * A client whose calls go in the session flavor; `maybe` by default, sent
 * once, so that no retransmission runs a handler twice and spoils a count.
 */
function sessionClient(
  address: string,
  session: ClientSession | true = true,
  semantics: "maybe" | "at-least-once" = "maybe",
) {
  const client = createClient(SlowV1, address, { session, semantics });
  cleanup.push(() => client.$destroy());
  return client;
}

function code(reason: unknown): string | undefined {
  return reason instanceof RpcError ? reason.code : undefined;
}

describe("the deadline queue", () => {
  test("expires items in order of their time, moved and cancelled ones as told", async () => {
    const queue = new DeadlineQueue({ slackMs: 0 });
    const fired: string[] = [];
    const item = (name: string, inMs: number): Expiring => ({
      expiresAt: Date.now() + inMs,
      heapIndex: -1,
      expire: () => fired.push(name),
    });
    const items = [item("c", 60), item("a", 20), item("x", 30), item("b", 40), item("late", 5_000)];
    for (const i of items) queue.schedule(i);
    queue.cancel(items[2]); // x never fires
    items[4].expiresAt = Date.now() + 80; // late moved earlier
    queue.schedule(items[4]);
    assert.equal(queue.size, 4);
    for (let i = 0; i < 100 && fired.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(fired, ["a", "b", "c", "late"]);
    assert.equal(queue.size, 0);
    queue.stop();
  });

  test("a random schedule of 2,000 items keeps the heap in order", () => {
    const queue = new DeadlineQueue();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fff_ffff;
      return seed / 0x7fff_ffff;
    };
    const live = new Set<Expiring>();
    const base = Date.now() + 1_000_000;
    for (let n = 0; n < 2_000; n++) {
      const r = random();
      if (r < 0.6 || live.size === 0) {
        const i: Expiring = { expiresAt: base + Math.floor(random() * 10_000), heapIndex: -1, expire() {} };
        queue.schedule(i);
        live.add(i);
      } else {
        const victim = [...live][Math.floor(random() * live.size)];
        if (r < 0.8) {
          queue.cancel(victim);
          live.delete(victim);
          assert.equal(victim.heapIndex, -1);
        } else {
          victim.expiresAt = base + Math.floor(random() * 10_000);
          queue.schedule(victim);
        }
      }
    }
    assert.equal(queue.size, live.size);
    // Drain by cancelling the minimum each time: the minima come out in order.
    const heap = (queue as unknown as { size: number }).size;
    const order = [...live].sort((a, b) => a.expiresAt - b.expiresAt).map((i) => i.expiresAt);
    const drained: number[] = [];
    for (let k = 0; k < heap; k++) {
      const min = [...live].find((i) => i.heapIndex === 0) as Expiring;
      drained.push(min.expiresAt);
      queue.cancel(min);
      live.delete(min);
    }
    assert.deepEqual(drained, order);
    queue.stop();
  });
});

describe("deadlines", () => {
  test("a handler's signal fires at its session call's deadline, with TIMEOUT, and ctx.deadline says when", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server);
    const client = sessionClient(address);
    const before = Date.now();
    await assert.rejects(client.wait(5_000, { timeoutMs: 300 }), (e: unknown) => isRpcError(e, "TIMEOUT"));
    const run = runs[0];
    await run.ended;
    assert.equal(code(run.reason), "TIMEOUT", String(run.reason));
    const deadline = run.deadlineAtStart as number;
    assert.ok(deadline >= before + 200 && deadline <= before + 300 + 50, `deadline ${deadline - before} ms`);
    const firedAfter = (run.abortedAt as number) - before;
    assert.ok(firedAfter >= 250 && firedAfter < 1_500, `the signal fired ${firedAfter} ms after the call`);
  });

  test("a plain call has no deadline and its signal fires only with its connection", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server);
    const client = createClient(SlowV1, address);
    cleanup.push(() => client.$destroy());
    assert.equal(await client.wait(20, { timeoutMs: 5_000 }), 20);
    assert.equal(runs[0].deadlineAtStart, undefined);
    assert.equal(runs[0].context.signal.aborted, false);
  });

  test("extending the deadline keeps the handler alive past the first one, and the reply comes", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server);
    const client = sessionClient(address);
    const deadline = createDeadline(400);
    const reply = client.wait(900, { deadline });
    await started(runs, 1);
    const first = runs[0].deadlineAtStart as number;
    await new Promise((r) => setTimeout(r, 100));
    const extended = await deadline.extend(3_000);
    assert.equal(extended, 1, "the server extended one computation");
    assert.equal(await reply, 900);
    const run = runs[0];
    assert.equal(run.reason, undefined, "the handler was not aborted");
    assert.ok((run.finishedAt as number) > first, "it ran past the first deadline");
    assert.ok((run.context.deadline as number) > first + 2_000, "ctx.deadline moved");
  });

  test("the reply of a handler that returns after its deadline is still sent", async () => {
    let abortedWhenReturning: unknown;
    const server = createServer({ logger: silentLogger }).addProgram(SlowV1, {
      wait: async (ms, ctx) => {
        await new Promise((r) => setTimeout(r, ms)); // ignores its signal
        abortedWhenReturning = ctx.signal.reason;
        return ms;
      },
    });
    const address = await listen(server, "udp");
    // A hand-made session call that tells the server it waits 100 ms; the handler takes 300.
    const w = new XdrWriter();
    const call = { xid: 0x0e0e, program: SlowV1.program, version: 1, procedure: 1 };
    writeCallHeader(
      w,
      { ...call, sequence: 1n, timeoutMs: 100, semantics: "maybe" } as SessionOutgoingCall,
      sessionAuth(createSession().identity, authNone),
    );
    w.writeInt(300);
    const socket = createSocket("udp4");
    cleanup.push(() => socket.close());
    const reply = new Promise<Buffer>((resolve) => socket.once("message", resolve));
    socket.send(w.bytes(), Number(address.split(":")[2]), "127.0.0.1");
    const bytes = await reply;
    assert.equal(bytes.readUInt32BE(0), 0x0e0e, "the reply came");
    assert.equal(bytes.readInt32BE(bytes.length - 4), 300);
    assert.equal(code(abortedWhenReturning), "TIMEOUT", "the handler returned after its signal fired");
  });
});

describe("cancellation", () => {
  test("a call aborted by its caller aborts the handler (ONCE_CANCEL)", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server);
    const client = sessionClient(address);
    const controller = new AbortController();
    const reply = client.wait(10_000, { signal: controller.signal, timeoutMs: 20_000 });
    await started(runs, 1);
    controller.abort(new Error("the user gave up"));
    await assert.rejects(reply, (e: unknown) => isRpcError(e, "ABORTED"));
    await runs[0].ended;
    assert.equal(code(runs[0].reason), "ABORTED");
    assert.match(String(runs[0].reason), /cancelled/);
    assert.ok((runs[0].abortedAt as number) - runs[0].startedAt < 5_000);
  });

  test("over UDP too", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server, "udp");
    const client = sessionClient(address);
    const controller = new AbortController();
    const reply = client.wait(10_000, { signal: controller.signal, timeoutMs: 20_000 });
    await started(runs, 1);
    controller.abort();
    await assert.rejects(reply, (e: unknown) => isRpcError(e, "ABORTED"));
    await runs[0].ended;
    assert.match(String(runs[0].reason), /ABORTED: the client cancelled/);
  });
});

describe("reincarnation", () => {
  const clientId = new Uint8Array(16).fill(0x5a);

  test("a restarted session (a higher epoch) has its older computations killed at once", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server);
    const old = sessionClient(address, createSession({ clientId, epoch: 1n }));
    const orphan = old.wait(10_000, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await started(runs, 1);
    assert.equal(runs[0].context.session?.epoch, 1n);
    const reborn = sessionClient(address, createSession({ clientId, epoch: 2n }));
    assert.equal(await reborn.wait(10, { timeoutMs: 5_000 }), 10);
    await runs[0].ended;
    assert.equal(code(runs[0].reason), "ABORTED");
    assert.match(String(runs[0].reason), /orphan: the client restarted/);
    assert.equal(runs[1].reason, undefined, "the new epoch's call ran");
    assert.ok(isRpcError(await orphan, "SYSTEM_ERR"), "the orphan's handler threw its reason");
  });

  test("gently: after the grace, unless claimed; a late call of the old epoch dies at once", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server);
    const id = new Uint8Array(16).fill(0x6b);
    const oldSession = createSession({ clientId: id, epoch: 4n, reincarnation: false });
    // maybe: sent once, so that no retransmission claims the calls by itself.
    const old = createClient(SlowV1, address, { session: oldSession, semantics: "maybe" });
    cleanup.push(() => old.$destroy());
    const a = old.wait(10_000, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    const b = old.wait(3_000, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await started(runs, 2);
    const [runA, runB] = runs[0].context.session?.sequence === 1n ? runs : [runs[1], runs[0]];
    const reborn = sessionClient(
      address,
      createSession({ clientId: id, epoch: 5n, reincarnation: { graceMs: 600 } }),
    );
    const announcedAt = Date.now();
    assert.equal(await reborn.wait(1, { timeoutMs: 5_000 }), 1);
    // The old incarnation still lives and claims B (as a process sharing the identity would).
    const control = createClient(OnceControlProgV1, address);
    cleanup.push(() => control.$destroy());
    const claimed = await control.claim({
      client_id: id,
      epoch: 4n,
      sequence: runB.context.session?.sequence as bigint,
    });
    assert.deepEqual(claimed, { stat: 0, affected: 1 });
    await runA.ended;
    const killedAfter = (runA.abortedAt as number) - announcedAt;
    assert.ok(killedAfter >= 500, `not before the grace (${killedAfter} ms)`);
    assert.ok(killedAfter < 3_000, `soon after it (${killedAfter} ms)`);
    assert.match(
      String(runA.reason),
      /orphan: the client restarted \(epoch 5\) and no one claimed the call within 600 ms/,
    );
    assert.equal(await b, 3_000, "the claimed call ran to its end");
    assert.equal(runB.reason, undefined);
    assert.ok(isRpcError(await a, "SYSTEM_ERR"));
    // A call of the old epoch that arrives now, after the grace, is an orphan from the start.
    const late = await old.wait(5_000, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    assert.ok(isRpcError(late, "SYSTEM_ERR"));
    const lateRun = runs[runs.length - 1];
    assert.equal(lateRun.context.session?.epoch, 4n);
    assert.match(String(lateRun.reason), /orphan: the client restarted \(epoch 5\)/);
  });

  test("an announcement is made once per server and not again for the same epoch", async () => {
    const { server } = slowServer();
    const address = await listen(server);
    const control = createClient(OnceControlProgV1, address);
    cleanup.push(() => control.$destroy());
    const args = { client_id: new Uint8Array(16).fill(1), epoch: 3n, gentle: false, grace_ms: 0 };
    assert.deepEqual(await control.reincarnate(args), { stat: 0, affected: 0 });
    assert.deepEqual(await control.reincarnate(args), { stat: 0, affected: 0 });
    assert.deepEqual(
      await control.cancel({ client_id: args.client_id, epoch: 3n, sequence: 9n }),
      { stat: 1, affected: 0 },
      "ONCE_CONTROL_UNKNOWN for a call not running",
    );
  });
});

describe("extermination", () => {
  test("a restarted session kills what its log found unfinished, then forgets it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "once-orphans-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, "calls.log");
    const { server, runs } = slowServer();
    const address = await listen(server);
    const id = new Uint8Array(16).fill(0x7c);
    const first = createSession({ clientId: id, epoch: 1n, exterminationLog: log });
    const client = sessionClient(address, first);
    const calls = [client.wait(10_000, { timeoutMs: 30_000 }), client.wait(10_000, { timeoutMs: 30_000 })];
    for (const c of calls) c.catch(() => {});
    assert.equal(await client.wait(1, { timeoutMs: 5_000 }), 1, "a call that ended");
    await started(runs, 3);
    const text = readFileSync(log, "utf8");
    assert.match(text, /^once-extermination-log 1\nC 7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c 1\n/);
    assert.equal(text.match(/^S /gm)?.length, 3);
    assert.equal(text.match(/^E /gm)?.length, 1);
    // "Restart": a new incarnation on the same log (the old one's calls are still running).
    first.exterminationLog?.close();
    const second = createSession({ clientId: id, epoch: 2n, exterminationLog: log, reincarnation: false });
    assert.equal(second.exterminationLog?.unfinished.length, 2);
    assert.equal(second.exterminationLog?.unfinished[0].server, address);
    const report = await exterminate(second);
    assert.equal(report.unfinished, 2);
    assert.equal(report.killed, 2);
    const killed = runs.filter((r) => r.context.session?.sequence !== 3n);
    for (const r of killed) {
      await r.ended;
      assert.match(String(r.reason), /orphan: .*extermination log/);
    }
    assert.equal(second.exterminationLog?.unfinished.length, 0);
    assert.equal(
      readFileSync(log, "utf8"),
      "once-extermination-log 1\nC 7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c 2\n",
    );
    second.exterminationLog?.close();
  });

  test("the log stays small: rewritten with only the calls in flight", async () => {
    const dir = mkdtempSync(join(tmpdir(), "once-orphans-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, "calls.log");
    const { server } = slowServer();
    const address = await listen(server);
    const session = createSession({ exterminationLog: { path: log, maxBytes: 2_000 } });
    const client = sessionClient(address, session);
    for (let i = 0; i < 300; i++) await client.wait(0, { timeoutMs: 5_000 });
    const bytes = session.exterminationLog?.bytes as number;
    assert.ok(bytes <= 2_200, `${bytes} bytes after 300 calls`);
    assert.deepEqual(readFileSync(log, "utf8").length, bytes);
    session.exterminationLog?.close();
  });
});

describe("nested calls", () => {
  test("a handler's outgoing call inherits its deadline and its cancellation (grand-orphans die too)", async () => {
    const b = slowServer();
    const addressB = await listen(b.server);
    const toB = sessionClient(addressB);
    const a = slowServer((ms) => toB.wait(ms * 2, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    const addressA = await listen(a.server);
    const client = sessionClient(addressA);
    const controller = new AbortController();
    const reply = client.wait(10_000, { signal: controller.signal, timeoutMs: 8_000 });
    await started(a.runs, 1);
    await started(b.runs, 1);
    const deadlineA = a.runs[0].deadlineAtStart as number;
    const deadlineB = b.runs[0].deadlineAtStart as number;
    assert.ok(
      deadlineB <= deadlineA + 50,
      `B's deadline (${deadlineB}) is A's (${deadlineA}), not its own 60 s`,
    );
    controller.abort();
    await assert.rejects(reply, (e: unknown) => isRpcError(e, "ABORTED"));
    await a.runs[0].ended;
    await b.runs[0].ended;
    assert.match(String(a.runs[0].reason), /cancelled/);
    assert.equal(code(b.runs[0].reason), "ABORTED", String(b.runs[0].reason));
  });

  test("an extension of the first call reaches the grand-child", async () => {
    const b = slowServer();
    const addressB = await listen(b.server);
    const toB = sessionClient(addressB);
    const a = slowServer((ms) => toB.wait(ms).catch((e: unknown) => e));
    const addressA = await listen(a.server);
    const client = sessionClient(addressA);
    const deadline = createDeadline(500);
    const reply = client.wait(1_000, { deadline });
    await started(b.runs, 1);
    await deadline.extend(4_000);
    assert.equal(await reply, 1_000);
    assert.equal(b.runs[0].reason, undefined, "B ran past the first deadline");
    assert.ok((b.runs[0].context.deadline as number) > (b.runs[0].deadlineAtStart as number) + 2_000);
  });
});
