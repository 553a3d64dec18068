/**
 * Clients keep succeeding while instances die: servers in child processes
 * register as instances, a client finds them through instanceResolver and
 * balances among them, and the servers are killed (SIGKILL) one by one
 * while calls go on, until one is left. Then the same with two binders,
 * one of which is destroyed mid-run.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createClient, type InetAddress, isRpcError, silentLogger } from "once-rpc";
import { type Binder, createBinder, instanceResolver } from "once-rpc/binder";
import { type InstanceChild, startInstanceChild, whoProgram } from "../support/instance-children.js";

const INTERVAL_MS = 100;
const MAX_MISSES = 3;

const children: InstanceChild[] = [];
const binders: Binder[] = [];
after(async () => {
  for (const c of children) await c.kill();
  for (const b of binders) await b.destroy();
});

async function startBinder(): Promise<string> {
  const binder = createBinder({
    healthIntervalMs: INTERVAL_MS,
    healthTimeoutMs: INTERVAL_MS,
    maxMisses: MAX_MISSES,
    server: { logger: silentLogger },
  });
  binders.push(binder);
  return `tcp://127.0.0.1:${((await binder.listen("tcp://127.0.0.1:0")) as InetAddress).port}`;
}

/** Calls WHO `concurrency` at a time until `stop()`; counts answers per pid and failures. */
function callLoop(call: () => Promise<number>, concurrency: number) {
  const answers = new Map<number, number>();
  const failures: unknown[] = [];
  let running = true;
  let calls = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running && calls < 100_000) {
      calls++;
      try {
        const pid = await call();
        answers.set(pid, (answers.get(pid) ?? 0) + 1);
      } catch (error) {
        failures.push(error);
      }
    }
  });
  return {
    answers,
    failures,
    get calls() {
      return calls;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("instances killed one by one while a client calls them", () => {
  for (const balance of ["round-robin", "least-in-flight", "power-of-two"] as const) {
    test(`every call succeeds (${balance})`, async () => {
      const program = 0x2000_0d10 + children.length;
      const binder = await startBinder();
      const servers: InstanceChild[] = [];
      for (let i = 0; i < 4; i++) servers.push(await startInstanceChild({ binders: [binder], program }));
      children.push(...servers);
      const client = createClient(whoProgram(program), "tcp://", {
        resolver: instanceResolver({ binders: [binder] }),
        balance,
        refreshMs: 200,
        timeoutMs: 5_000,
      });
      // WHO has no effect: a call cut off by a crash may be sent again.
      const loop = callLoop(() => client.who(null, { idempotent: true }), 4);
      await sleep(300);
      for (const victim of servers.slice(0, 3)) {
        await victim.kill();
        await sleep(400);
      }
      const before = loop.calls;
      await sleep(300);
      await loop.stop();
      await client.$close();
      assert.deepEqual(loop.failures, [], "no call failed");
      const survivor = servers[3].pid;
      assert.ok((loop.answers.get(survivor) ?? 0) > 0);
      assert.ok(loop.calls > before, "calls went on after the last kill");
      for (const s of servers.slice(0, 3)) {
        assert.ok((loop.answers.get(s.pid) ?? 0) > 0, `instance ${s.pid} took calls while it lived`);
      }
    });
  }

  test("a call that is not idempotent fails with CONNECTION_CLOSED when its server dies under it, and the next goes elsewhere", async () => {
    const program = 0x2000_0d20;
    const binder = await startBinder();
    const a = await startInstanceChild({ binders: [binder], program });
    const b = await startInstanceChild({ binders: [binder], program });
    children.push(a, b);
    const client = createClient(whoProgram(program), "tcp://", {
      resolver: instanceResolver({ binders: [binder] }),
    });
    const loop = callLoop(() => client.who(), 4);
    await sleep(200);
    await a.kill();
    await sleep(300);
    await loop.stop();
    await client.$close();
    for (const e of loop.failures) {
      assert.ok(isRpcError(e, "CONNECTION_CLOSED"), `only calls cut off by the crash fail: ${String(e)}`);
    }
    assert.ok((loop.answers.get(b.pid) ?? 0) > 0);
  });
});

describe("several binders", () => {
  test("the client asks the next binder when one is gone, and its calls go on", async () => {
    const program = 0x2000_0d30;
    const first = await startBinder();
    const second = await startBinder();
    const servers: InstanceChild[] = [];
    for (let i = 0; i < 2; i++) servers.push(await startInstanceChild({ binders: [first, second], program }));
    children.push(...servers);
    const client = createClient(whoProgram(program), "tcp://", {
      resolver: instanceResolver({ binders: [first, second], timeoutMs: 500 }),
      refreshMs: 100,
    });
    const loop = callLoop(() => client.who(null, { idempotent: true }), 2);
    await sleep(200);
    await binders[binders.length - 2].destroy(); // the first binder
    await sleep(300);
    await servers[0].kill(); // the client must now learn of it from the second binder
    await sleep(600);
    await loop.stop();
    await client.$close();
    assert.deepEqual(loop.failures, []);
    assert.ok((loop.answers.get(servers[1].pid) ?? 0) > 0);
  });
});
