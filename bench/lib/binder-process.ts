/**
 * once-rpc's binder for the binder benchmark, in a process of its own as
 * Debian's rpcbind is: `createBinder` listening on TCP and UDP at
 * 127.0.0.1 on ports the system picks (rpcbind has port 111; the clients
 * are given each binder's port). The child reports its ports over IPC and
 * exits when the parent disconnects.
 */
import { fork } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { silentLogger } from "once-rpc";
import { createBinder } from "once-rpc/binder";

/** A running binder process. */
export interface BinderProcess {
  /** Its TCP and UDP port on 127.0.0.1. */
  readonly tcpPort: number;
  readonly udpPort: number;
  /** The process's pid (to pin it, or to attach a profiler). */
  readonly pid: number;
  /** Ends the process and waits for it. */
  stop(): Promise<void>;
}

interface Ports {
  readonly tcpPort: number;
  readonly udpPort: number;
}

/** Forks this module to run a binder and resolves with its ports. */
export async function startBinderProcess(): Promise<BinderProcess> {
  // The child inherits process.execArgv, so `node --cpu-prof` profiles it too.
  const child = fork(fileURLToPath(import.meta.url), ["serve"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let onExit = (_code: number | null) => {};
  const ports = await new Promise<Ports>((resolve, reject) => {
    onExit = (code) => reject(new Error(`the binder exited (code ${code}) before listening`));
    child.once("message", (m) => resolve(m as Ports));
    child.once("error", reject);
    child.once("exit", onExit);
  }).finally(() => child.off("exit", onExit));
  return {
    ...ports,
    pid: child.pid ?? 0,
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  // As `once binder` runs it, but quiet, and with idle connections kept while other rows are timed.
  const binder = createBinder({ server: { logger: silentLogger, idleTimeoutMs: 0 } });
  const tcp = await binder.listen("tcp://127.0.0.1:0");
  const udp = await binder.listen("udp://127.0.0.1:0");
  if (tcp.protocol === "unix" || udp.protocol === "unix")
    throw new Error("the binder listens on a Unix socket");
  process.once("disconnect", () => {
    void binder.destroy();
    setTimeout(() => process.exit(0), 200).unref();
  });
  process.send?.({ tcpPort: tcp.port, udpPort: udp.port } satisfies Ports);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href && process.argv[2] === "serve")
  await serve();
