/**
 * The C peers of the RPC benchmark: a server and a client of
 * bench/fixtures/echo.x written against rpcgen's output and libtirpc, the
 * reference implementation of ONC RPC.
 *
 * {@link buildCPeers} runs `rpcgen -h`, `-c` and `-m` on echo.x in a fresh
 * temporary directory and compiles bench/c/echo-server.c and echo-client.c
 * with `gcc -O2 -I/usr/include/tirpc … -ltirpc`, at benchmark time: no binary
 * is ever committed. Missing tools are an error that says which.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { CallSample } from "./calls.js";

const run = promisify(execFile);

/** bench/ itself, from bench/dist/lib/. */
const BENCH_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The compiled C peers. */
export interface CPeers {
  /** The temporary directory of the build, removed when the process exits. */
  readonly dir: string;
  /** `echo-server [TCP_PORT]`: prints "tcp <port>", serves until stdin closes. */
  readonly serverPath: string;
  /** `echo-client PORT small|bulk CALLS WARMUP`: prints "<elapsed ns> <p50 ns> <p99 ns>". */
  readonly clientPath: string;
}

/** Builds both peers; throws with the tool's output when gcc, rpcgen or libtirpc is missing or a step fails. */
export async function buildCPeers(): Promise<CPeers> {
  const dir = await mkdtemp(join(tmpdir(), "once-bench-c-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  await copyFile(join(BENCH_ROOT, "fixtures", "echo.x"), join(dir, "echo.x"));
  for (const file of ["echo-server.c", "echo-client.c"])
    await copyFile(join(BENCH_ROOT, "c", file), join(dir, file));
  // rpcgen writes `#include "echo.h"` (from its input's name), so it runs in `dir` on the copy.
  await tool(dir, "rpcgen", ["-h", "-o", "echo.h", "echo.x"]);
  await tool(dir, "rpcgen", ["-c", "-o", "echo_xdr.c", "echo.x"]);
  // -m: the dispatcher echo_prog_1 without a main; echo-server.c has the main.
  await tool(dir, "rpcgen", ["-m", "-o", "echo_svc.c", "echo.x"]);
  const serverPath = join(dir, "echo-server");
  const clientPath = join(dir, "echo-client");
  // -w: rpcgen's output draws warnings (unused variables, function casts) from recent gcc.
  const cc = ["-O2", "-w", "-I/usr/include/tirpc", "-I", dir];
  await Promise.all([
    tool(dir, "gcc", [
      ...cc,
      "-o",
      serverPath,
      "echo-server.c",
      "echo_svc.c",
      "echo_xdr.c",
      "-ltirpc",
      "-lpthread",
    ]),
    tool(dir, "gcc", [...cc, "-o", clientPath, "echo-client.c", "echo_xdr.c", "-ltirpc"]),
  ]);
  return { dir, serverPath, clientPath };
}

async function tool(cwd: string, command: string, args: string[]): Promise<void> {
  try {
    await run(command, args, { cwd });
  } catch (e) {
    const err = e as { code?: unknown; stderr?: string; message?: string };
    const hint =
      err.code === "ENOENT"
        ? ` (${command} is not installed; the C rows need gcc, rpcgen and libtirpc's headers: apt-get install gcc rpcsvc-proto libtirpc-dev)`
        : "";
    throw new Error(`${command} ${args.join(" ")} failed${hint}:\n${err.stderr || err.message || String(e)}`);
  }
}

/** A running C server. */
export interface CServer {
  readonly port: number;
  /** The server process's pid. */
  readonly pid: number;
  /** Ends the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts the C server on 127.0.0.1 and resolves once it has printed its port. */
export async function startCServer(peers: CPeers): Promise<CServer> {
  const child: ChildProcessWithoutNullStreams = spawn(peers.serverPath, [], {
    cwd: peers.dir,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  // The server reads stdin only to see it close; a write error there just means it has gone.
  child.stdin.on("error", () => {});
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let onExit = (_code: number | null) => {};
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail("printed no port within 10 s"), 10_000);
    function fail(why: string) {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`the C server ${why}; stderr: ${stderr || "(empty)"}`));
    }
    onExit = (code) => fail(`exited (code ${code}) before printing its port`);
    child.once("error", (e) => fail(`could not start: ${e.message}`));
    child.once("exit", onExit);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const m = /^tcp (\d+)\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  }).finally(() => child.off("exit", onExit));
  child.stdout.resume();
  return {
    port,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Runs the C client once: `warmup` calls untimed, then `calls` timed, one at
 * a time over one connection. Rejects with its stderr when it fails (a
 * failed call, a reply that differs from the argument).
 */
export function runCClient(
  peers: CPeers,
  port: number,
  procedure: "small" | "bulk",
  calls: number,
  warmup: number,
): Promise<CallSample> {
  return new Promise((resolve, reject) => {
    execFile(
      peers.clientPath,
      [String(port), procedure, String(calls), String(warmup)],
      { cwd: peers.dir, timeout: 120_000 },
      (error, stdout, stderr) => {
        const m = /^(\d+) (\d+) (\d+)\n$/.exec(stdout);
        if (error !== null || m === null) {
          reject(
            new Error(
              `the C client (${procedure}, ${calls} calls) failed: ${error?.message ?? "bad output"}\n${stdout}${stderr}`,
            ),
          );
          return;
        }
        resolve({ calls, elapsedNs: Number(m[1]), p50Ns: Number(m[2]), p99Ns: Number(m[3]) });
      },
    );
  });
}
