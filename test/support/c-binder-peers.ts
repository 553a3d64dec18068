/**
 * C peers of the binder interop tests, built at test time from
 * test/fixtures/binder (probe.x, procedures.c, svc-create-server.c,
 * client.c) with rpcgen and gcc against libtirpc:
 *
 * - `svc-create-server`: registers PROBE_PROG v1 and v2 with svc_create
 *   ("tcp", "udp": rpcb_set for tcp, tcp6, udp, udp6), prints
 *   "registered N", and on SIGTERM unregisters (svc_unreg, rpcb_unset);
 * - `rpcgen-server`: rpcgen's own main (`rpcgen -s udp -s tcp`), which
 *   registers through pmap_unset and svc_register (pmap_set);
 * - `client HOST VERSION NETTYPE N`: clnt_create through the binder, then
 *   PROBE_ADD(N); prints "ok RESULT" or "error WHAT".
 *
 * Also: running rpcinfo, and Debian's rpcbind itself for side-by-side runs.
 * Missing tools are an error, never a skip.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { copyFile, mkdtemp } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { checkCToolchain } from "./c-xdr-harness.js";
import { repoPath } from "./paths.js";

const run = promisify(execFile);

/** PROBE_PROG of probe.x. */
export const PROBE_PROG = 0x2000_0b20;

/** The built executables. */
export interface CBinderPeers {
  readonly dir: string;
  readonly svcCreateServer: string;
  readonly rpcgenServer: string;
  readonly client: string;
}

let built: Promise<CBinderPeers> | null = null;

/** Builds the peers once per process, in a temporary directory removed at exit. */
export function buildCBinderPeers(): Promise<CBinderPeers> {
  if (built === null) {
    built = build();
    built.catch(() => {
      built = null;
    });
  }
  return built;
}

async function build(): Promise<CBinderPeers> {
  await checkCToolchain();
  const dir = await mkdtemp(join(tmpdir(), "once-c-binder-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  for (const file of ["probe.x", "procedures.c", "svc-create-server.c", "client.c"]) {
    await copyFile(repoPath("test", "fixtures", "binder", file), join(dir, file));
  }
  const rpcgen = async (args: string[]) => {
    try {
      await run("rpcgen", args, { cwd: dir });
    } catch (e) {
      throw new Error(`rpcgen ${args.join(" ")} failed:\n${(e as { stderr?: string }).stderr ?? e}`);
    }
  };
  await rpcgen(["-h", "-o", "probe.h", "probe.x"]);
  await rpcgen(["-c", "-o", "probe_xdr.c", "probe.x"]);
  await rpcgen(["-m", "-o", "probe_svc.c", "probe.x"]);
  await rpcgen(["-s", "udp", "-s", "tcp", "-o", "probe_main_svc.c", "probe.x"]);
  const gcc = async (exe: string, inputs: string[]) => {
    try {
      await run("gcc", ["-O1", "-w", "-I/usr/include/tirpc", "-I", dir, "-o", exe, ...inputs, "-ltirpc"], {
        cwd: dir,
      });
    } catch (e) {
      throw new Error(`gcc failed building ${exe}:\n${(e as { stderr?: string }).stderr ?? e}`);
    }
  };
  const peers = {
    dir,
    svcCreateServer: join(dir, "svc-create-server"),
    rpcgenServer: join(dir, "rpcgen-server"),
    client: join(dir, "client"),
  };
  await Promise.all([
    gcc(peers.svcCreateServer, ["svc-create-server.c", "probe_svc.c", "probe_xdr.c", "procedures.c"]),
    gcc(peers.rpcgenServer, ["probe_main_svc.c", "probe_xdr.c", "procedures.c"]),
    gcc(peers.client, ["client.c", "probe_xdr.c"]),
  ]);
  return peers;
}

/** How a program ended. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end; rejects if it cannot start or runs past `timeoutMs`. */
export function runProgram(file: string, args: string[], timeoutMs = 30_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") {
        reject(new Error(`${file} ${args.join(" ")} did not run: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

/** Runs /usr/sbin/rpcinfo (Debian's rpcbind package). */
export function rpcinfo(args: string[]): Promise<Ran> {
  return runProgram("/usr/sbin/rpcinfo", args);
}

/** Runs the C client: clnt_create(host, PROBE_PROG, version, nettype), then PROBE_ADD(n). */
export async function runProbeClient(
  host: string,
  version: number,
  nettype: string,
  n: number,
): Promise<Ran> {
  const peers = await buildCBinderPeers();
  return runProgram(peers.client, [host, String(version), nettype, String(n)]);
}

/** A child process and what it printed. */
export interface Child {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (default SIGTERM), SIGKILL after 3 s; resolves once it exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a program; with `ready`, resolves once its stdout matches (rejecting if it exits first or after 10 s). */
export async function startChild(file: string, args: string[], ready?: RegExp): Promise<Child> {
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  child.stderr?.on("data", (b: Buffer) => {
    err = (err + b.toString("utf8")).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const handle: Child = {
    process: child,
    stdout: () => out,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
      await exited;
    },
  };
  if (ready !== undefined) {
    const deadline = Date.now() + 10_000;
    while (!ready.test(out)) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        await handle.stop("SIGKILL");
        throw new Error(
          `${file} did not print ${ready} (exit ${child.exitCode}); stdout: ${out}\nstderr: ${err}`,
        );
      }
      await sleep(20);
    }
  }
  return handle;
}

/** Waits until `check` is true, polling; throws `message` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, message: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await sleep(25);
  }
}

/** The files Debian's rpcbind leaves behind: its socket, its lock, and its warm-start state. */
const RPCBIND_FILES = [
  "/run/rpcbind.sock",
  "/run/rpcbind.lock",
  "/run/rpcbind/rpcbind.xdr",
  "/run/rpcbind/portmap.xdr",
];

/**
 * Starts Debian's rpcbind in the foreground (`rpcbind -f`, no warm start),
 * waits until it answers on /run/rpcbind.sock. Hold the port-111 lock.
 * `stop()` ends it and removes the files it made that were not there before.
 */
export async function startDebianRpcbind(): Promise<Child> {
  const before = new Set(RPCBIND_FILES.filter((f) => existsSync(f)));
  const child = await startChild("/usr/sbin/rpcbind", ["-f"]);
  const answers = () =>
    new Promise<boolean>((resolve) => {
      const s = connect("/run/rpcbind.sock");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
  try {
    await waitFor(answers, `rpcbind to answer on /run/rpcbind.sock (stderr: ${child.stderr()})`);
  } catch (error) {
    await child.stop("SIGKILL");
    throw error;
  }
  return {
    ...child,
    async stop(signal?: NodeJS.Signals) {
      await child.stop(signal);
      for (const file of RPCBIND_FILES) if (!before.has(file)) rmSync(file, { force: true });
    },
  };
}
