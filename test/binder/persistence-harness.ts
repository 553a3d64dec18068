/**
 * For the state and sharing tests: `once binder` in a child process on
 * loopback port 0, and an etcd of the test's own (Debian's etcd-server) on
 * free loopback ports with a temporary data directory. Both are stopped by
 * the test that started them.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoPath } from "../support/paths.js";

const once = repoPath("dist/src/cli/main.js");

/** A `once binder` running in a child process. */
export interface BinderProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Its TCP and UDP ports on 127.0.0.1. */
  readonly tcpPort: number;
  readonly udpPort: number;
  /** What it wrote on stderr so far. */
  stderr(): string;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** Runs `once binder --listen tcp://127.0.0.1:0 --listen udp://127.0.0.1:0 ARGS…` and waits until it listens. */
export async function spawnBinder(args: readonly string[], startMs = 30_000): Promise<BinderProcess> {
  const child = spawn(process.execPath, [
    once,
    "binder",
    "--listen",
    "tcp://127.0.0.1:0",
    "--listen",
    "udp://127.0.0.1:0",
    ...args,
  ]);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not listening within ${startMs} ms: ${err}`)),
        startMs,
      );
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
        if ((out.match(/^listening on /gm) ?? []).length >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`once binder exited with ${code} before listening: ${err}`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const port = (protocol: string) =>
    Number(new RegExp(`^listening on ${protocol}://127\\.0\\.0\\.1:(\\d+)$`, "m").exec(out)?.[1]);
  return {
    child,
    tcpPort: port("tcp"),
    udpPort: port("udp"),
    stderr: () => err,
    stop: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs `once ARGS…` to its end; resolves with its exit code and output. */
export function runOnce(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [once, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An etcd started by a test. */
export interface EtcdProcess {
  /** Its client URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Kills it (SIGKILL) and starts it again on the same ports and data directory; resolves once it answers. */
  restart(): Promise<void>;
  /** Kills it and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts etcd on free loopback ports with a temporary data directory and
 * waits until it answers. Fails (never skips) when the binary is missing:
 * CI installs Debian's etcd-server through .ci/run.
 */
export async function startEtcd(): Promise<EtcdProcess> {
  const probe = spawnSync("etcd", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      "etcd is not installed: these tests need Debian's etcd-server (apt-get install etcd-server, as .ci/run does)",
    );
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startEtcdOnce();
    } catch (error) {
      // Another process may have taken a port between our look and etcd's bind: try new ones.
      lastError = error;
    }
  }
  throw lastError;
}

async function startEtcdOnce(): Promise<EtcdProcess> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), "once-etcd-"));
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let running = await runEtcd(dataDir, url, peer);
  return {
    url,
    restart: async () => {
      await running.kill();
      running = await runEtcd(dataDir, url, peer);
    },
    stop: async () => {
      await running.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs etcd on `url` (clients) and `peer` with `dataDir`, waits until it is healthy; resolves with how to kill it. */
async function runEtcd(dataDir: string, url: string, peer: string): Promise<{ kill(): Promise<void> }> {
  const child = spawn("etcd", [
    "--name",
    "default",
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    url,
    "--advertise-client-urls",
    url,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `default=${peer}`,
    "--initial-cluster-state",
    "new",
  ]);
  let log = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    log = (log + c).slice(-4000);
  });
  child.stdout.resume();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`etcd exited with ${child.exitCode}: ${log}`);
    }
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.ok && ((await r.json()) as { health?: string }).health === "true") break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`etcd did not answer within 30 s: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { kill };
}

/** A loopback TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 20 ms until it returns true or `withinMs` passes; resolves with the ms it took, or rejects. */
export async function eventually(
  what: string,
  withinMs: number,
  check: () => Promise<boolean> | boolean,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
