/**
 * The Node servers of the RPC benchmark, each in a process of its own, as
 * the C server is: once-rpc (TCP and UDP), the floor's `net` echo, grpc-js,
 * all on 127.0.0.1. Each has its own event loop, heap and core to run on;
 * only one is busy at a time (the benchmark times one row after another).
 *
 * {@link startNodeServer} forks this module with the server's kind; the
 * child reports where it listens over IPC and exits when the parent
 * disconnects.
 */
import { fork } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createServer, formatAddress, silentLogger } from "once-rpc";
import { EchoProgV1 } from "../generated/echo.js";
import { startFloorServer } from "./floor.js";
import { startGrpcServer } from "./grpc.js";

/** The servers there are. */
export type NodeServerKind = "once-rpc" | "floor" | "grpc";

/** Where a server listens. */
export interface NodeServerAddresses {
  /** once-rpc: `tcp://127.0.0.1:PORT`; the others: empty. */
  readonly tcp: string;
  /** once-rpc: `udp://127.0.0.1:PORT`; the others: empty. */
  readonly udp: string;
  /** The TCP port. */
  readonly port: number;
}

/** A running server process. */
export interface NodeServer extends NodeServerAddresses {
  /** The server process's pid (to read its CPU time, or to attach a profiler). */
  readonly pid: number;
  /** Ends the process and waits for it. */
  stop(): Promise<void>;
}

/** Forks this module to run one server and resolves with where it listens. */
export async function startNodeServer(kind: NodeServerKind): Promise<NodeServer> {
  // The child inherits process.execArgv, so `node --cpu-prof` profiles the servers too.
  const child = fork(fileURLToPath(import.meta.url), [kind], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let onExit = (_code: number | null) => {};
  const addresses = await new Promise<NodeServerAddresses>((resolve, reject) => {
    onExit = (code) => reject(new Error(`the ${kind} server exited (code ${code}) before listening`));
    child.once("message", (m) => resolve(m as NodeServerAddresses));
    child.once("error", reject);
    child.once("exit", onExit);
  }).finally(() => child.off("exit", onExit));
  return {
    ...addresses,
    pid: child.pid ?? 0,
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

async function serve(kind: NodeServerKind): Promise<void> {
  let addresses: NodeServerAddresses;
  let stop: () => unknown;
  if (kind === "once-rpc") {
    // idleTimeoutMs 0: a connection idle while other rows are timed stays open.
    const server = createServer({ logger: silentLogger, idleTimeoutMs: 0 });
    server.addProgram(EchoProgV1, { small: (args) => args, bulk: (args) => args });
    const tcp = await server.listen("tcp://127.0.0.1:0");
    const udp = formatAddress(await server.listen("udp://127.0.0.1:0"));
    addresses = { tcp: formatAddress(tcp), udp, port: tcp.protocol === "unix" ? 0 : tcp.port };
    stop = () => server.destroy();
  } else if (kind === "floor") {
    const floor = await startFloorServer();
    addresses = { tcp: "", udp: "", port: floor.port };
    stop = () => floor.server.close();
  } else if (kind === "grpc") {
    const grpc = await startGrpcServer();
    addresses = { tcp: "", udp: "", port: grpc.port };
    stop = () => grpc.server.forceShutdown();
  } else {
    throw new Error(`no server '${String(kind)}'`);
  }
  process.once("disconnect", () => {
    void stop();
    // Whatever is left open (a client's socket) must not keep the process alive.
    setTimeout(() => process.exit(0), 200).unref();
  });
  process.send?.(addresses);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href)
  await serve(process.argv[2] as NodeServerKind);
