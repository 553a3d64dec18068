/**
 * interop.x served in TypeScript: the same procedures as the C server of
 * test/fixtures/interop/server.c, on createServer, for the interop tests in
 * which C programs (the C client, rpcinfo) call us.
 */
import {
  type CallContext,
  createServer,
  type InetAddress,
  type Logger,
  type Server,
  type ServerOptions,
} from "once-rpc";
import { InteropProgV1, InteropProgV2, MAX_BLOB } from "../fixtures/interop/gen/interop.js";
import { interopPattern, interopSum } from "../support/c-rpc-peers.js";

/** One message given to the server's logger. */
export interface LogEntry {
  readonly level: "warn" | "error";
  readonly message: string;
  readonly details: Record<string, unknown> | undefined;
}

/** A running TypeScript server of interop.x v1 and v2 on 127.0.0.1. */
export interface InteropService {
  readonly server: Server;
  readonly tcp: InetAddress;
  readonly udp: InetAddress;
  /** What the server logged, in order. */
  readonly logs: LogEntry[];
  /** The context of every call a handler served, in order. */
  readonly contexts: CallContext[];
}

const U64 = (1n << 64n) - 1n;

/**
 * Starts a server of INTEROP_PROG versions 1 and 2 on TCP and UDP (ports 0),
 * with a logger that keeps what it is told. The handlers do what server.c
 * does, except that INTEROP_BLOB throws (a RangeError) past MAX_BLOB, so that
 * a handler's exception can be seen from C as SYSTEM_ERR.
 */
export async function startInteropService(options: ServerOptions = {}): Promise<InteropService> {
  const logs: LogEntry[] = [];
  const contexts: CallContext[] = [];
  const logger: Logger = {
    warn: (message, details) => logs.push({ level: "warn", message, details }),
    error: (message, details) => logs.push({ level: "error", message, details }),
  };
  // One counter for both versions and transports, as in server.c; unsigned hyper wraps mod 2^64.
  let counter = 0n;
  const increment = (n: number, ctx: CallContext): bigint => {
    contexts.push(ctx);
    counter = (counter + BigInt(n)) & U64;
    return counter;
  };
  const server = createServer({ ...options, logger });
  server.addProgram(InteropProgV1, {
    echo: (args, ctx) => {
      contexts.push(ctx);
      return args;
    },
    increment,
    sleep: (ms, ctx) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => resolve(ms), ms);
        // The caller went away: stop waiting (there is no one to answer).
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      }),
    blob: (n) => {
      if (n > MAX_BLOB) throw new RangeError(`a blob of ${n} bytes is longer than MAX_BLOB (${MAX_BLOB})`);
      return interopPattern(n);
    },
    checksum: (bytes) => interopSum(bytes),
  });
  server.addProgram(InteropProgV2, { increment });
  const tcp = await server.listen("tcp://127.0.0.1:0");
  const udp = await server.listen("udp://127.0.0.1:0");
  if (tcp.protocol === "unix" || udp.protocol === "unix") throw new Error("an inet address was expected");
  return { server, tcp, udp, logs, contexts };
}
