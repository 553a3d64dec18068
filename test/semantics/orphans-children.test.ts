/**
 * Orphans of clients that really die (issue 5, proofs): a client in a child
 * Node process makes session calls and is killed with SIGKILL while the
 * server's handlers run. Its computations are aborted at their deadline
 * (over UDP, and over TCP where the lost connection alone does not abort a
 * session call with a deadline); a restarted client with a higher epoch has
 * them killed at once (reincarnation); one with the dead client's log has
 * them killed by extermination; and the calls a handler made to another
 * server on the dead client's behalf (grand-orphans) are aborted too.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  type CallContext,
  createClient,
  createServer,
  createSession,
  exterminate,
  type ProgramVersionDescriptor,
  RpcError,
  type Server,
  silentLogger,
  xdrInt,
} from "once-rpc";
import { repoPath } from "../support/paths.js";

/** SLOW v1: WAIT(ms) waits ms or until its signal fires. */
const SlowV1 = {
  programName: "SLOW_PROG",
  program: 0x2000_0e22,
  versionName: "SLOW_V1",
  version: 1,
  procedures: { wait: { name: "SLOW_WAIT", number: 1, args: xdrInt, result: xdrInt } },
} as const satisfies ProgramVersionDescriptor;

/** The client child: makes its calls, says "sent", prints each outcome; exits when stdin closes. */
const CHILD = `
const [indexUrl, address, optionsJson] = process.argv.slice(1);
const { createClient, createSession, xdrInt } = await import(indexUrl);
const o = JSON.parse(optionsJson);
const session = createSession({
  clientId: new Uint8Array(Buffer.from(o.clientId, "hex")),
  epoch: BigInt(o.epoch),
  exterminationLog: o.log,
  reincarnation: o.graceMs === undefined ? undefined : { graceMs: o.graceMs },
});
const SlowV1 = { programName: "SLOW_PROG", program: ${SlowV1.program}, versionName: "SLOW_V1", version: 1,
  procedures: { wait: { name: "SLOW_WAIT", number: 1, args: xdrInt, result: xdrInt } } };
const client = createClient(SlowV1, address, { session, semantics: o.semantics });
for (const ms of o.calls) {
  client.wait(ms, { timeoutMs: o.timeoutMs }).then(
    (r) => process.stdout.write(JSON.stringify({ ok: r }) + "\\n"),
    (e) => process.stdout.write(JSON.stringify({ error: e.code }) + "\\n"),
  );
}
process.stdout.write("sent\\n");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

interface ChildOptions {
  readonly clientId: string;
  readonly epoch: number;
  readonly calls: readonly number[];
  readonly timeoutMs: number;
  readonly semantics?: "maybe" | "at-least-once" | "at-most-once";
  readonly log?: string;
  readonly graceMs?: number;
}

interface ClientChild {
  readonly process: ChildProcessWithoutNullStreams;
  /** Lines printed after "sent". */
  readonly lines: string[];
  kill(): Promise<void>;
}

const children: ClientChild[] = [];

async function startClient(address: string, options: ChildOptions): Promise<ClientChild> {
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      CHILD,
      pathToFileURL(repoPath("dist/src/index.js")).href,
      address,
      JSON.stringify({ semantics: "maybe", ...options }),
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.stdin.on("error", () => {});
  const lines: string[] = [];
  let out = "";
  child.stdout.setEncoding("utf8");
  const sent = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the child said nothing in 10 s; stderr:\n${stderr}`)),
      10_000,
    );
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      let i = out.indexOf("\n");
      while (i >= 0) {
        const line = out.slice(0, i);
        out = out.slice(i + 1);
        if (line === "sent") {
          clearTimeout(timer);
          resolve();
        } else lines.push(line);
        i = out.indexOf("\n");
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the child exited (${code}, ${signal}); stderr:\n${stderr}`));
    });
  });
  const handle: ClientChild = {
    process: child,
    lines,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
  children.push(handle);
  await sent;
  return handle;
}

/** What a handler saw. */
interface Run {
  readonly startedAt: number;
  readonly context: CallContext;
  abortedAt?: number;
  reason?: unknown;
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

function slowServer(onCall?: (ms: number) => Promise<unknown>) {
  const runs: Run[] = [];
  const server = createServer({ logger: silentLogger }).addProgram(SlowV1, {
    wait: async (ms, ctx) => {
      let end: () => void = () => {};
      const run: Run = { startedAt: Date.now(), context: ctx, ended: new Promise<void>((r) => (end = r)) };
      runs.push(run);
      const outgoing = onCall?.(ms);
      const done = await sleepOrAbort(ms, ctx.signal);
      if (!done) {
        run.abortedAt = Date.now();
        run.reason = ctx.signal.reason;
      }
      await outgoing;
      end();
      if (!done) throw ctx.signal.reason;
      return ms;
    },
  });
  return { server, runs };
}

const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const c of children) await c.kill();
  for (const f of cleanup.reverse()) await f();
});

async function listen(server: Server, protocol: "tcp" | "udp"): Promise<string> {
  cleanup.push(() => server.destroy());
  const a = (await server.listen(`${protocol}://127.0.0.1:0`)) as { port: number };
  return `${protocol}://127.0.0.1:${a.port}`;
}

async function started(runs: Run[], n: number): Promise<void> {
  for (let i = 0; i < 1000 && runs.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(runs.length >= n, `${n} handler runs started (saw ${runs.length})`);
}

/** Waits for a run's end, at most `ms`. */
async function endedWithin(run: Run, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    run.ended,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the handler still ran after ${ms} ms`)), ms);
    }),
  ]);
  clearTimeout(timer);
}

function code(reason: unknown): string | undefined {
  return reason instanceof RpcError ? reason.code : undefined;
}

function randomId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
}

/** Slack for a shared, loaded machine: a deadline may fire this much late and still pass. */
const SLACK_MS = 1_000;

describe("a client killed with SIGKILL mid-call", () => {
  for (const protocol of ["udp", "tcp"] as const) {
    test(`${protocol}: its handler is aborted at the call's 1 s deadline`, async () => {
      const { server, runs } = slowServer();
      const address = await listen(server, protocol);
      const child = await startClient(address, {
        clientId: randomId(),
        epoch: 1,
        calls: [60_000],
        timeoutMs: 1_000,
      });
      await started(runs, 1);
      const run = runs[0];
      const deadline = run.context.deadline as number;
      assert.ok(deadline - run.startedAt <= 1_000, "the deadline is the client's 1 s");
      await child.kill();
      await endedWithin(run, 1_000 + SLACK_MS);
      assert.equal(code(run.reason), "TIMEOUT", String(run.reason));
      const abortedAt = run.abortedAt as number;
      assert.ok(
        abortedAt >= deadline,
        "at the deadline, not before (a lost connection alone does not abort it)",
      );
      assert.ok(
        abortedAt - run.startedAt <= 1_000 + SLACK_MS,
        `aborted ${abortedAt - run.startedAt} ms after it started`,
      );
    });
  }
});

describe("a client restarted after SIGKILL", () => {
  test("with a higher epoch: its old computations are killed as soon as it calls the server", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server, "tcp");
    const clientId = randomId();
    const first = await startClient(address, {
      clientId,
      epoch: 1,
      calls: [60_000, 60_000],
      timeoutMs: 60_000,
    });
    await started(runs, 2);
    await first.kill();
    const second = await startClient(address, { clientId, epoch: 2, calls: [10], timeoutMs: 10_000 });
    const restartedAt = Date.now();
    for (const run of runs.slice(0, 2)) {
      await endedWithin(run, 5_000);
      assert.equal(code(run.reason), "ABORTED");
      assert.match(String(run.reason), /orphan: the client restarted \(epoch 2\)/);
      assert.ok((run.abortedAt as number) - restartedAt < 5_000);
    }
    for (let i = 0; i < 500 && second.lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(second.lines, ['{"ok":10}'], "the new incarnation's call ran");
  });

  test("gently: the old computations live out the grace, then die", async () => {
    const { server, runs } = slowServer();
    const address = await listen(server, "tcp");
    const clientId = randomId();
    const first = await startClient(address, { clientId, epoch: 1, calls: [60_000], timeoutMs: 60_000 });
    await started(runs, 1);
    await first.kill();
    await startClient(address, { clientId, epoch: 2, calls: [10], timeoutMs: 10_000, graceMs: 800 });
    await started(runs, 2);
    const announcedAt = Date.now();
    await endedWithin(runs[0], 800 + 5_000);
    const after = (runs[0].abortedAt as number) - announcedAt;
    assert.ok(after >= 600, `not before the grace (${after} ms)`);
    assert.match(String(runs[0].reason), /no one claimed the call within 800 ms/);
  });

  test("with its extermination log: the calls it left unfinished are killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "once-orphans-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, "client.log");
    const { server, runs } = slowServer();
    const address = await listen(server, "udp");
    const clientId = randomId();
    const first = await startClient(address, {
      clientId,
      epoch: 1,
      calls: [60_000, 60_000, 60_000],
      timeoutMs: 60_000,
      log,
    });
    await started(runs, 3);
    await first.kill();
    const session = createSession({
      clientId: new Uint8Array(Buffer.from(clientId, "hex")),
      epoch: 2n,
      exterminationLog: log,
      reincarnation: false,
    });
    assert.equal(session.exterminationLog?.unfinished.length, 3);
    const report = await exterminate(session);
    assert.deepEqual(
      { unfinished: report.unfinished, killed: report.killed, errors: report.servers.filter((s) => s.error) },
      { unfinished: 3, killed: 3, errors: [] },
    );
    for (const run of runs) {
      await endedWithin(run, 2_000);
      assert.match(String(run.reason), /orphan: .*extermination log/);
    }
    assert.equal(session.exterminationLog?.unfinished.length, 0);
    session.exterminationLog?.close();
  });
});

describe("grand-orphans", () => {
  test("server A's handler calls server B; the first client is killed: A's and B's handlers both abort", async () => {
    const b = slowServer();
    const addressB = await listen(b.server, "tcp");
    const toB = createClient(SlowV1, addressB, { session: true, semantics: "maybe" });
    cleanup.push(() => toB.$destroy());
    // A's call to B asks for 60 s, but inherits the 1 s of the call A serves.
    const a = slowServer((ms) => toB.wait(ms, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    const addressA = await listen(a.server, "tcp");
    const child = await startClient(addressA, {
      clientId: randomId(),
      epoch: 1,
      calls: [60_000],
      timeoutMs: 1_000,
    });
    await started(a.runs, 1);
    await started(b.runs, 1);
    const deadlineA = a.runs[0].context.deadline as number;
    const deadlineB = b.runs[0].context.deadline as number;
    assert.ok(deadlineB <= deadlineA + 50, "B's deadline is inherited from A's call");
    await child.kill();
    await endedWithin(a.runs[0], 1_000 + SLACK_MS);
    await endedWithin(b.runs[0], 1_000 + SLACK_MS);
    assert.equal(code(a.runs[0].reason), "TIMEOUT", String(a.runs[0].reason));
    // B's handler dies by its own (inherited) deadline or by A's ONCE_CANCEL, whichever comes first.
    assert.ok(["TIMEOUT", "ABORTED"].includes(code(b.runs[0].reason) as string), String(b.runs[0].reason));
    for (const run of [a.runs[0], b.runs[0]]) {
      const ms = (run.abortedAt as number) - a.runs[0].startedAt;
      assert.ok(ms <= 1_000 + SLACK_MS, `aborted ${ms} ms after the first call started`);
    }
  });
});
