/**
 * Interop the other way round (issue 4, item 2): once-rpc servers register
 * with Debian's rpcbind, not ours. A TypeScript server's registerServer()
 * registers PROBE_PROG versions 1 and 2 over TCP and UDP with
 * /usr/sbin/rpcbind, through /run/rpcbind.sock and through
 * tcp://127.0.0.1:111; `rpcinfo -p` and `rpcinfo -s` list it, `rpcinfo -T`
 * pings it, the libtirpc client (clnt_create with "tcp" and "udp") finds it
 * through rpcbind and calls it; unregister() removes it all.
 *
 * Starts rpcbind itself (as the parity test does) and stops it at the end;
 * holds the port-111 lock of test/support/port-111.ts. Never skipped: rpcbind
 * is installed by .ci/run.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createServer, type InetAddress, type Server, silentLogger, xdrInt } from "once-rpc";
import { registerServer } from "once-rpc/binder";
import {
  buildCBinderPeers,
  type Child,
  PROBE_PROG,
  rpcinfo,
  runProbeClient,
  startDebianRpcbind,
} from "../support/c-binder-peers.js";
import { acquirePort111, type ReleasePort111, RPCBIND_SOCKET } from "../support/port-111.js";

/** probe.x in TypeScript: PROBE_ADD answers n + 1000 (a C server would answer n + 1). */
const probe = (version: 1 | 2) =>
  ({
    programName: "PROBE_PROG",
    program: PROBE_PROG,
    versionName: `PROBE_V${version}`,
    version,
    procedures: { add: { name: "PROBE_ADD", number: 1, args: xdrInt, result: xdrInt } },
  }) as const;

const PROG = String(PROBE_PROG);

/** rpcinfo -p's row: %10ld%5ld%6s%7ld. */
const pRow = (vers: number, proto: string, port: number) =>
  `${PROG.padStart(10)}${String(vers).padStart(5)}${proto.padStart(6)}${String(port).padStart(7)}`;

/** rpcinfo -s's row. */
const sRow = (versions: string, netids: string, owner: string) =>
  `${PROG.padStart(10)}  ${versions.padEnd(10)}${netids.padEnd(33)}${"-".padEnd(12)}${owner}`;

/** The lines of rpcinfo's output about PROBE_PROG (rpcbind's own entries, on every address it has, left out). */
const probeLines = (stdout: string) =>
  stdout.split("\n").filter((line) => line.trimStart().startsWith(`${PROG} `));

let release: ReleasePort111 | undefined;
let rpcbind: Child | undefined;
let ts: Server;
let tsTcp: InetAddress;
let tsUdp: InetAddress;

before(async () => {
  release = await acquirePort111();
  await buildCBinderPeers();
  rpcbind = await startDebianRpcbind();
  ts = createServer({ logger: silentLogger });
  ts.addProgram(probe(1), { add: (n) => n + 1000 });
  ts.addProgram(probe(2), { add: (n) => n + 1000 });
  tsTcp = (await ts.listen("tcp://127.0.0.1:0")) as InetAddress;
  tsUdp = (await ts.listen("udp://127.0.0.1:0")) as InetAddress;
});

after(async () => {
  await ts?.close();
  await rpcbind?.stop();
  release?.();
});

// rpcbind takes the owner from the kernel on its Unix socket (root: superuser); over TCP it cannot: unknown.
for (const [binder, owner] of [
  [`unix://${RPCBIND_SOCKET}`, "superuser"],
  ["tcp://127.0.0.1:111", "unknown"],
] as const) {
  describe(`registerServer() with Debian's rpcbind through ${binder}`, () => {
    test("rpcinfo lists it, libtirpc's clnt_create finds it and calls it, unregister() removes it", async () => {
      const registered = await registerServer(ts, { binder });
      try {
        assert.deepEqual(
          registered.registrations.map((r) => `${r.program} v${r.version} ${r.netid} ${r.address}`),
          [1, 2].flatMap((v) => [
            `${PROG} v${v} tcp 127.0.0.1.${tsTcp.port >> 8}.${tsTcp.port & 255}`,
            `${PROG} v${v} udp 127.0.0.1.${tsUdp.port >> 8}.${tsUdp.port & 255}`,
          ]),
        );

        const p = await rpcinfo(["-p", "127.0.0.1"]);
        assert.equal(p.code, 0, p.stderr);
        assert.deepEqual(probeLines(p.stdout), [
          pRow(1, "tcp", tsTcp.port),
          pRow(1, "udp", tsUdp.port),
          pRow(2, "tcp", tsTcp.port),
          pRow(2, "udp", tsUdp.port),
        ]);
        const s = await rpcinfo(["-s", "127.0.0.1"]);
        assert.equal(s.code, 0, s.stderr);
        assert.deepEqual(probeLines(s.stdout), [sRow("2,1", "udp,tcp", owner)]);

        // rpcinfo asks rpcbind for the address, then calls the server's NULL procedure.
        for (const protocol of ["tcp", "udp"]) {
          assert.deepEqual(await rpcinfo(["-T", protocol, "127.0.0.1", PROG]), {
            code: 0,
            stdout: `program ${PROG} version 1 ready and waiting\nprogram ${PROG} version 2 ready and waiting\n`,
            stderr: "",
          });
        }
        // libtirpc's clnt_create asks rpcbind (GETADDR), then calls PROBE_ADD on the TypeScript server.
        for (const nettype of ["tcp", "udp"]) {
          for (const version of [1, 2]) {
            const r = await runProbeClient("127.0.0.1", version, nettype, 5);
            assert.deepEqual(r, { code: 0, stdout: "ok 1005\n", stderr: "" }, `${nettype} v${version}`);
          }
        }
      } finally {
        await registered.unregister();
      }

      const p = await rpcinfo(["-p", "127.0.0.1"]);
      assert.equal(p.code, 0, p.stderr);
      assert.deepEqual(probeLines(p.stdout), [], "rpcinfo -p lists nothing of PROBE_PROG after unregister()");
      const s = await rpcinfo(["-s", "127.0.0.1"]);
      assert.deepEqual(probeLines(s.stdout), [], "rpcinfo -s neither");
      const gone = await runProbeClient("127.0.0.1", 1, "tcp", 5);
      assert.equal(gone.code, 2);
      assert.match(gone.stdout, /^error clnt_create: RPC: Program not registered/);
    });
  });
}
