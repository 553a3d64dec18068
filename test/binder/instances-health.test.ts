/**
 * Health checks against real processes: child Node processes each serve a
 * tiny program over TCP or UDP and register themselves with registerInstance
 * (no lease: only the binder's NULL probes keep them or drop them). Killed
 * with SIGKILL, an instance must leave LIST within healthIntervalMs ×
 * maxMisses (plus slack for the tick, the last probe and a loaded machine),
 * through misses in a row, while the others stay alive. Answers from live
 * instances are kept in the binder's table and not emitted (issue 4: each
 * was one write to the state file and to etcd): only changes of state are.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type InetAddress, silentLogger } from "once-rpc";
import { type Binder, createBinder, type InstanceChange, listInstances } from "once-rpc/binder";
import { type InstanceChild, startInstanceChild } from "../support/instance-children.js";

const PROGRAM = 0x2000_0c21;
const INTERVAL_MS = 100;
const MAX_MISSES = 3;
/** Beyond interval × misses: a tick (interval / 5), the last probe's timeout, and a busy 2-core machine. */
const SLACK_MS = 1500;

/** A child of test/support/instance-children.ts, registered with the binder without a lease. */
interface Child extends InstanceChild {
  readonly protocol: "tcp" | "udp";
  readonly id: string;
}

const children: Child[] = [];

async function startChild(protocol: "tcp" | "udp", binderAddress: string): Promise<Child> {
  const child = await startInstanceChild({ binders: [binderAddress], program: PROGRAM, protocol });
  const started = Object.assign(child, { protocol, id: child.ids[0] });
  children.push(started);
  return started;
}

let binder: Binder;
let binderTcp: string;
const changes: Array<{ at: number; change: InstanceChange }> = [];

before(async () => {
  binder = createBinder({
    healthIntervalMs: INTERVAL_MS,
    healthTimeoutMs: INTERVAL_MS,
    maxMisses: MAX_MISSES,
    server: { logger: silentLogger },
  });
  binderTcp = `tcp://127.0.0.1:${((await binder.listen("tcp://127.0.0.1:0")) as InetAddress).port}`;
  binder.instances.subscribe((change) => changes.push({ at: Date.now(), change }));
});

after(async () => {
  for (const child of children) await child.kill();
  await binder?.destroy();
});

/** The changes to instance `id`, in order, as short strings. */
function history(id: string): string[] {
  return changes
    .filter(({ change }) => (change.type === "remove" ? change.id : change.instance.id) === id)
    .map(({ change }) =>
      change.type === "remove"
        ? `remove ${change.reason}`
        : `${change.type} ${change.instance.state} ${change.instance.misses}`,
    );
}

/** Waits for instance `id` to leave the table; resolves with when it did, or rejects after `limitMs`. */
async function removal(id: string, limitMs: number): Promise<number> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const removed = changes.find(({ change }) => change.type === "remove" && change.id === id);
    if (removed !== undefined) return removed.at;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`instance ${id} still there after ${limitMs} ms: ${history(id).join(", ")}`);
}

test("a killed instance leaves LIST within healthIntervalMs × maxMisses, over TCP and UDP; the others stay", async (t) => {
  const live = [
    await startChild("tcp", binderTcp),
    await startChild("tcp", binderTcp),
    await startChild("udp", binderTcp),
    await startChild("udp", binderTcp),
  ];
  const query = { program: PROGRAM, version: 1 };
  const ids = async () => (await listInstances(binderTcp, query)).map((i) => i.id).sort();
  assert.deepEqual(await ids(), live.map((c) => c.id).sort());

  // Several intervals on, every live instance has been probed and answered: none missed.
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 6));
  const listed = await listInstances(binderTcp, query);
  assert.deepEqual(listed.map((i) => i.id).sort(), live.map((c) => c.id).sort());
  for (const instance of listed) {
    assert.equal(instance.state, "alive");
    // Registered six intervals ago and seen since: it answered probes.
    assert.ok(instance.lastSeenAgeMs < INTERVAL_MS * MAX_MISSES, `seen ${instance.lastSeenAgeMs} ms ago`);
    // None of those answers was emitted: an update is a change of state (a probe missed on a
    // loaded machine, then answered), never an answer from an instance already alive.
    const h = history(instance.id);
    assert.equal(h[0], "add alive 0");
    assert.ok(
      h.every((entry, i) => i === 0 || entry.split(" ")[1] !== h[i - 1].split(" ")[1]),
      `only changes of state emitted: ${h.join(", ")}`,
    );
  }

  for (const victim of [live[0], live[2]]) {
    const killedAt = Date.now();
    await victim.kill();
    const removedAt = await removal(victim.id, INTERVAL_MS * MAX_MISSES + SLACK_MS);
    const tookMs = removedAt - killedAt;
    assert.ok(tookMs <= INTERVAL_MS * MAX_MISSES + SLACK_MS, `${victim.protocol}: gone after ${tookMs} ms`);
    // Through misses in a row, not any other way: the first emitted (alive to suspect), the
    // second counted in the table only, the third removes it.
    const tail = history(victim.id).slice(-2);
    assert.deepEqual(tail, ["update suspect 1", "remove unhealthy"]);
    assert.ok(!(await ids()).includes(victim.id));
    t.diagnostic(`${victim.protocol} instance gone ${tookMs} ms after SIGKILL`);
  }

  const survivors = await listInstances(binderTcp, query);
  assert.deepEqual(survivors.map((i) => i.id).sort(), [live[1].id, live[3].id].sort());
  for (const instance of survivors) assert.equal(instance.state, "alive");
});
