/**
 * The Node servers of the RPC benchmark, in a process of their own so that
 * each side has its own event loop and core, as the C server has: once-rpc
 * (TCP and UDP), the floor's `net` echo and grpc-js, all on 127.0.0.1. Only
 * one of them is busy at a time (the benchmark times one row after another).
 *
 * Started by {@link startNodeServers} with child_process.fork; the child
 * reports its addresses over IPC and exits when the parent disconnects.
 */
import { fork } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createServer, formatAddress, silentLogger } from "once-rpc";
import { EchoProgV1 } from "../generated/echo.js";
import { startFloorServer } from "./floor.js";
import { startGrpcServer } from "./grpc.js";

/** Where the servers listen. */
export interface NodeServerAddresses {
  /** once-rpc over TCP: `tcp://127.0.0.1:PORT`. */
  readonly onceTcp: string;
  /** once-rpc over UDP: `udp://127.0.0.1:PORT`. */
  readonly onceUdp: string;
  /** The floor's length-prefixed echo. */
  readonly floorPort: number;
  /** grpc-js. */
  readonly grpcPort: number;
}

/** The running server process. */
export interface NodeServers extends NodeServerAddresses {
  /** Ends the process and waits for it. */
  stop(): Promise<void>;
}

/** Forks this module and resolves with the addresses the child reports. */
export async function startNodeServers(): Promise<NodeServers> {
  // The child inherits process.execArgv, so `node --cpu-prof` profiles the servers too.
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const addresses = await new Promise<NodeServerAddresses>((resolve, reject) => {
    child.once("message", (m) => resolve(m as NodeServerAddresses));
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`the Node servers exited (code ${code}) before listening`)),
    );
  });
  child.removeAllListeners("exit");
  return {
    ...addresses,
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  // idleTimeoutMs 0: a connection idle while other rows are timed stays open.
  const once = createServer({ logger: silentLogger, idleTimeoutMs: 0 });
  once.addProgram(EchoProgV1, { small: (args) => args, bulk: (args) => args });
  const onceTcp = formatAddress(await once.listen("tcp://127.0.0.1:0"));
  const onceUdp = formatAddress(await once.listen("udp://127.0.0.1:0"));
  const floor = await startFloorServer();
  const grpc = await startGrpcServer();
  process.once("disconnect", () => {
    void once.destroy();
    floor.server.close();
    grpc.server.forceShutdown();
    // Whatever is left open (a client's socket) must not keep the process alive.
    setTimeout(() => process.exit(0), 200).unref();
  });
  const addresses: NodeServerAddresses = { onceTcp, onceUdp, floorPort: floor.port, grpcPort: grpc.port };
  process.send?.(addresses);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await serve();
