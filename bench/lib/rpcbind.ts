/**
 * Debian's rpcbind for the binder benchmark. rpcbind listens on port 111
 * and /run/rpcbind.sock and nowhere else, so the benchmark may start it only
 * when both are free, and only while it holds the lock that once-rpc's
 * tests take before they use port 111 (test/support/port-111.ts: a file
 * created with O_EXCL in the temporary directory, holding the owner's pid;
 * a lock whose process is gone is stale). When port 111 is taken by someone
 * else, {@link startDebianRpcbind} refuses with a message saying how to free
 * it; it never stops a process it did not start.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Where Debian's rpcbind package puts it. */
export const RPCBIND_PATH = "/usr/sbin/rpcbind";

/** The lock once-rpc's tests hold while they use port 111 (same file, same protocol). */
const PORT_111_LOCK = join(tmpdir(), "once-rpc-port-111.lock");

/** The socket rpcbind listens on beside port 111. */
const RPCBIND_SOCKET = "/run/rpcbind.sock";

/** What rpcbind leaves behind: its socket, its lock, and the warm-start state it writes when it ends. */
const RPCBIND_FILES = [
  RPCBIND_SOCKET,
  "/run/rpcbind.lock",
  "/run/rpcbind/rpcbind.xdr",
  "/run/rpcbind/portmap.xdr",
];

/** How long to wait for a test that holds the port-111 lock. */
const LOCK_WAIT_MS = 180_000;

const HOW_TO_FREE =
  "The binder benchmark runs Debian's rpcbind itself on port 111. Stop the one that runs there first " +
  "(systemctl stop rpcbind.socket rpcbind, or kill it), then run the benchmark again; start it again afterwards " +
  "(systemctl start rpcbind.socket rpcbind).";

/** Port 111 or rpcbind is not available: the message says why and what to do. */
export class Port111Unavailable extends Error {
  override readonly name = "Port111Unavailable";
}

/** A running rpcbind. */
export interface RunningRpcbind {
  readonly pid: number;
  /** Ends rpcbind (SIGTERM), removes the files it made, and releases the port-111 lock. */
  stop(): Promise<void>;
}

/**
 * Takes the port-111 lock, checks that port 111 (TCP, UDP) and
 * /run/rpcbind.sock are free, and starts `rpcbind -f` (foreground, no warm
 * start: it begins empty); resolves once it answers on its socket.
 * `log` is told when the lock is held by someone else.
 */
export async function startDebianRpcbind(log: (text: string) => void): Promise<RunningRpcbind> {
  if (!existsSync(RPCBIND_PATH))
    throw new Port111Unavailable(`${RPCBIND_PATH} is not installed (Debian: apt-get install rpcbind).`);
  if (process.getuid?.() !== 0)
    throw new Port111Unavailable(
      "rpcbind needs root (port 111 and /run/rpcbind.sock): run the benchmark as root.",
    );
  const release = await lockPort111(log);
  let child: ChildProcess | undefined;
  const before = new Set(RPCBIND_FILES.filter((f) => existsSync(f)));
  const cleanUp = () => {
    for (const file of RPCBIND_FILES) if (!before.has(file)) rmSync(file, { force: true });
  };
  try {
    await checkPort111Free();
    child = spawn(RPCBIND_PATH, ["-f"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => {
      stderr = (stderr + b.toString("utf8")).slice(-4000);
    });
    const started = child;
    const exited = new Promise<void>((resolve) => started.once("close", () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await answers(RPCBIND_SOCKET))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill("SIGKILL");
        await exited;
        throw new Error(`rpcbind did not start (exit ${started.exitCode}): ${stderr || "(no message)"}`);
      }
      await sleep(20);
    }
    return {
      pid: started.pid ?? 0,
      async stop() {
        if (started.exitCode === null && started.signalCode === null) {
          started.kill("SIGTERM");
          const timer = setTimeout(() => started.kill("SIGKILL"), 3000);
          await exited;
          clearTimeout(timer);
        }
        cleanUp();
        release();
      },
    };
  } catch (error) {
    cleanUp();
    release();
    throw error;
  }
}

/** Takes the lock file of test/support/port-111.ts, waiting for a holder that is alive. */
async function lockPort111(log: (text: string) => void): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    try {
      writeFileSync(PORT_111_LOCK, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const holder = lockHolder();
    if (holder !== undefined && !isAlive(holder)) {
      rmSync(PORT_111_LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Port111Unavailable(
        `${PORT_111_LOCK} is still held by pid ${holder} after ${LOCK_WAIT_MS / 1000} s.`,
      );
    if (!told) {
      log(`  waiting for the port-111 lock ${PORT_111_LOCK}, held by pid ${holder} (a binder test?)…\n`);
      told = true;
    }
    await sleep(100);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (lockHolder() === process.pid) rmSync(PORT_111_LOCK, { force: true });
  };
  process.once("exit", release);
  return release;
}

function lockHolder(): number | undefined {
  try {
    const pid = Number(readFileSync(PORT_111_LOCK, "utf8"));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Refuses, saying how to free it, when TCP or UDP port 111 or /run/rpcbind.sock is taken. */
async function checkPort111Free(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Port111Unavailable(`TCP port 111 is in use (${error.code}). ${HOW_TO_FREE}`)),
    );
    server.listen(111, "0.0.0.0", () => server.close(() => resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.close();
      reject(new Port111Unavailable(`UDP port 111 is in use (${error.code}). ${HOW_TO_FREE}`));
    });
    socket.bind(111, "0.0.0.0", () => socket.close(() => resolve()));
  });
  if (existsSync(RPCBIND_SOCKET) && (await answers(RPCBIND_SOCKET)))
    throw new Port111Unavailable(`something answers on ${RPCBIND_SOCKET}. ${HOW_TO_FREE}`);
}
