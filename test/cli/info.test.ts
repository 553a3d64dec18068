/**
 * `once info` prints a binder's registrations as rpcinfo does: checked on
 * our binder on port 0, and line for line against rpcinfo itself with
 * Debian's rpcbind on port 111 (under the port-111 lock).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { createServer, type InetAddress, silentLogger } from "once-rpc";
import { createBinder, registerServer } from "once-rpc/binder";
import { DateProgV1, DateProgV2 } from "../../examples/date/gen/date.js";
import { formatDump, formatShortDump, readRpcNames } from "../../src/cli/info.js";
import { rpcinfo, startDebianRpcbind } from "../support/c-binder-peers.js";
import { repoPath } from "../support/paths.js";
import { acquirePort111 } from "../support/port-111.js";

const once = repoPath("dist/src/cli/main.js");
const execFileAsync = promisify(execFile);

async function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [once, ...args], { encoding: "utf8" });
    return { status: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function dateServer() {
  const server = createServer({ logger: silentLogger });
  server.addProgram(DateProgV1, { now: () => 1n });
  server.addProgram(DateProgV2, { now: () => 2n, format: () => ({ status: 0 as const, text: "" }) });
  return server;
}

describe("once info", () => {
  test("lists our binder's registrations in the three formats, over TCP and UDP", async () => {
    const binder = createBinder({ server: { logger: silentLogger } });
    const server = dateServer();
    try {
      const at = (await binder.listen("tcp://127.0.0.1:0")) as InetAddress;
      await binder.listen(`udp://127.0.0.1:${at.port}`);
      const tcp = (await server.listen("tcp://127.0.0.1:0")) as InetAddress;
      await registerServer(server, { binder: at });
      const where = `127.0.0.1:${at.port}`;
      const p = await run("info", "-p", where);
      assert.equal(p.status, 0, p.stderr);
      assert.match(p.stdout, /^ {3}program vers proto {3}port {2}service\n/);
      assert.ok(
        p.stdout.includes(`${String(0x20000099).padStart(10)}    2   tcp${String(tcp.port).padStart(7)}\n`),
      );
      const s = await run("info", "-s", "--udp", where);
      assert.equal(s.status, 0, s.stderr);
      // Owner "unknown": a SET over loopback TCP cannot say who made it (docs/binder.md).
      assert.ok(
        s.stdout.endsWith(` ${0x20000099}  2,1       tcp${" ".repeat(30)}-${" ".repeat(11)}unknown\n`),
      );
      const plain = await run("info", where);
      assert.match(
        plain.stdout,
        new RegExp(`${0x20000099} {4}1 {4}tcp {7}127\\.0\\.0\\.1\\.\\d+\\.\\d+ +- +`),
      );
      assert.match(
        plain.stdout,
        /^ {4}100000 {4}4 {4}tcp {7}127\.0\.0\.1\.\d+\.\d+ +portmapper superuser\n/m,
      );
    } finally {
      await server.destroy();
      await binder.destroy();
    }
  });

  test("errors: nobody there is exit 1 with the code first; a bad command line is 2", async () => {
    const r = await run("info", "--timeout", "2000", "127.0.0.1:1");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^CONNECT_FAILED: /);
    assert.equal((await run("info", "-p", "-s")).status, 2);
    assert.equal((await run("info", "127.0.0.1:99999")).status, 2);
    const help = await run("info", "--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:\n {2}once info/);
  });

  test("empty lists print rpcinfo's sentence; /etc/rpc supplies names", () => {
    assert.equal(formatDump([], new Map()), "No remote programs registered.\n");
    assert.equal(formatShortDump([], new Map()), "No remote programs registered.\n");
    const names = readRpcNames();
    if (names.size > 0) assert.equal(names.get(100000), "portmapper");
    assert.equal(readRpcNames("/nonexistent/rpc").size, 0);
  });

  test("prints what rpcinfo prints, against Debian's rpcbind on port 111", async () => {
    const release = await acquirePort111();
    try {
      const rpcbind = await startDebianRpcbind();
      const server = dateServer();
      try {
        await server.listen("tcp://127.0.0.1:0");
        await server.listen("udp://127.0.0.1:0");
        await registerServer(server, { binder: "tcp://127.0.0.1:111" });
        for (const flags of [[], ["-s"], ["-p"]]) {
          const theirs = await rpcinfo([...flags, "127.0.0.1"]);
          const ours = await run("info", ...flags, "127.0.0.1");
          assert.equal(ours.status, 0, ours.stderr);
          assert.equal(
            ours.stdout,
            theirs.stdout,
            `once info ${flags.join(" ")} = rpcinfo ${flags.join(" ")}`,
          );
          assert.match(ours.stdout, new RegExp(String(0x20000099)));
        }
      } finally {
        await server.destroy();
        await rpcbind.stop();
      }
    } finally {
      release();
    }
  });
});
