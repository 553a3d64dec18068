/**
 * Side by side with Debian's rpcbind: the same registrations are made, the
 * same questions asked (rpcinfo in several forms, the libtirpc client, and
 * our typed clients for answers rpcinfo does not print), first of
 * /usr/sbin/rpcbind on port 111, then of our binder there; the answers must
 * be the same. The binders' own entries (program 100000) are left out: rpcbind
 * listens on every IPv4 and IPv6 address, ours in this test on 127.0.0.1 and
 * the Unix socket.
 *
 * Holds the port-111 lock; runs the two binders one after the other. Never
 * skipped: rpcbind is installed by .ci/run. SHOW_PARITY=1 prints rpcbind's
 * answers.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  createClient,
  createServer,
  isRpcError,
  ProgramMismatchError,
  type Server,
  silentLogger,
  xdrInt,
} from "once-rpc";
import { createBinder, PmapProgV2, RpcbprogV3, RpcbprogV4, registerServer } from "once-rpc/binder";
import {
  buildCBinderPeers,
  PROBE_PROG,
  rpcinfo,
  runProbeClient,
  startDebianRpcbind,
} from "../support/c-binder-peers.js";
import { acquirePort111, type ReleasePort111, RPCBIND_SOCKET } from "../support/port-111.js";

const P2 = PROBE_PROG + 2;
const PROG = String(PROBE_PROG);

let release: ReleasePort111 | undefined;
let ts: Server;

before(async () => {
  release = await acquirePort111();
  await buildCBinderPeers();
  ts = createServer({ logger: silentLogger });
  for (const version of [1, 2] as const) {
    ts.addProgram(
      {
        programName: "PROBE_PROG",
        program: PROBE_PROG,
        versionName: `PROBE_V${version}`,
        version,
        procedures: { add: { name: "PROBE_ADD", number: 1, args: xdrInt, result: xdrInt } },
      } as const,
      { add: (n) => n + 1000 },
    );
  }
  await ts.listen("tcp://127.0.0.1:0");
  await ts.listen("udp://127.0.0.1:0");
});

after(async () => {
  await ts?.close();
  release?.();
});

const rpcb = (r_prog: number, r_vers: number, r_netid = "", r_addr = "", r_owner = "0") => ({
  r_prog,
  r_vers,
  r_netid,
  r_addr,
  r_owner,
});

/** An answer, or the code of the error it was. */
async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    return JSON.parse(
      JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v)),
    );
  } catch (error) {
    if (!isRpcError(error)) throw error;
    const range = error instanceof ProgramMismatchError ? ` ${error.low}..${error.high}` : "";
    return `${error.code}${"authStat" in error ? ` ${error.authStat}` : ""}${range}`;
  }
}

/** Lines of rpcinfo's output without the binder's own entries. */
const withoutOwn = (text: string) =>
  text
    .split("\n")
    .filter((line) => !/^\s*100000\s/.test(line))
    .join("\n");

/** The registrations and questions, asked of whichever binder is on port 111. */
async function scenario(): Promise<Record<string, unknown>> {
  const local = createClient(RpcbprogV3, `unix://${RPCBIND_SOCKET}`);
  const overTcp = createClient(RpcbprogV3, "tcp://127.0.0.1:111");
  const v4Udp = createClient(RpcbprogV4, "udp://127.0.0.1:111", { timeoutMs: 5000 });
  const v4Tcp = createClient(RpcbprogV4, "tcp://127.0.0.1:111");
  const v4Local = createClient(RpcbprogV4, `unix://${RPCBIND_SOCKET}`);
  const pmap = createClient(PmapProgV2, "udp://127.0.0.1:111", { timeoutMs: 5000 });
  const out: Record<string, unknown> = {};
  try {
    const registered = await registerServer(ts, { binder: `unix://${RPCBIND_SOCKET}` });
    out.sets = [
      await outcome(local.set(rpcb(P2, 1, "tcp6", "::1.4.5"))),
      await outcome(local.set(rpcb(P2, 1, "local", "/run/p2.sock"))),
      await outcome(local.set(rpcb(P2, 2, "udp", "0.0.0.0.4.4"))),
      await outcome(local.set(rpcb(P2, 3, "foo", "whatever"))),
      await outcome(overTcp.set(rpcb(P2, 4, "tcp", "127.0.0.1.4.6"))),
      await outcome(overTcp.set(rpcb(P2, 4, "tcp", "127.0.0.1.4.7"))),
      await outcome(pmap.set({ prog: P2, vers: 5, prot: 6, port: 1031 })),
      await outcome(pmap.set({ prog: P2, vers: 5, prot: 99, port: 1031 })),
    ];
    out.unsets = [
      await outcome(overTcp.unset(rpcb(P2, 2))),
      await outcome(pmap.unset({ prog: P2, vers: 5, prot: 0, port: 0 })),
    ];
    for (const args of [["-p", "127.0.0.1"], ["-s", "127.0.0.1"], ["127.0.0.1"], ["-s"], ["-p"]]) {
      const r = await rpcinfo(args);
      out[`rpcinfo ${args.join(" ")}`] = { ...r, stdout: withoutOwn(r.stdout) };
    }
    for (const args of [
      ["-l", "127.0.0.1", PROG, "1"],
      ["-T", "tcp", "127.0.0.1", PROG],
      ["-T", "udp", "127.0.0.1", PROG, "2"],
      ["-T", "udp", "127.0.0.1", String(P2 + 9), "1"],
      ["-t", "127.0.0.1", PROG],
      ["-u", "127.0.0.1", PROG, "1"],
      ["-a", "127.0.0.1.0.111", "-T", "tcp", "100000", "4"],
    ]) {
      out[`rpcinfo ${args.join(" ")}`] = await rpcinfo(args);
    }
    for (const nettype of ["tcp", "udp"])
      out[`clnt_create ${nettype}`] = await runProbeClient("127.0.0.1", 2, nettype, 7);
    out.getaddr = [
      await outcome(overTcp.getaddr(rpcb(PROBE_PROG, 1, "udp"))),
      await outcome(overTcp.getaddr(rpcb(P2, 9))),
      await outcome(v4Udp.getaddr(rpcb(P2, 9))),
      await outcome(v4Udp.getversaddr(rpcb(P2, 9))),
      await outcome(v4Local.getaddr(rpcb(P2, 1))),
      await outcome(v4Tcp.getaddrlist(rpcb(PROBE_PROG, 2))),
      await outcome(v4Local.getaddrlist(rpcb(P2, 1))),
      await outcome(pmap.getport({ prog: P2, vers: 9, prot: 6, port: 0 })),
      await outcome(pmap.getport({ prog: P2, vers: 9, prot: 17, port: 0 })),
    ];
    out.conversions = [
      await outcome(overTcp.uaddr2taddr("127.0.0.1.4.1")),
      await outcome(overTcp.uaddr2taddr("nonsense")),
      await outcome(local.uaddr2taddr("/tmp/x")),
      await outcome(
        overTcp.taddr2uaddr({ maxlen: 16, buf: Buffer.from("020004017f0000010000000000000000", "hex") }),
      ),
      await outcome(overTcp.taddr2uaddr({ maxlen: 16, buf: new Uint8Array([2, 0, 1]) })),
      await outcome(overTcp.taddr2uaddr({ maxlen: 0, buf: new Uint8Array(3) })),
    ];
    out.indirect = [
      await outcome(v4Udp.indirect({ prog: P2 + 9, vers: 1, proc: 1, args: new Uint8Array(4) })),
      await outcome(v4Udp.indirect({ prog: 100000, vers: 2, proc: 4, args: new Uint8Array() })),
      // A version not registered: PROG_MISMATCH with the versions registered on udp.
      await outcome(v4Udp.indirect({ prog: PROBE_PROG, vers: 5, proc: 1, args: new Uint8Array(4) })),
    ];
    out["rpcinfo -m"] = await rpcinfo(["-m", "127.0.0.1"]);
    await registered.unregister();
    for (const v of [1, 2, 3, 4, 5]) await local.unset(rpcb(P2, v));
    out.after = withoutOwn((await rpcinfo(["127.0.0.1"])).stdout);
  } finally {
    for (const c of [local, overTcp, v4Udp, v4Tcp, v4Local, pmap]) c.$destroy();
  }
  return out;
}

test("our binder answers as Debian's rpcbind does", async () => {
  const rpcbind = await startDebianRpcbind();
  let theirs: Record<string, unknown>;
  try {
    theirs = await scenario();
  } finally {
    await rpcbind.stop();
  }
  // Debian's rpcbind forwards no remote calls without -r: ours is told the same here.
  const binder = createBinder({ remoteCalls: false, server: { logger: silentLogger } });
  let ours: Record<string, unknown>;
  try {
    for (const address of ["tcp://127.0.0.1:111", "udp://127.0.0.1:111", `unix://${RPCBIND_SOCKET}`]) {
      await binder.listen(address);
    }
    ours = await scenario();
  } finally {
    await binder.close();
  }
  if (process.env.SHOW_PARITY) console.log(JSON.stringify(theirs, null, 1));
  for (const key of Object.keys(theirs)) assert.deepEqual(ours[key], theirs[key], key);
  assert.deepEqual(Object.keys(ours), Object.keys(theirs));
  // A sanity check that the scenario saw something.
  assert.match(String((theirs["rpcinfo -p 127.0.0.1"] as { stdout: string }).stdout), new RegExp(PROG));
});
