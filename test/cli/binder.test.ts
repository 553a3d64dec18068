/**
 * `once binder`: its help, its usage errors, a run on port 0 that a client
 * talks to and SIGTERM ends cleanly, and a port already taken.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createClient } from "once-rpc";
import { RpcbprogV4 } from "once-rpc/binder";
import { repoPath } from "../support/paths.js";

const once = repoPath("dist/src/cli/main.js");

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [once, ...args],
      { encoding: "utf8", timeout: 20_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
  });
}

test("--help explains the options, with examples", async () => {
  const r = await run(["binder", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: once binder \[--listen ADDRESS\]/);
  assert.match(r.stdout, /Examples:\n {2}once binder\n/);
});

test("a command line that makes no sense exits with 2", async () => {
  for (const args of [
    ["extra"],
    ["--listen", "nonsense"],
    ["--listen", "sctp://1.2.3.4:5"],
    ["--token", ""],
  ]) {
    const r = await run(["binder", ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^once binder: /);
  }
});

test("runs until SIGTERM: prints where it listens, answers, removes its Unix socket", async () => {
  const dir = mkdtempSync(join(tmpdir(), "once-binder-cli-"));
  const socket = join(dir, "rpcbind.sock");
  const child = spawn(process.execPath, [
    once,
    "binder",
    "--listen",
    "tcp://127.0.0.1:0",
    "--listen",
    "udp://127.0.0.1:0",
    "--listen",
    `unix://${socket}`,
  ]);
  try {
    let out = "";
    child.stdout.setEncoding("utf8");
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
        if (out.split("\n").length > 3) resolve();
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code} before listening`)));
    });
    const lines = out.trim().split("\n");
    assert.match(lines[0], /^listening on tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines[1], /^listening on udp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(lines[2], `listening on unix://${socket}`);
    assert.equal(statSync(socket).mode & 0o777, 0o666);
    const port = Number(/:(\d+)$/.exec(lines[1])?.[1]);
    const client = createClient(RpcbprogV4, `udp://127.0.0.1:${port}`);
    try {
      const entry = await client.getversaddr({
        r_prog: 100000,
        r_vers: 4,
        r_netid: "",
        r_addr: "",
        r_owner: "",
      });
      assert.equal(entry, `127.0.0.1.${port >> 8}.${port & 255}`);
    } finally {
      client.$destroy();
    }
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(existsSync(socket), false);
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an address in use: exit 1, saying so", async () => {
  const taken = createNetServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  try {
    const port = (taken.address() as { port: number }).port;
    const r = await run(["binder", "--listen", `tcp://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `once binder: cannot listen on tcp://127.0.0.1:${port}: the address is in use (is rpcbind running? systemctl stop rpcbind rpcbind.socket)\n`,
    );
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});
