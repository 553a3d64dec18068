/**
 * Exactly-once across crashes, with the bank of examples/bank: a
 * non-idempotent transfer whose effects and completion record commit in one
 * SQLite transaction (ctx.commit).
 * - The server, a child process, is killed with SIGKILL in the middle of a
 *   run and started again on the same file and port while the client keeps
 *   calling and retransmitting: every transfer ran exactly once.
 * - The client, a child process with a session file, is killed with SIGKILL
 *   in the middle of its transfers and started again: it resumes the calls
 *   its last run left unfinished, and every transfer it started ran exactly
 *   once — none twice, none lost.
 * The proof reads the bank's transfer log: one row per transfer ref.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createClient, createSession } from "once-rpc";
import { Bank, createBankServer } from "../../examples/bank/bank.js";
import { BankStat } from "../../examples/bank/gen/bank.js";
import { assertEachRanOnce, audit, kill9, killAll, start } from "../support/bank-processes.js";
import { repoPath } from "../support/paths.js";

const SERVER = repoPath("dist/examples/bank/server.js");
const CLIENT = repoPath("dist/examples/bank/client.js");
const START = 1_000_000n;

const dir = mkdtempSync(join(tmpdir(), "once-exactly-once-crash-"));
after(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

for (const protocol of ["udp", "tcp"] as const) {
  test(`${protocol}: the server killed with SIGKILL mid-run and started again on its file — every transfer ran exactly once`, async () => {
    const path = join(dir, `server-${protocol}.db`);
    let server = start(SERVER, [path]);
    const port = Number((await server.until((l) => l.startsWith("tcp "), "its port")).split(" ")[1]);
    const bank = createClient(Bank, `${protocol}://127.0.0.1:${port}`, {
      session: createSession(),
      timeoutMs: 30_000,
      retransmitInitialMs: 100,
      retransmitMaxMs: 400,
    });
    await bank.open({ name: "alice", balance: START });
    await bank.open({ name: "bob", balance: 0n });
    const CALLS = 600;
    const IN_FLIGHT = 16;
    let next = 1;
    let done = 0;
    let restarted: Promise<void> | undefined;
    async function worker(): Promise<void> {
      while (next <= CALLS) {
        const ref = BigInt(next++);
        const result = await bank.transfer({ from: "alice", to: "bob", amount: 1n, ref });
        assert.equal(result.stat, BankStat.BANK_OK);
        done++;
        if (done === CALLS / 3 && restarted === undefined) {
          // Calls are in flight now: some ran and were recorded, some ran halfway, some never arrived.
          restarted = (async () => {
            await kill9(server.child);
            await new Promise((r) => setTimeout(r, 200));
            server = start(SERVER, [path, String(port)]);
            await server.until((l) => l.startsWith("tcp "), "its port after the restart");
          })();
        }
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await restarted;
    assert.equal(done, CALLS);
    const accounts = await bank.accounts();
    assert.deepEqual(
      accounts.map((a) => [a.name, a.balance]),
      [
        ["alice", START - BigInt(CALLS)],
        ["bob", BigInt(CALLS)],
      ],
    );
    await bank.$close();
    server.child.kill("SIGTERM");
    await once(server.child, "exit");
    assertEachRanOnce(path, CALLS, START);
  });
}

test("the client killed with SIGKILL mid-run and started again on its session file resumes what it left: every started transfer ran exactly once", async () => {
  const path = join(dir, "client-restart.db");
  const bank = createBankServer({ path });
  const address = await bank.server.listen("tcp://127.0.0.1:0");
  const port = (address as { port: number }).port;
  const sessionFile = join(dir, "client.session");
  try {
    const first = start(CLIENT, [
      `tcp://127.0.0.1:${port}`,
      "--transfers",
      "100000",
      "--in-flight",
      "8",
      "--session",
      sessionFile,
    ]);
    await first.until((l) => l === "done 150", "150 transfers");
    await kill9(first.child);
    const before = audit(bank.store.database);
    assert.ok(before.rows >= 150);
    const logged = readFileSync(sessionFile, "utf8");
    assert.match(logged, /^once-session 1 [0-9a-f]{32}\nP 1\n/);

    const second = start(CLIENT, [`tcp://127.0.0.1:${port}`, "--transfers", "0", "--session", sessionFile]);
    const [code] = (await once(second.child, "exit")) as [number | null];
    assert.equal(code, 0, second.stderr());
    const resumed = second.lines.filter((l) => /^resumed call \d+: ok$/.test(l));
    assert.ok(resumed.length >= 1, "calls were in flight when the client died");
    assert.match(readFileSync(sessionFile, "utf8"), /\nP 2\n/, "the second run was epoch 2");

    const a = audit(bank.store.database);
    assert.equal(a.maxRunsOfARef, 1, "no transfer ran twice");
    assert.equal(a.refs, a.rows);
    assert.equal(a.maxRef, a.rows, "no transfer the first run started was lost (refs 1..n, no gap)");
    assert.equal(a.bob, BigInt(a.rows));
    assert.equal(a.alice + a.bob, START, "the balances add up");
    assert.ok(second.lines.includes(`bob ${a.rows}`), "the resumed client sees the same balance");
  } finally {
    await bank.close();
  }
});
