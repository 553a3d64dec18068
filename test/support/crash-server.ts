/**
 * A server in a child process that a test can kill with SIGKILL at a chosen
 * moment of a call — before the call's effect or after it, before the reply —
 * and start again on the same port. Its one procedure, RUN(n), appends n to a
 * file (fsync'ed) as its effect, so the test counts how often each call ran
 * across the crash. With `storePath`, it keeps exactly-once completion
 * records in a SQLite store there, and an exactly-once call's effect is a
 * row of that database, committed with its record (`runsInStore`).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { type ProgramVersionDescriptor, type SqliteDatabaseConstructor, xdrInt } from "once-rpc";
import { repoPath } from "./paths.js";

/** CRASH_PROG v1 RUN(n) = n, after appending n to the effects file. */
export const CrashProgV1 = {
  programName: "CRASH_PROG",
  program: 0x2000_0e20,
  versionName: "CRASH_V1",
  version: 1,
  procedures: { run: { name: "CRASH_RUN", number: 1, args: xdrInt, result: xdrInt } },
} as const satisfies ProgramVersionDescriptor;

const CHILD = `
const [serverUrl, protocol, port, effects, holdBeforeMs, holdAfterMs, storePath] = process.argv.slice(1);
const { createServer, createSqliteCompletionStore, silentLogger, xdrInt } = await import(serverUrl);
const { appendFileSync, openSync, fsyncSync, closeSync } = await import("node:fs");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// With a store, the effect is a row written with the completion record (exactly-once); else a line in a file.
const store = storePath ? createSqliteCompletionStore({ path: storePath, synchronous: "normal" }) : undefined;
store?.database.exec("CREATE TABLE IF NOT EXISTS runs (n INTEGER)");
const effect = (n) => {
  const fd = openSync(effects, "a");
  appendFileSync(fd, n + "\\n");
  fsyncSync(fd);
  closeSync(fd);
};
const server = createServer({ logger: silentLogger, completionStore: store }).addProgram(
  { programName: "CRASH_PROG", program: ${CrashProgV1.program}, versionName: "CRASH_V1", version: 1,
    procedures: { run: { name: "CRASH_RUN", number: 1, args: xdrInt, result: xdrInt } } },
  { run: async (n, ctx) => {
      process.stdout.write("started " + n + "\\n");
      await sleep(Number(holdBeforeMs));
      if (ctx.semantics === "exactly-once") {
        // What commit's function returns is the reply it records: the call's result.
        ctx.commit((db) => {
          db.prepare("INSERT INTO runs (n) VALUES (?)").run(n);
          return n;
        });
      } else {
        effect(n);
      }
      process.stdout.write("ran " + n + "\\n");
      await sleep(Number(holdAfterMs));
      return n;
    } },
);
const address = await server.listen(protocol + "://127.0.0.1:" + port);
process.stdout.write("listening " + address.port + "\\n");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

/** Options of startCrashServer. */
export interface CrashServerOptions {
  readonly protocol: "tcp" | "udp";
  /** 0 for any free port; the port of an earlier run to come back on it. */
  readonly port: number;
  /** Where each run of RUN(n) appends n. */
  readonly effectsFile: string;
  /** How long a call waits before its effect. */
  readonly holdBeforeMs?: number;
  /** How long a call waits after its effect, before its reply. */
  readonly holdAfterMs?: number;
  /** A SQLite completion store there: exactly-once calls write their effect as a row of it. */
  readonly storePath?: string;
}

/** A running crash server. */
export interface CrashServer {
  readonly port: number;
  readonly process: ChildProcessWithoutNullStreams;
  /** Resolves when the child prints `line` (e.g. "ran 7", "started 7"). */
  printed(line: string): Promise<void>;
  kill(): Promise<void>;
}

/** Starts the server and waits until it listens. */
export async function startCrashServer(options: CrashServerOptions): Promise<CrashServer> {
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      CHILD,
      pathToFileURL(repoPath("dist/src/index.js")).href,
      options.protocol,
      String(options.port),
      options.effectsFile,
      String(options.holdBeforeMs ?? 0),
      String(options.holdAfterMs ?? 0),
      options.storePath ?? "",
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  child.stdin.on("error", () => {});
  let out = "";
  let err = "";
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (out.split("\n").includes(waiters[i].line)) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    err = (err + chunk).slice(-4000);
  });
  const printed = (line: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.split("\n").includes(line)) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`the crash server did not print "${line}"; stderr:\n${err}`)),
        20_000,
      );
      waiters.push({
        line,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the crash server did not start; stderr:\n${err}`)),
      20_000,
    );
    const check = () => {
      const m = /listening (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the crash server exited (${code}); stderr:\n${err}`));
    });
  });
  return {
    port: listening,
    process: child,
    printed,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** How often each n was run, from the effects file. */
export function runsOf(effectsFile: string): Map<number, number> {
  const runs = new Map<number, number>();
  let text = "";
  try {
    text = readFileSync(effectsFile, "utf8");
  } catch {
    return runs;
  }
  for (const line of text.split("\n"))
    if (line !== "") runs.set(Number(line), (runs.get(Number(line)) ?? 0) + 1);
  return runs;
}

/** How often each n was run by exactly-once calls, from the store's database. */
export function runsInStore(storePath: string): Map<number, number> {
  const Database = createRequire(import.meta.url)("better-sqlite3") as SqliteDatabaseConstructor;
  const db = new Database(storePath);
  try {
    const rows = db.prepare("SELECT n, count(*) AS c FROM runs GROUP BY n").all() as Array<{
      n: number;
      c: number;
    }>;
    return new Map(rows.map((r) => [r.n, r.c]));
  } finally {
    db.close();
  }
}
