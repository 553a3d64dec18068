/**
 * examples/bank: its server and client as a user runs them — the client
 * does its transfers, the accounts add up, and a second client run on the
 * same session file is the same client in a new epoch.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { repoPath } from "../support/paths.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "once-bank-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the bank: transfers over TCP and UDP with a session file, and the balances add up", async () => {
  const server = spawn(process.execPath, [repoPath("dist/examples/bank/server.js"), join(dir, "bank.db")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    let out = "";
    server.stdout.setEncoding("utf8");
    while (!/udp \d+\n/.test(out)) {
      const [chunk] = (await Promise.race([
        once(server.stdout, "data"),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no ports from the server: ${out}`)), 10_000),
        ),
      ])) as [string];
      out += chunk;
    }
    const port = /tcp (\d+)/.exec(out)?.[1];
    const session = join(dir, "bank.session");
    const client = repoPath("dist/examples/bank/client.js");
    const first = await run(
      process.execPath,
      [client, `tcp://127.0.0.1:${port}`, "--transfers", "50", "--session", session],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    assert.equal(first.stderr, "");
    assert.equal(first.stdout.split("\n").filter((l) => l.startsWith("done ")).length, 50);
    assert.match(first.stdout, /^alice 999950\nbob 50\n$/m);
    const second = await run(
      process.execPath,
      [client, `udp://127.0.0.1:${port}`, "--transfers", "25", "--first-ref", "51", "--session", session],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.equal(second.stderr, "");
    assert.doesNotMatch(second.stdout, /resumed/, "the first run left nothing unfinished");
    assert.match(second.stdout, /^alice 999925\nbob 75\n$/m);
    const file = readFileSync(session, "utf8");
    assert.match(file, /^once-session 1 [0-9a-f]{32}\nP 2\n/, "the same client id, epoch 2");
  } finally {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
});
