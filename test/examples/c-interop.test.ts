/**
 * examples/c-interop, run as its README says: build.sh builds the C server
 * and client of kv.x with rpcgen, gcc and libtirpc, then the TypeScript
 * client calls the C server and the C client calls the TypeScript server,
 * over TCP and UDP on loopback. Missing C tools fail the test, never skip it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { checkCToolchain } from "../support/c-xdr-harness.js";
import { repoPath } from "../support/paths.js";

const run = promisify(execFile);
const example = repoPath("examples/c-interop");
const build = mkdtempSync(join(tmpdir(), "once-c-interop-"));
const started: ChildProcess[] = [];

after(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(build, { recursive: true, force: true });
});

before(async () => {
  await checkCToolchain();
  const { stdout } = await run("sh", [join(example, "build.sh"), build], { timeout: 60_000 });
  assert.match(stdout, /built .*kv_server and .*kv_client/);
});

/** Starts a server that prints "tcp <port>\nudp <port>\n" (both kv_server and server.js do) and reads its ports. */
async function startServer(
  command: string,
  args: string[],
): Promise<{ child: ChildProcess; tcp: number; udp: number }> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let out = "";
  let err = "";
  child.stderr?.on("data", (b: Buffer) => {
    err += b.toString("utf8");
  });
  const ports = await new Promise<{ tcp: number; udp: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} printed no ports in 10 s: ${out}${err}`)),
      10_000,
    );
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      const m = /^tcp (\d+)\nudp (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ tcp: Number(m[1]), udp: Number(m[2]) });
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before printing its ports: ${out}${err}`));
    });
  });
  return { child, ...ports };
}

/** Sends SIGTERM and resolves with how the process ended. */
function stop(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.kill("SIGTERM");
  });
}

async function kvClient(...args: string[]): Promise<string> {
  const { stdout } = await run(join(build, "kv_client"), ["127.0.0.1", ...args], { timeout: 30_000 });
  return stdout;
}

test("the committed gen/kv.ts is what once gen writes from kv.x", async () => {
  const { stdout } = await run(process.execPath, [
    repoPath("dist/src/cli/main.js"),
    "gen",
    join(example, "kv.x"),
    "--stdout",
  ]);
  assert.equal(stdout, readFileSync(join(example, "gen/kv.ts"), "utf8"));
});

test("the TypeScript client calls the C server over TCP and UDP", async () => {
  const server = await startServer(join(build, "kv_server"), []);
  const { stdout } = await run(
    process.execPath,
    [
      repoPath("dist/examples/c-interop/client.js"),
      `tcp://127.0.0.1:${server.tcp}`,
      `udp://127.0.0.1:${server.udp}`,
    ],
    { timeout: 30_000 },
  );
  const expected = (protocol: string, keys: string) =>
    [
      `${protocol}://127.0.0.1:${protocol === "tcp" ? server.tcp : server.udp}`,
      `  put greeting-${protocol}        -> KV_OK`,
      `  get greeting-${protocol}        -> KV_OK "hello from TypeScript"`,
      "  get never-put           -> KV_NOT_FOUND",
      `  list                    -> ${keys}`,
      "  put of a 65-byte key    -> not sent: BAD_ARGS: KV_PROG v1 KV_PUT: BAD_VALUE: string of 65 bytes exceeds its bound of 64",
    ].join("\n");
  const lines = stdout.replace(/ at byte \d+ in key$/gm, "");
  assert.equal(
    lines,
    `${expected("tcp", "greeting-tcp")}\n${expected("udp", "greeting-tcp, greeting-udp")}\n`,
  );
  // What the TypeScript client put is in the C server's store, as the C client sees it.
  assert.equal(
    await kvClient(String(server.tcp), "tcp", "get", "greeting-udp"),
    "KV_OK hello from TypeScript\n",
  );
  await stop(server.child);
});

test("the C client calls the TypeScript server over TCP and UDP", async () => {
  const server = await startServer(process.execPath, [repoPath("dist/examples/c-interop/server.js")]);
  const tcp = String(server.tcp);
  const udp = String(server.udp);
  assert.equal(await kvClient(tcp, "tcp", "put", "language", "C"), "KV_OK\n");
  assert.equal(await kvClient(udp, "udp", "put", "greeting", "héllo, wörld ☃"), "KV_OK\n");
  assert.equal(await kvClient(udp, "udp", "put", "language", "C, then UDP"), "KV_OK\n");
  assert.equal(await kvClient(tcp, "tcp", "get", "greeting"), "KV_OK héllo, wörld ☃\n");
  assert.equal(await kvClient(udp, "udp", "get", "language"), "KV_OK C, then UDP\n");
  assert.equal(await kvClient(tcp, "tcp", "get", "nothing"), "KV_NOT_FOUND\n");
  assert.equal(await kvClient(tcp, "tcp", "list"), "language\ngreeting\n");
  // SIGTERM closes the TypeScript server, and it exits by itself.
  assert.deepEqual(await stop(server.child), { code: 0, signal: null });
});
