/**
 * The C client of the binder benchmark (bench/c/lookup-client.c), compiled
 * with `gcc -O2 … -ltirpc` into a temporary directory when the run starts:
 * no binary is ever committed. It asks a binder for registered programs,
 * either through libtirpc's clnt_call one at a time or with hand-encoded
 * calls many in flight, and checks every answer.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { CallSample } from "./calls.js";
import type { LookupSpec } from "./lookup-client.js";

const run = promisify(execFile);

/** bench/ itself, from bench/dist/lib/. */
const BENCH_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** How the C client makes its calls. */
export type CLookupMode = "tirpc" | "raw";

/** Builds lookup-client; throws with gcc's output (and what to install) when it fails. */
export async function buildCLookupClient(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "once-bench-lookup-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  await copyFile(join(BENCH_ROOT, "c", "lookup-client.c"), join(dir, "lookup-client.c"));
  const exe = join(dir, "lookup-client");
  try {
    await run("gcc", ["-O2", "-w", "-I/usr/include/tirpc", "-o", exe, "lookup-client.c", "-ltirpc"], {
      cwd: dir,
    });
  } catch (e) {
    const err = e as { code?: unknown; stderr?: string; message?: string };
    const hint = err.code === "ENOENT" ? " (gcc is not installed; apt-get install gcc libtirpc-dev)" : "";
    throw new Error(`gcc lookup-client.c failed${hint}:\n${err.stderr || err.message || String(e)}`);
  }
  return exe;
}

/**
 * Runs the C client once against 127.0.0.1:`port`: `warmup` lookups
 * untimed, then `calls` timed, `inFlight` outstanding (`tirpc`: 1 only).
 * Rejects with its stderr when a call fails or an answer is wrong.
 */
export function runCLookups(
  exe: string,
  mode: CLookupMode,
  port: number,
  spec: LookupSpec,
  calls: number,
  warmup: number,
  inFlight: number,
): Promise<CallSample> {
  const args = [
    mode,
    String(port),
    spec.protocol,
    spec.procedure,
    String(spec.progBase),
    String(spec.count),
    String(spec.portBase),
    String(calls),
    String(warmup),
    String(inFlight),
  ];
  return new Promise((resolve, reject) => {
    execFile(exe, args, { timeout: 120_000 }, (error, stdout, stderr) => {
      const m = /^(\d+) (\d+) (\d+)\n$/.exec(stdout);
      if (error !== null || m === null) {
        reject(
          new Error(
            `lookup-client ${args.join(" ")} failed: ${error?.message ?? "bad output"}\n${stdout}${stderr}`,
          ),
        );
        return;
      }
      resolve({ calls, elapsedNs: Number(m[1]), p50Ns: Number(m[2]), p99Ns: Number(m[3]) });
    });
  });
}
