/**
 * Port 111 for one test at a time. `node --test` runs test files in
 * parallel processes, and the binder interop tests need the well-known
 * port (rpcinfo and libtirpc look nowhere else) and /run/rpcbind.sock, where
 * libtirpc looks first. Every test that binds them holds this lock.
 *
 * The lock is a file created with O_EXCL ('wx') in os.tmpdir(), holding the
 * owner's pid. A lock whose process is gone is stale and taken over. Once
 * the lock is held, {@link acquirePort111} checks that nothing else (a
 * system rpcbind) holds port 111 or answers on /run/rpcbind.sock, and fails
 * with a message saying how to stop it rather than testing someone else's
 * binder. Needs root: CI runs as root.
 */
import { createSocket } from "node:dgram";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The lock file. */
export const PORT_111_LOCK: string = join(tmpdir(), "once-rpc-port-111.lock");

/** The socket libtirpc tries before port 111 (its _PATH_RPCBINDSOCK, /var/run being /run). */
export const RPCBIND_SOCKET = "/run/rpcbind.sock";

/** How long to wait for another test file to release the lock. */
const WAIT_MS = 180_000;
const RETRY_MS = 100;

/** Releases the lock (idempotent). */
export type ReleasePort111 = () => void;

/**
 * Waits for the lock, takes it, and checks that port 111 (TCP and UDP) and
 * /run/rpcbind.sock are free. Rejects, releasing the lock, when they are not,
 * or after three minutes of waiting.
 */
export async function acquirePort111(): Promise<ReleasePort111> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      writeFileSync(PORT_111_LOCK, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const holder = lockHolder();
    if (holder !== undefined && !isAlive(holder)) {
      // The holder died without releasing it: the lock is stale.
      rmSync(PORT_111_LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`port 111 lock ${PORT_111_LOCK} still held by pid ${holder} after ${WAIT_MS} ms`);
    }
    await sleep(RETRY_MS);
  }
  let released = false;
  const release: ReleasePort111 = () => {
    if (released) return;
    released = true;
    if (lockHolder() === process.pid) rmSync(PORT_111_LOCK, { force: true });
  };
  process.once("exit", release);
  try {
    await checkPort111Free();
  } catch (error) {
    release();
    throw error;
  }
  return release;
}

/** Runs `fn` holding the lock. */
export async function withPort111<T>(fn: () => Promise<T>): Promise<T> {
  const release = await acquirePort111();
  try {
    return await fn();
  } finally {
    release();
  }
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

const STOP_RPCBIND = "stop it first (systemctl stop rpcbind rpcbind.socket, or kill it)";

/** Fails with a clear message when port 111 or /run/rpcbind.sock is taken. */
export async function checkPort111Free(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `TCP port 111 is in use (a system rpcbind?): ${STOP_RPCBIND}`
            : `cannot bind TCP port 111 (${error.code}): the binder tests need root`,
        ),
      );
    });
    server.listen(111, "0.0.0.0", () => server.close(() => resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.close();
      reject(new Error(`UDP port 111 is in use or cannot be bound (${error.code}): ${STOP_RPCBIND}`));
    });
    socket.bind(111, "0.0.0.0", () => socket.close(() => resolve()));
  });
  if (existsSync(RPCBIND_SOCKET)) {
    const live = await new Promise<boolean>((resolve) => {
      const socket = connect(RPCBIND_SOCKET);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (live) throw new Error(`something answers on ${RPCBIND_SOCKET} (a system rpcbind?): ${STOP_RPCBIND}`);
  }
}
