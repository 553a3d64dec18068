/**
 * The proof of issue 5 for exactly-once: 10,000 non-idempotent transfers of
 * the bank (examples/bank) through a proxy that drops 30% and duplicates
 * 10% of the messages each way, over UDP and over TCP, with the server
 * killed with SIGKILL a third of the way through and started again on its
 * file and port while the client keeps calling. Every transfer ran exactly
 * once: one row per transfer in the bank's log, and the balances add up.
 *
 * The server's SQLite runs with synchronous=NORMAL: a SIGKILL loses nothing
 * WAL has written to the kernel; only a power loss could (docs/semantics.md).
 * At-least-once and at-most-once under the same proxy: transfer-proof.test.ts.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createClient, createSession } from "once-rpc";
import { createProxy } from "once-rpc/proxy";
import { Bank } from "../../examples/bank/bank.js";
import { BankStat } from "../../examples/bank/gen/bank.js";
import { assertEachRanOnce, kill9, killAll, start } from "../support/bank-processes.js";
import { repoPath } from "../support/paths.js";

const SERVER = repoPath("dist/examples/bank/server.js");
const CALLS = 10_000;
const IN_FLIGHT = 64;
const START = 1_000_000_000n;

const dir = mkdtempSync(join(tmpdir(), "once-exactly-once-proof-"));
const cleanup: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

for (const protocol of ["udp", "tcp"] as const) {
  test(`exactly-once over ${protocol}: 10,000 transfers through 30% loss and 10% duplication, the server killed and restarted mid-run`, async (t) => {
    const path = join(dir, `bank-${protocol}.db`);
    let server = start(SERVER, [path, "0", "--synchronous", "normal"]);
    const port = Number((await server.until((l) => l.startsWith("tcp "), "its port")).split(" ")[1]);
    const proxy = await createProxy({
      listen: `${protocol}://127.0.0.1:0`,
      target: `${protocol}://127.0.0.1:${port}`,
      drop: 0.3,
      dup: 0.1,
      seed: protocol === "udp" ? 11 : 12,
    });
    cleanup.push(() => proxy.close());
    const bank = createClient(Bank, proxy.address, {
      session: createSession(),
      timeoutMs: 120_000,
      retransmitInitialMs: 50,
      retransmitMaxMs: 400,
    });
    await bank.open({ name: "alice", balance: START });
    await bank.open({ name: "bob", balance: 0n });
    let next = 1;
    let done = 0;
    let restarted: Promise<void> | undefined;
    const worker = async (): Promise<void> => {
      while (next <= CALLS) {
        const ref = BigInt(next++);
        const result = await bank.transfer({ from: "alice", to: "bob", amount: 1n, ref });
        assert.equal(result.stat, BankStat.BANK_OK);
        if (++done === Math.floor(CALLS / 3)) {
          restarted = (async () => {
            await kill9(server.child);
            await new Promise((r) => setTimeout(r, 200));
            server = start(SERVER, [path, String(port), "--synchronous", "normal"]);
            await server.until((l) => l.startsWith("tcp "), "its port after the restart");
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await restarted;
    assert.equal(done, CALLS, "every transfer answered");
    const accounts = await bank.accounts();
    assert.deepEqual(
      accounts.map((a) => [a.name, a.balance]),
      [
        ["alice", START - BigInt(CALLS)],
        ["bob", BigInt(CALLS)],
      ],
    );
    await bank.$close();
    const stats = proxy.stats;
    server.child.kill("SIGTERM");
    await once(server.child, "exit");
    assertEachRanOnce(path, CALLS, START);
    t.diagnostic(
      `${protocol}: proxy dropped ${stats.request.dropped + stats.reply.dropped}, duplicated ${stats.request.duplicated + stats.reply.duplicated}; ${CALLS} transfers, each ran once`,
    );
  });
}
