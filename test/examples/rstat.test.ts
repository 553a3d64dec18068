/**
 * examples/rstat: rup.js against Debian's rpc.rstatd (package rstatd,
 * installed by .ci/run). rpc.rstatd registers with the portmapper on port
 * 111, so the test holds the port-111 lock, starts Debian's rpcbind, then
 * rpc.rstatd, and stops both at the end. rpc.rstatd detaches (it forks and
 * its parent exits), so its pid is found in /proc as the rpc.rstatd that was
 * not there before. Missing programs fail the test, never skip it.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type Child, rpcinfo, startDebianRpcbind, waitFor } from "../support/c-binder-peers.js";
import { repoPath } from "../support/paths.js";
import { acquirePort111, type ReleasePort111 } from "../support/port-111.js";

const run = promisify(execFile);
const RSTATD = "/usr/sbin/rpc.rstatd";

/** The live rpc.rstatd processes (zombies left out: they are gone, only not yet reaped). */
function rstatdPids(): Set<number> {
  const pids = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // it ended while we looked
    }
    // "pid (comm) state ...": comm may hold spaces or parentheses, so split at the last ")".
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const state = stat.slice(close + 2, close + 3);
    if (comm === "rpc.rstatd" && state !== "Z") pids.add(Number(entry));
  }
  return pids;
}

let release: ReleasePort111 | undefined;
let rpcbind: Child | undefined;
/** The rpc.rstatd processes this test started. */
const ours: number[] = [];

before(async () => {
  assert.ok(existsSync(RSTATD), `${RSTATD} is missing: apt-get install rstatd (.ci/run installs it)`);
  release = await acquirePort111();
  rpcbind = await startDebianRpcbind();
  const already = rstatdPids();
  // Started by hand rather than by inetd, it makes its own UDP socket and registers versions 1, 2, 3 (and 5).
  // Its stdio is not ours: the daemon it forks would hold our pipes open.
  const launcher = spawn(RSTATD, [], { stdio: "ignore" });
  const [code] = (await once(launcher, "exit")) as [number | null];
  assert.equal(code, 0, `${RSTATD} exited with ${code}`);
  await waitFor(() => [...rstatdPids()].some((pid) => !already.has(pid)), "rpc.rstatd to start");
  for (const pid of rstatdPids()) if (!already.has(pid)) ours.push(pid);
  await waitFor(
    async () => /^\s+100001\s+3\s+udp\s+\d+/m.test((await rpcinfo(["-p", "127.0.0.1"])).stdout),
    "rpc.rstatd to register RSTATPROG version 3 with rpcbind",
  );
});

after(async () => {
  for (const pid of ours) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  try {
    await waitFor(() => ours.every((pid) => !rstatdPids().has(pid)), "rpc.rstatd to exit", 5000);
  } catch {
    for (const pid of ours) if (rstatdPids().has(pid)) process.kill(pid, "SIGKILL");
  }
  await rpcbind?.stop();
  release?.();
});

test("the committed gen/rstat.ts is what once gen writes from /usr/include/rpcsvc/rstat.x", async () => {
  const { stdout } = await run(process.execPath, [
    repoPath("dist/src/cli/main.js"),
    "gen",
    "/usr/include/rpcsvc/rstat.x",
    "--stdout",
  ]);
  assert.equal(stdout, readFileSync(repoPath("examples/rstat/gen/rstat.ts"), "utf8"));
});

test("rup.js finds rpc.rstatd through the portmapper and prints its statistics", async (t) => {
  const { stdout, stderr } = await run(process.execPath, [repoPath("dist/examples/rstat/rup.js")], {
    timeout: 30_000,
  });
  t.diagnostic(`\n${stdout}`);
  assert.equal(stderr, "");
  const lines = stdout.trimEnd().split("\n");
  assert.equal(lines.length, 8, stdout);
  const port = Number(
    /^rpc\.rstatd on 127\.0\.0\.1 \(RSTATPROG v3 on udp port (\d+), found through/.exec(lines[0])?.[1],
  );
  const registered = /^\s+100001\s+3\s+udp\s+(\d+)/m.exec((await rpcinfo(["-p", "127.0.0.1"])).stdout)?.[1];
  assert.equal(port, Number(registered), "the port rpcinfo -p shows");

  const up =
    /^ {2}up (?:\d+ days?, )?(?:\d+:\d\d|\d+ min), load average (\d+\.\d\d), (\d+\.\d\d), (\d+\.\d\d)$/.exec(
      lines[1],
    );
  assert.ok(up, lines[1]);
  const cpu = /^ {2}cpu {8}user ([\d.]+)% {2}nice ([\d.]+)% {2}system ([\d.]+)% {2}idle ([\d.]+)%/.exec(
    lines[2],
  );
  assert.ok(cpu, lines[2]);
  const cpuTotal = cpu.slice(1).reduce((sum, v) => sum + Number(v), 0);
  assert.ok(Math.abs(cpuTotal - 100) < 0.5, `the CPU shares add up to 100%: ${lines[2]}`);
  assert.match(lines[3], /^ {2}memory {5}pages in \d+, out \d+; swapped in \d+, out \d+$/);
  assert.match(lines[4], /^ {2}kernel {5}interrupts \d+, context switches \d+$/);
  assert.match(
    lines[5],
    /^ {2}network {4}packets in -?\d+, out -?\d+; errors in -?\d+, out -?\d+; collisions -?\d+/,
  );
  assert.match(lines[6], /^ {2}disks {6}(transfers -?\d+, -?\d+, -?\d+, -?\d+|none reported)$/);
  const clock = /^ {2}clock {6}booted (\S+), now (\S+) \(the server's clock\)$/.exec(lines[7]);
  assert.ok(clock, lines[7]);
  const [booted, now] = [Date.parse(clock[1]), Date.parse(clock[2])];
  // Same machine, same clock: the server's "now" is ours, give or take the time the call took.
  assert.ok(Math.abs(now - Date.now()) < 300_000, `the server's clock ${clock[2]} is this machine's`);
  assert.ok(booted < now, "booted before now");
});
