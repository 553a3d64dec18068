/**
 * `once proxy`: its usage errors, and runs in front of the date service
 * over TCP and UDP that print where they listen, pass calls (or lose them),
 * stop on SIGTERM and print their counts.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { createClient, formatAddress, RpcError } from "once-rpc";
import { repoPath } from "../support/paths.js";
import { type CountingDateServer, DateProgV2, startDateServer } from "./support.js";

const once = repoPath("dist/src/cli/main.js");

let date: CountingDateServer;
before(async () => {
  date = await startDateServer();
});
after(async () => {
  await date.server.close();
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [once, ...args],
      { encoding: "utf8", timeout: 20_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
  });
}

/** Starts `once proxy ARGS`; resolves with the child and its first line once it has printed it. */
async function start(args: string[]) {
  const child = spawn(process.execPath, [once, "proxy", ...args]);
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
  });
  const first = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      if (out.includes("\n")) {
        child.stdout.off("data", onData);
        resolve(out.slice(0, out.indexOf("\n")));
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code} before printing`)));
  });
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; out: string }> => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill(signal);
    return { code: await exited, out };
  };
  return { child, first, stop };
}

test("a command line that makes no sense exits with 2", async () => {
  const target = `127.0.0.1:${(date.tcp as { port: number }).port}`;
  const commandLines = [
    [],
    ["--listen", "127.0.0.1:0"],
    ["--target", target],
    ["--listen", "nowhere", "--target", target],
    ["--listen", "127.0.0.1:0", "--target", target, "--drop", "1.5"],
    ["--listen", "127.0.0.1:0", "--target", target, "--dup", "abc"],
    ["--listen", "127.0.0.1:0", "--target", target, "--delay", "-3"],
    ["--listen", "127.0.0.1:0", "--target", target, "--seed", "4294967296"],
    ["--listen", "127.0.0.1:0", "--target", target, "--direction", "sideways"],
    ["--listen", "127.0.0.1:0", "--target", "udp://127.0.0.1:1"],
    ["--udp", "--listen", "127.0.0.1:0", "--target", "tcp://127.0.0.1:1"],
    ["--listen", "127.0.0.1:0", "--target", target, "extra"],
  ];
  const results = await Promise.all(commandLines.map((args) => run(["proxy", ...args])));
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${commandLines[i].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^once proxy: /);
  });
});

test("tcp: prints where it listens and its seed, relays calls, stops on SIGTERM with its counts", async () => {
  const target = formatAddress(date.tcp);
  const proxy = await start([
    "--listen",
    "127.0.0.1:0",
    "--target",
    target.slice("tcp://".length),
    "--seed",
    "77",
  ]);
  let stopped = false;
  try {
    const m = /^proxying tcp:\/\/127\.0\.0\.1:(\d+) -> (\S+) \(seed 77\)$/.exec(proxy.first);
    assert.ok(m, proxy.first);
    assert.equal(m[2], target);
    const client = createClient(DateProgV2, `tcp://127.0.0.1:${m[1]}`, { timeoutMs: 5_000 });
    try {
      for (let i = 0; i < 5; i++) assert.equal(await client.now(), 42n);
    } finally {
      await client.$close();
    }
    const { code, out } = await proxy.stop();
    stopped = true;
    assert.equal(code, 0);
    assert.match(
      out,
      /^requests: seen 5, forwarded 5, dropped 0, duplicated 0, reordered 0, corrupted 0, discarded 0$/m,
    );
    assert.match(out, /^replies: {2}seen 5, forwarded 5, dropped 0/m);
    assert.match(out, /^flows: 1 opened; seed 77$/m);
  } finally {
    if (!stopped) proxy.child.kill("SIGKILL");
  }
});

test("udp: --drop 100% --direction request loses every call (TIMEOUT); SIGINT stops it too", async () => {
  const target = formatAddress(date.udp);
  const proxy = await start([
    "--udp",
    "--listen",
    "127.0.0.1:0",
    "--target",
    target,
    "--drop",
    "100%",
    "--direction",
    "request",
  ]);
  let stopped = false;
  try {
    const m = /^proxying udp:\/\/127\.0\.0\.1:(\d+) -> udp:\/\/\S+ \(seed (\d+)\)$/.exec(proxy.first);
    assert.ok(m, proxy.first);
    const client = createClient(DateProgV2, `udp://127.0.0.1:${m[1]}`, {
      timeoutMs: 300,
      retransmitInitialMs: 10_000,
    });
    try {
      await assert.rejects(client.now(), (e: unknown) => e instanceof RpcError && e.code === "TIMEOUT");
    } finally {
      client.$destroy();
    }
    const { code, out } = await proxy.stop("SIGINT");
    stopped = true;
    assert.equal(code, 0);
    assert.match(out, /^requests: seen 1, forwarded 0, dropped 1,/m);
    assert.match(out, /^replies: {2}seen 0,/m);
  } finally {
    if (!stopped) proxy.child.kill("SIGKILL");
  }
});
