/**
 * The bank of examples/bank in child processes, for the exactly-once proofs:
 * start its server or client, kill it with SIGKILL, and read the bank's file
 * to count how often each transfer ran.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import type { SqliteDatabase, SqliteDatabaseConstructor } from "once-rpc";

/** The children started, killed by `killAll` at the end of a test file. */
const children = new Set<ChildProcess>();

/** Kills every child still running. */
export function killAll(): void {
  for (const child of children) child.kill("SIGKILL");
}

/** Starts a child and collects its stdout lines; `until` resolves when a line matches. */
export function start(script: string, args: string[]) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const lines: string[] = [];
  let stderr = "";
  const waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let partial = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    until(match: (line: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${what} from ${script} within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        child.once("exit", (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`${script} exited (${code ?? signal}) before ${what}; stderr: ${stderr}`));
        });
      });
    },
  };
}

export async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** What the bank's file says: transfer rows per ref, and the balances. */
export function audit(db: SqliteDatabase): {
  rows: number;
  refs: number;
  maxRunsOfARef: number;
  maxRef: number;
  alice: bigint;
  bob: bigint;
} {
  const row = db
    .prepare(
      "SELECT count(*) AS rows, count(DISTINCT ref) AS refs, coalesce(max(ref), 0) AS maxRef FROM transfers",
    )
    .get() as { rows: number; refs: number; maxRef: number };
  const maxRunsOfARef =
    (db
      .prepare("SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM transfers GROUP BY ref)")
      .pluck()
      .get() as number) ?? 0;
  const balance = db.prepare("SELECT balance FROM accounts WHERE name = ?").pluck().safeIntegers();
  return { ...row, maxRunsOfARef, alice: balance.get("alice") as bigint, bob: balance.get("bob") as bigint };
}

/** Opens the bank's file and asserts that each of `calls` transfers ran exactly once and the balances add up. */
export function assertEachRanOnce(path: string, calls: number, start: bigint): void {
  const Database = createRequire(import.meta.url)("better-sqlite3") as SqliteDatabaseConstructor;
  const db = new Database(path);
  try {
    const a = audit(db);
    assert.equal(a.rows, calls, "one transfer row per call");
    assert.equal(a.refs, calls);
    assert.equal(a.maxRunsOfARef, 1, "no call ran twice");
    assert.equal(a.alice + a.bob, start, "the balances add up");
  } finally {
    db.close();
  }
}
