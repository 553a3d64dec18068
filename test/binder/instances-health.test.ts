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
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { type InetAddress, silentLogger } from "once-rpc";
import { type Binder, createBinder, type InstanceChange, listInstances } from "once-rpc/binder";
import { repoPath } from "../support/paths.js";

const PROGRAM = 0x2000_0c21;
const INTERVAL_MS = 100;
const MAX_MISSES = 3;
/** Beyond interval × misses: a tick (interval / 5), the last probe's timeout, and a busy 2-core machine. */
const SLACK_MS = 1500;

/**
 * The child: serves PROGRAM version 1 on 127.0.0.1:0 over the protocol
 * given, registers itself with the binder given, prints its address and
 * instance id as one JSON line, and exits when its stdin closes (so it never
 * outlives the test).
 */
const CHILD = `
const [serverUrl, binderUrl, protocol, binderAddress, program] = process.argv.slice(1);
const { createServer, silentLogger, xdrInt } = await import(serverUrl);
const { registerInstance } = await import(binderUrl);
const server = createServer({ logger: silentLogger }).addProgram(
  { programName: "HEALTH_PROG", program: Number(program), versionName: "HEALTH_V1", version: 1,
    procedures: { echo: { name: "ECHO", number: 1, args: xdrInt, result: xdrInt } } },
  { echo: (n) => n },
);
const address = await server.listen(protocol + "://127.0.0.1:0");
const registered = await registerInstance(server, { binder: binderAddress, name: "echo", leaseMs: 0 });
process.stdout.write(JSON.stringify({ port: address.port, id: registered.instances[0].id }) + "\\n");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  readonly id: string;
}

const children: Child[] = [];

async function startChild(protocol: "tcp" | "udp", binderAddress: string): Promise<Child> {
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      CHILD,
      pathToFileURL(repoPath("dist/src/index.js")).href,
      pathToFileURL(repoPath("dist/src/binder/index.js")).href,
      protocol,
      binderAddress,
      String(PROGRAM),
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.stdin.on("error", () => {});
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the child printed nothing within 10 s; stderr:\n${stderr}`));
    }, 10_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf("\n")));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the child exited (${code}, ${signal}) before it was ready; stderr:\n${stderr}`));
    });
  });
  const { port, id } = JSON.parse(line) as { port: number; id: string };
  const started = { process: child, protocol, port, id };
  children.push(started);
  return started;
}

async function kill(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = once(child.process, "exit");
  child.process.kill("SIGKILL");
  await exited;
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
  for (const child of children) await kill(child);
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
    await kill(victim);
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
