/**
 * C peers for RPC interop tests: a server and a client of
 * test/fixtures/interop/interop.x written against rpcgen's output and
 * libtirpc, the reference implementation of ONC RPC (RFC 5531).
 *
 * At test time, {@link buildCRpcPeers} runs `rpcgen -h`, `rpcgen -c` and
 * `rpcgen -m` on interop.x in a temporary directory and compiles
 * test/fixtures/interop/server.c and client.c with
 * `gcc -I/usr/include/tirpc … -ltirpc`, once per process.
 *
 * The server ({@link startCRpcServer}) listens on 127.0.0.1 over TCP and UDP,
 * serves versions 1 and 2 on both, and registers nothing with rpcbind: tests
 * reach it by the ports it prints. The client ({@link runCRpcClient}) makes
 * one call per run, on the port it is given, and prints one line:
 *
 *   ok null                    null
 *   ok <JSON>                  echo (the JSON: {@link C_ECHO_JSON})
 *   ok <n> <sum>               echo-big [n], blob n
 *   ok <total>                 increment n
 *   ok <ms>                    sleep ms
 *   ok <sum>                   checksum n
 *   ok proc <n>                proc n (void to void)
 *   ok garbage                 garbage (INTEROP_ECHO with no arguments)
 *   ok bad-args                bad-args (INTEROP_ECHO with a name of 2^32 - 1 bytes)
 *   error <clnt_stat> [extra]  any failed call, exit code 2; the extra is
 *                              "<low> <high>" for RPC_PROGVERSMISMATCH and
 *                              RPC_VERSMISMATCH, the auth_stat for RPC_AUTHERROR
 *
 * Data is the pattern byte i = (i * 7 + 3) & 255 ({@link interopPattern});
 * sums are of the bytes mod 2^32. A reply that differs from what was sent
 * prints its "ok" line and exits 3; a usage error exits 64. The format is
 * described in full at the top of client.c.
 *
 * Limits of these peers, measured with libtirpc 1.3.3 on Linux:
 * - TCP: records of any length (libtirpc's record stream reads fragment by
 *   fragment); both peers write a long record as fragments of 65532 bytes
 *   (their 64 KiB buffer less the 4-byte mark), so a 1 MiB echo is 17
 *   fragments each way. MAX_BLOB (2 MiB) works in both directions; a blob
 *   request beyond it is answered SYSTEM_ERR.
 * - UDP: one datagram each way, at most 65507 bytes of IPv4 payload: `blob`
 *   up to 65476 bytes (more gives RPC_SYSTEMERROR: the server cannot send
 *   the reply), `checksum` up to 65460 bytes (more gives RPC_CANTSEND or
 *   RPC_CANTENCODEARGS in the client), so `echo-big` does not fit.
 * - libtirpc's UDP server decodes arguments from its whole receive buffer,
 *   not just the datagram received: short arguments (`garbage`) may decode
 *   from zeros or an earlier datagram's bytes and succeed. `bad-args` is
 *   refused (GARBAGE_ARGS) over both transports.
 * - The server is single-threaded: INTEROP_SLEEP blocks every transport.
 *   Without `udpReplyCacheEntries`, each UDP retransmission of a call runs
 *   it again (a retried `sleep` blocks the server once per copy).
 *
 * Nothing is committed as a binary: the design requires C peers to be built
 * from source at test time. Missing tools are an error, never a skip.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { copyFile, mkdtemp } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { checkCToolchain } from "./c-xdr-harness.js";
import { repoPath } from "./paths.js";

const run = promisify(execFile);

/** test/fixtures/interop/interop.x: the service both C peers implement. */
export const INTEROP_X: string = repoPath("test", "fixtures", "interop", "interop.x");

/** The program number of interop.x (INTEROP_PROG). */
export const INTEROP_PROG = 0x2000_0101;

/** The compiled C peers. */
export interface CRpcPeers {
  /** The temporary directory of the build (removed when the process exits). */
  readonly dir: string;
  /** The server executable: `server [--udp-cache ENTRIES] [TCP_PORT [UDP_PORT]]`. */
  readonly serverPath: string;
  /** The client executable: `client HOST PORT tcp|udp VERSION COMMAND [ARG]`. */
  readonly clientPath: string;
}

let built: Promise<CRpcPeers> | null = null;

/**
 * Builds the C server and client from interop.x, server.c and client.c in a
 * fresh directory under os.tmpdir(). Memoized: every call in one process
 * answers the same build (a failed build is tried again on the next call).
 * Throws, with the tool's output, when gcc, rpcgen or libtirpc is missing or
 * a step fails.
 */
export function buildCRpcPeers(): Promise<CRpcPeers> {
  if (built === null) {
    built = build();
    built.catch(() => {
      built = null;
    });
  }
  return built;
}

async function build(): Promise<CRpcPeers> {
  await checkCToolchain();
  const dir = await mkdtemp(join(tmpdir(), "once-c-rpc-"));
  // The binaries serve the whole process; servers still running at exit may keep their (unlinked) files.
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const fixtures = repoPath("test", "fixtures", "interop");
  for (const file of ["interop.x", "server.c", "client.c"])
    await copyFile(join(fixtures, file), join(dir, file));
  // rpcgen writes `#include "interop.h"` (from its input's name), so it runs in `dir` on the copy.
  await rpcgen(dir, ["-h", "-o", "interop.h", "interop.x"]);
  await rpcgen(dir, ["-c", "-o", "interop_xdr.c", "interop.x"]);
  // -m: the dispatchers interop_prog_1 and interop_prog_2 without a main; server.c has the main.
  await rpcgen(dir, ["-m", "-o", "interop_svc.c", "interop.x"]);
  const serverPath = join(dir, "server");
  const clientPath = join(dir, "client");
  await Promise.all([
    gcc(dir, serverPath, ["server.c", "interop_svc.c", "interop_xdr.c", "-ltirpc", "-lpthread"]),
    gcc(dir, clientPath, ["client.c", "interop_xdr.c", "-ltirpc", "-lm"]),
  ]);
  return { dir, serverPath, clientPath };
}

async function rpcgen(cwd: string, args: string[]): Promise<void> {
  try {
    await run("rpcgen", args, { cwd });
  } catch (e) {
    throw new Error(`rpcgen ${args.join(" ")} failed:\n${stderrOf(e)}`);
  }
}

// -w: rpcgen's output draws warnings (unused variables, function casts) from gcc 12.
async function gcc(cwd: string, exe: string, inputs: string[]): Promise<void> {
  try {
    await run("gcc", ["-O1", "-g", "-w", "-I/usr/include/tirpc", "-I", cwd, "-o", exe, ...inputs], { cwd });
  } catch (e) {
    throw new Error(`gcc failed building ${exe} for the C RPC peers:\n${stderrOf(e)}`);
  }
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return err.stderr || err.message || String(e);
}

/** Options of {@link startCRpcServer}. */
export interface CRpcServerOptions {
  /** The TCP port on 127.0.0.1. Default 0: the kernel picks one. */
  readonly tcpPort?: number;
  /** The UDP port on 127.0.0.1. Default 0: the kernel picks one. */
  readonly udpPort?: number;
  /**
   * Entries of libtirpc's duplicate request cache on UDP
   * (`svc_dg_enablecache`), which answers a retransmission of an answered
   * call from the cache. Default 0: no cache, as libtirpc's default.
   */
  readonly udpReplyCacheEntries?: number;
  /** How long to wait for the server to print its ports. Default 10 000. */
  readonly startTimeoutMs?: number;
}

/** A running C server. */
export interface CRpcServer {
  /** The TCP port on 127.0.0.1. */
  readonly tcpPort: number;
  /** The UDP port on 127.0.0.1. */
  readonly udpPort: number;
  /** The child process. */
  readonly process: ChildProcessWithoutNullStreams;
  /** What the server wrote to stderr so far (its last 8000 characters). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 2000;
const STDERR_KEEP = 8000;

/**
 * Starts the C server on 127.0.0.1 (ports 0 unless given) and resolves with
 * the ports it printed. Rejects, with the server's stderr, when it exits or
 * prints nothing usable within `startTimeoutMs`. Once started, the child does
 * not keep the test process alive: a test that forgets {@link CRpcServer.stop}
 * still ends, and the server then exits as its stdin closes.
 */
export async function startCRpcServer(options: CRpcServerOptions = {}): Promise<CRpcServer> {
  const peers = await buildCRpcPeers();
  const args: string[] = [];
  if (options.udpReplyCacheEntries !== undefined && options.udpReplyCacheEntries > 0)
    args.push("--udp-cache", String(options.udpReplyCacheEntries));
  args.push(String(options.tcpPort ?? 0), String(options.udpPort ?? 0));
  const child = spawn(peers.serverPath, args, { cwd: peers.dir, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  // The server reads stdin only to see it close; a write error there just means it has gone.
  child.stdin.on("error", () => {});
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));

  const ports = await new Promise<{ tcp: number; udp: number }>((resolve, reject) => {
    let out = "";
    const fail = (why: string) => {
      cleanup();
      child.kill("SIGKILL");
      // Waits for the exit so the error carries everything the server wrote to stderr.
      void exited.then(() => reject(new Error(`C RPC server ${why}. stderr:\n${stderr || "(empty)"}`)));
    };
    const timer = setTimeout(
      () => fail(`printed no ports within ${options.startTimeoutMs ?? 10_000} ms`),
      options.startTimeoutMs ?? 10_000,
    );
    const onData = (chunk: Buffer) => {
      out += chunk.toString("utf8");
      // Two whole lines, or more text than two such lines can hold, settle it.
      if (out.split("\n").length < 3 && out.length < 64) return;
      const m = /^tcp (\d+)\nudp (\d+)\n/.exec(out);
      if (m !== null) {
        cleanup();
        resolve({ tcp: Number(m[1]), udp: Number(m[2]) });
      } else {
        fail(`printed ${JSON.stringify(out)} instead of its ports`);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`exited (code ${code}, signal ${signal}) before printing its ports`);
    const onError = (e: Error) => fail(`could not start (${peers.serverPath}): ${e.message}`);
    function cleanup() {
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    }
    child.stdout.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
  // Anything more the server prints is read and dropped, so it never blocks on a full pipe.
  child.stdout.resume();
  setRef(child, false);

  let stopping: Promise<void> | null = null;
  return {
    tcpPort: ports.tcp,
    udpPort: ports.udp,
    process: child,
    stderr: () => stderr,
    stop() {
      if (stopping === null) {
        stopping = (async () => {
          setRef(child, true);
          if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
            await exited;
            clearTimeout(timer);
          } else {
            await exited;
          }
        })();
      }
      return stopping;
    },
  };
}

/** Whether the child process and its pipes keep the event loop alive. */
function setRef(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as {
    ref?(): void;
    unref?(): void;
  }[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}

/** Arguments of {@link runCRpcClient}. */
export interface CRpcClientArgs {
  /** The server's address (a name or a numeric IPv4/IPv6 address). Default `127.0.0.1`. */
  readonly host?: string;
  readonly port: number;
  readonly protocol: "tcp" | "udp";
  /** The version of INTEROP_PROG the handle calls. Default 1. */
  readonly version?: number;
  /** null, echo, echo-big, increment, sleep, blob, checksum, proc, garbage or bad-args. */
  readonly command: string;
  readonly arg?: string | number;
  /** Kills the client and rejects after this long. Default 20 000 (the client itself gives up after 5 s per call). */
  readonly timeoutMs?: number;
}

/** How a run of the C client ended. */
export interface CRpcClientResult {
  /** The exit code: 0 ok, 2 RPC error, 3 reply differs, 64 usage; 128 + n if signal n ended it. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the C client once: `client HOST PORT PROTOCOL VERSION COMMAND [ARG]`.
 * Resolves with its exit code and output whatever the code; rejects only if
 * the client cannot start or is still running after `timeoutMs`.
 */
export async function runCRpcClient(args: CRpcClientArgs): Promise<CRpcClientResult> {
  const peers = await buildCRpcPeers();
  const argv = [
    args.host ?? "127.0.0.1",
    String(args.port),
    args.protocol,
    String(args.version ?? 1),
    args.command,
    ...(args.arg === undefined ? [] : [String(args.arg)]),
  ];
  const timeoutMs = args.timeoutMs ?? 20_000;
  return new Promise<CRpcClientResult>((resolve, reject) => {
    const child = spawn(peers.clientPath, argv, { cwd: peers.dir, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    child.stdout.on("data", (b: Buffer) => stdout.push(b));
    child.stderr.on("data", (b: Buffer) => stderr.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`C RPC client could not start (${peers.clientPath}): ${e.message}`));
    });
    // 'close' rather than 'exit': by then both pipes are drained.
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString("utf8");
      const err = Buffer.concat(stderr).toString("utf8");
      if (timedOut) {
        reject(
          new Error(
            `C RPC client ${argv.join(" ")} ran over ${timeoutMs} ms. stdout:\n${out}stderr:\n${err}`,
          ),
        );
        return;
      }
      resolve({
        code: code ?? 128 + (signal === null ? 0 : constants.signals[signal]),
        stdout: out,
        stderr: err,
      });
    });
  });
}

/** `n` bytes of the pattern both peers use: byte i = (i * 7 + 3) & 255. */
export function interopPattern(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 7 + 3) & 255;
  return bytes;
}

/** The sum of the bytes mod 2^32, as the peers print it. */
export function interopSum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) >>> 0;
  return sum;
}

/**
 * The echo argument of the C client (sample_args in client.c), as the JSON
 * its `echo` command prints after a faithful round trip, parsed. hyper
 * values are decimal strings, opaque data base64, floats as C printed them
 * with %.9g (so `Math.fround` of the number is the float that was sent).
 */
export const C_ECHO_JSON = {
  items: {
    name: "alpha",
    id: "-9223372036854775808",
    big: "18446744073709551615",
    weight: -1.5,
    ratio: 0.25,
    ok: true,
    tint: "RED",
    tag: "3q2+7w==",
    scores: [1, -2, 2147483647, -2147483648],
    origin: { x: -7, y: 42 },
    next: {
      name: "βeta ☃ 日本 🚀",
      id: "-9007199254740993",
      big: "9007199254740993",
      weight: Math.PI, // 3.141592653589793 in client.c
      ratio: -0.00100000005,
      ok: false,
      tint: "BLUE",
      tag: "AAECAw==",
      scores: [],
      origin: null,
      next: {
        name: 'say "hi"\t\\ \u0001',
        id: "9223372036854775807",
        big: "0",
        weight: 1e300,
        ratio: 3.40282347e38,
        ok: true,
        tint: "GREEN",
        tag: "/////w==",
        scores: [0],
        origin: null,
        next: null,
      },
    },
  },
  s: { kind: "RED", center: { x: 1, y: -2 } },
  data: Buffer.from(interopPattern(100)).toString("base64"),
} as const;
