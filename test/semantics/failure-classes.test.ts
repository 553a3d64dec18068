/**
 * The classic failure analysis of remote calls, case by case, under each
 * semantics: what the caller sees and how often the procedure ran. Lost
 * messages come from the proxy; crashes are SIGKILLs of a server in a child
 * process at a chosen moment, then a restart on the same port. The table
 * this test asserts is the one in docs/semantics.md. (The client's crash —
 * orphans — is in orphans*.test.ts; the client's restart under exactly-once
 * in exactly-once-crash.test.ts.)
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  createClient,
  createServer,
  createSqliteCompletionStore,
  isRpcError,
  type ProgramVersionDescriptor,
  type Semantics,
  silentLogger,
  staticResolver,
  xdrInt,
} from "once-rpc";
import { createBinder, rpcbindResolver } from "once-rpc/binder";
import { createProxy } from "once-rpc/proxy";
import { CrashProgV1, runsInStore, runsOf, startCrashServer } from "../support/crash-server.js";

const dir = mkdtempSync(join(tmpdir(), "once-failures-"));
const cleanup: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

/** What a case came to: the caller's outcome (a value, or the error code) and how often the call ran. */
interface Seen {
  outcome: string;
  runs: number;
}

const ALL: Semantics[] = ["maybe", "at-least-once", "at-most-once", "exactly-once"];
const table: string[] = [];

function outcomeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "reply",
    (e: unknown) => (isRpcError(e) ? e.code : `not an RpcError: ${String(e)}`),
  );
}

const EchoV1 = {
  programName: "ECHO_PROG",
  program: 0x2000_0e21,
  versionName: "ECHO_V1",
  version: 1,
  procedures: { run: { name: "ECHO_RUN", number: 1, args: xdrInt, result: xdrInt } },
} as const satisfies ProgramVersionDescriptor;

/** A lost message: the proxy drops every message in `direction` until the first is lost, then none. */
async function lost(direction: "request" | "reply", semantics: Semantics): Promise<Seen> {
  let runs = 0;
  const completionStore =
    semantics === "exactly-once"
      ? createSqliteCompletionStore({ path: join(dir, `lost-${direction}.db`), synchronous: "normal" })
      : undefined;
  if (completionStore !== undefined) cleanup.push(() => completionStore.close());
  const server = createServer({ logger: silentLogger, completionStore }).addProgram(EchoV1, {
    run: (n) => {
      runs++;
      return n;
    },
  });
  cleanup.push(() => server.destroy());
  const target = await server.listen("udp://127.0.0.1:0");
  const proxy = await createProxy({ listen: "udp://127.0.0.1:0", target, seed: 1, [direction]: { drop: 1 } });
  cleanup.push(() => proxy.close());
  const client = createClient(EchoV1, proxy.address, {
    semantics,
    retransmitInitialMs: 100,
    timeoutMs: 1_000,
  });
  const pending = outcomeOf(client.run(1));
  while (proxy.stats[direction].dropped === 0) await new Promise((r) => setTimeout(r, 5));
  proxy.setFaults({ [direction]: { drop: 0 } }); // the network heals
  const outcome = await pending;
  client.$destroy();
  return { outcome, runs };
}

/** A server crash before or after the call's effect, then the server back on the same port. */
async function crash(when: "before" | "after", semantics: Semantics, n: number): Promise<Seen> {
  const effectsFile = join(dir, `effects-${when}-${semantics}`);
  const storePath = semantics === "exactly-once" ? join(dir, `store-${when}.db`) : undefined;
  const hold = { holdBeforeMs: when === "before" ? 60_000 : 0, holdAfterMs: when === "after" ? 60_000 : 0 };
  const first = await startCrashServer({ protocol: "tcp", port: 0, effectsFile, storePath, ...hold });
  cleanup.push(() => first.kill());
  const client = createClient(CrashProgV1, `tcp://127.0.0.1:${first.port}`, {
    semantics,
    retransmitInitialMs: 5_000, // over TCP only a lost connection sends it again here
    timeoutMs: 20_000,
  });
  const pending = outcomeOf(client.run(n));
  await first.printed(when === "before" ? `started ${n}` : `ran ${n}`);
  await first.kill();
  const second = await startCrashServer({ protocol: "tcp", port: first.port, effectsFile, storePath });
  cleanup.push(() => second.kill());
  const outcome = await pending;
  await new Promise((r) => setTimeout(r, 200));
  client.$destroy();
  await second.kill();
  const runs = storePath === undefined ? runsOf(effectsFile) : runsInStore(storePath);
  return { outcome, runs: runs.get(n) ?? 0 };
}

function record(failure: string, semantics: Semantics, seen: Seen): void {
  table.push(`| ${failure} | ${semantics} | ${seen.outcome} | ${seen.runs} |`);
}

describe("the classic failure cases", () => {
  test("cannot locate the server: a typed error under every semantics, nothing runs", async () => {
    const binder = createBinder({ server: { logger: silentLogger } });
    cleanup.push(() => binder.destroy());
    const at = await binder.listen("tcp://127.0.0.1:0");
    const port = (at as { port: number }).port;
    for (const semantics of ALL) {
      const client = createClient(EchoV1, "tcp://127.0.0.1", {
        semantics,
        resolver: rpcbindResolver({ binders: [`127.0.0.1:${port}`] }),
      });
      const outcome = await outcomeOf(client.run(1));
      assert.equal(outcome, "NOT_REGISTERED", semantics);
      record("cannot locate server", semantics, { outcome, runs: 0 });
      client.$destroy();
    }
    const none = createClient(EchoV1, "tcp://", { resolver: staticResolver([]) });
    assert.notEqual(await outcomeOf(none.run(1)), "reply");
    none.$destroy();
  });

  const expectations: Record<string, Record<Semantics, Seen | undefined>> = {
    "lost request": {
      maybe: { outcome: "TIMEOUT", runs: 0 },
      "at-least-once": { outcome: "reply", runs: 1 },
      "at-most-once": { outcome: "reply", runs: 1 },
      "exactly-once": { outcome: "reply", runs: 1 },
    },
    "lost reply": {
      maybe: { outcome: "TIMEOUT", runs: 1 },
      "at-least-once": { outcome: "reply", runs: 2 },
      "at-most-once": { outcome: "reply", runs: 1 },
      "exactly-once": { outcome: "reply", runs: 1 },
    },
    "server crash before execution": {
      maybe: { outcome: "CONNECTION_CLOSED", runs: 0 },
      "at-least-once": { outcome: "reply", runs: 1 },
      "at-most-once": { outcome: "reply", runs: 1 },
      "exactly-once": { outcome: "reply", runs: 1 },
    },
    // The reply cache lives in memory: a crash after the effect loses it, and the call runs again.
    "server crash after execution": {
      maybe: { outcome: "CONNECTION_CLOSED", runs: 1 },
      "at-least-once": { outcome: "reply", runs: 2 },
      "at-most-once": { outcome: "reply", runs: 2 },
      // The completion record committed with the effect survives: the restarted server answers from it.
      "exactly-once": { outcome: "reply", runs: 1 },
    },
  };

  for (const semantics of ALL) {
    test(`lost request and lost reply under ${semantics}`, async () => {
      for (const [failure, direction] of [
        ["lost request", "request"],
        ["lost reply", "reply"],
      ] as const) {
        const seen = await lost(direction, semantics);
        record(failure, semantics, seen);
        assert.deepEqual(seen, expectations[failure][semantics], `${failure}, ${semantics}`);
      }
    });
    test(`server crashes before and after execution under ${semantics}`, async () => {
      let n = 100 + ALL.indexOf(semantics) * 10;
      for (const [failure, when] of [
        ["server crash before execution", "before"],
        ["server crash after execution", "after"],
      ] as const) {
        const seen = await crash(when, semantics, n++);
        record(failure, semantics, seen);
        assert.deepEqual(seen, expectations[failure][semantics], `${failure}, ${semantics}`);
      }
    });
  }

  test("the table", (t) => {
    t.diagnostic(["| failure | semantics | the caller sees | times it ran |", ...table.sort()].join("\n"));
    assert.ok(table.length >= 20);
  });
});
