/**
 * Interop on port 111: our binder where rpcbind would be (TCP and UDP on
 * 127.0.0.1:111, and /run/rpcbind.sock, where libtirpc looks first), with
 * Debian's rpcinfo and with libtirpc programs built from rpcgen output:
 * - rpcinfo -p, -s, -l, -m and the plain listing show what is registered, in
 *   rpcinfo's own formats, and rpcinfo -T tcp / -T udp / -t / -u find and
 *   ping a TypeScript server through the binder;
 * - a libtirpc server registers with svc_create (rpcb_set over the Unix
 *   socket) and unregisters with svc_unreg; rpcgen's own main registers
 *   with pmap_set;
 * - the libtirpc client (clnt_create with "tcp" and "udp") finds the
 *   TypeScript server through the binder and calls it.
 *
 * Needs root and port 111 free (CI stops any rpcbind); holds the port-111
 * lock of test/support/port-111.ts. Never skipped.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createServer, type InetAddress, type Server, silentLogger, xdrInt } from "once-rpc";
import { type Binder, createBinder, type Registered, registerServer } from "once-rpc/binder";
import {
  buildCBinderPeers,
  PROBE_PROG,
  rpcinfo,
  runProbeClient,
  startChild,
  waitFor,
} from "../support/c-binder-peers.js";
import { acquirePort111, type ReleasePort111, RPCBIND_SOCKET } from "../support/port-111.js";

/** probe.x in TypeScript: PROBE_ADD answers n + 1000 (the C server answers n + 1). */
const probe = (version: 1 | 2) =>
  ({
    programName: "PROBE_PROG",
    program: PROBE_PROG,
    versionName: `PROBE_V${version}`,
    version,
    procedures: { add: { name: "PROBE_ADD", number: 1, args: xdrInt, result: xdrInt } },
  }) as const;

const PROG = String(PROBE_PROG); // 536873760
const UNREGISTERED = String(PROBE_PROG + 1);

let release: ReleasePort111 | undefined;
let binder: Binder;
let ts: Server;
let tsTcp: InetAddress;
let tsUdp: InetAddress;
let registered: Registered;

before(async () => {
  release = await acquirePort111();
  await buildCBinderPeers();
  binder = createBinder({ server: { logger: silentLogger } });
  for (const address of ["tcp://127.0.0.1:111", "udp://127.0.0.1:111", `unix://${RPCBIND_SOCKET}`]) {
    await binder.listen(address);
  }
  ts = createServer({ logger: silentLogger });
  ts.addProgram(probe(1), { add: (n) => n + 1000 });
  ts.addProgram(probe(2), { add: (n) => n + 1000 });
  tsTcp = (await ts.listen("tcp://127.0.0.1:0")) as InetAddress;
  tsUdp = (await ts.listen("udp://127.0.0.1:0")) as InetAddress;
  registered = await registerServer(ts, { binder: `unix://${RPCBIND_SOCKET}` });
});

after(async () => {
  await ts?.close();
  await binder?.close();
  release?.();
});

/** rpcinfo -p's row: %10ld%5ld%6s%7ld, then the service's name when /etc/rpc knows it. */
const pRow = (prog: number, vers: number, proto: string, port: number, name = "") =>
  `${String(prog).padStart(10)}${String(vers).padStart(5)}${proto.padStart(6)}${String(port).padStart(7)}${name === "" ? "" : `  ${name}`}`;

/** rpcinfo -s's row. */
const sRow = (prog: number, versions: string, netids: string, service: string, owner: string) =>
  `${String(prog).padStart(10)}  ${versions.padEnd(10)}${netids.padEnd(33)}${service.padEnd(12)}${owner}`;

/** The plain listing's row (rpcbind version 4 DUMP). */
const dRow = (prog: number, vers: number, netid: string, address: string, service: string, owner: string) =>
  `${String(prog).padStart(10)}${String(vers).padStart(5)}    ${netid.padEnd(10)}${address.padEnd(23)}${service.padEnd(11)}${owner}`;

const ua = (a: InetAddress) => `127.0.0.1.${a.port >> 8}.${a.port & 255}`;

describe("rpcinfo lists what is registered", () => {
  test("rpcinfo -p 127.0.0.1 (portmapper DUMP)", async () => {
    const r = await rpcinfo(["-p", "127.0.0.1"]);
    assert.equal(r.code, 0, r.stderr);
    const expected = [
      "   program vers proto   port  service",
      ...[4, 3, 2].map((v) => pRow(100000, v, "tcp", 111, "portmapper")),
      ...[4, 3, 2].map((v) => pRow(100000, v, "udp", 111, "portmapper")),
      pRow(PROBE_PROG, 1, "tcp", tsTcp.port),
      pRow(PROBE_PROG, 1, "udp", tsUdp.port),
      pRow(PROBE_PROG, 2, "tcp", tsTcp.port),
      pRow(PROBE_PROG, 2, "udp", tsUdp.port),
    ];
    assert.equal(r.stdout, `${expected.join("\n")}\n`);
  });

  test("rpcinfo -s 127.0.0.1 (versions, netids and owner of each program)", async () => {
    const r = await rpcinfo(["-s", "127.0.0.1"]);
    assert.equal(r.code, 0, r.stderr);
    const expected = [
      "   program version(s) netid(s)                         service     owner",
      sRow(100000, "2,3,4", "local,udp,tcp", "portmapper", "superuser"),
      sRow(PROBE_PROG, "2,1", "udp,tcp", "-", "superuser"),
    ];
    assert.equal(r.stdout, `${expected.join("\n")}\n`);
  });

  test("rpcinfo 127.0.0.1 (rpcbind DUMP: netids, universal addresses, owners)", async () => {
    const r = await rpcinfo(["127.0.0.1"]);
    assert.equal(r.code, 0, r.stderr);
    const expected = [
      "   program version netid     address                service    owner",
      ...[4, 3, 2].map((v) => dRow(100000, v, "tcp", "127.0.0.1.0.111", "portmapper", "superuser")),
      ...[4, 3, 2].map((v) => dRow(100000, v, "udp", "127.0.0.1.0.111", "portmapper", "superuser")),
      ...[4, 3].map((v) => dRow(100000, v, "local", RPCBIND_SOCKET, "portmapper", "superuser")),
      dRow(PROBE_PROG, 1, "tcp", ua(tsTcp), "-", "superuser"),
      dRow(PROBE_PROG, 1, "udp", ua(tsUdp), "-", "superuser"),
      dRow(PROBE_PROG, 2, "tcp", ua(tsTcp), "-", "superuser"),
      dRow(PROBE_PROG, 2, "udp", ua(tsUdp), "-", "superuser"),
    ];
    assert.equal(r.stdout, `${expected.join("\n")}\n`);
  });

  test("rpcinfo -l 127.0.0.1 PROG 1 (GETADDRLIST)", async () => {
    const r = await rpcinfo(["-l", "127.0.0.1", PROG, "1"]);
    assert.equal(r.code, 0, r.stderr);
    const row = (tp: string, address: string) =>
      `${PROG.padStart(10)}${"1".padStart(3)}    ${tp.padEnd(24)}${address.padEnd(25)}${"-".padEnd(13)}`;
    assert.equal(
      r.stdout,
      [
        "   program vers  tp_family/name/class    address\t\t  service",
        row("inet/tcp/cots_ord", ua(tsTcp)),
        row("inet/udp/clts", ua(tsUdp)),
        "",
      ].join("\n"),
    );
  });

  test("rpcinfo -m 127.0.0.1 (GETSTAT)", async () => {
    const r = await rpcinfo(["-m", "127.0.0.1"]);
    assert.equal(r.code, 0, r.stderr);
    for (const heading of [
      "PORTMAP (version 2) statistics",
      "RPCBIND (version 3) statistics",
      "RPCBIND (version 4) statistics",
    ]) {
      assert.ok(r.stdout.includes(heading), r.stdout);
    }
  });
});

describe("rpcinfo finds and pings the TypeScript server through the binder", () => {
  for (const protocol of ["tcp", "udp"] as const) {
    test(`rpcinfo -T ${protocol} 127.0.0.1 PROG [VERS]`, async () => {
      for (const version of ["1", "2"]) {
        assert.deepEqual(await rpcinfo(["-T", protocol, "127.0.0.1", PROG, version]), {
          code: 0,
          stdout: `program ${PROG} version ${version} ready and waiting\n`,
          stderr: "",
        });
      }
      assert.deepEqual(await rpcinfo(["-T", protocol, "127.0.0.1", PROG]), {
        code: 0,
        stdout: `program ${PROG} version 1 ready and waiting\nprogram ${PROG} version 2 ready and waiting\n`,
        stderr: "",
      });
      const missing = await rpcinfo(["-T", protocol, "127.0.0.1", UNREGISTERED, "1"]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, "rpcinfo: RPC: Program not registered\n");
    });

    test(`rpcinfo -${protocol[0]} 127.0.0.1 PROG (through the portmapper's GETPORT)`, async () => {
      assert.deepEqual(await rpcinfo([`-${protocol[0]}`, "127.0.0.1", PROG]), {
        code: 0,
        stdout: `program ${PROG} version 1 ready and waiting\nprogram ${PROG} version 2 ready and waiting\n`,
        stderr: "",
      });
    });
  }
});

describe("libtirpc clients and servers", () => {
  test('clnt_create("127.0.0.1", PROBE_PROG, VERS, "tcp" / "udp") reaches the TypeScript server', async () => {
    for (const nettype of ["tcp", "udp"]) {
      for (const version of [1, 2]) {
        const r = await runProbeClient("127.0.0.1", version, nettype, 5);
        assert.deepEqual(r, { code: 0, stdout: "ok 1005\n", stderr: "" }, `${nettype} v${version}`);
      }
    }
    // A version not registered: the binder gives the program's address, the server says which it has.
    const wrong = await runProbeClient("127.0.0.1", 3, "tcp", 5);
    assert.equal(wrong.stdout, "error RPC: Program/version mismatch\n");
  });

  test("a libtirpc server registers with svc_create (tcp, tcp6, udp, udp6) and unregisters with svc_unreg", async () => {
    // The TypeScript server steps aside: the C server registers the same program.
    await registered.unregister();
    const peers = await buildCBinderPeers();
    const server = await startChild(peers.svcCreateServer, [], /registered \d+\n/);
    try {
      const mine = () => binder.registry.list().filter((e) => e.program === PROBE_PROG);
      await waitFor(
        () => mine().length === Number(/registered (\d+)/.exec(server.stdout())?.[1]),
        "8 registrations",
      );
      assert.deepEqual(
        mine().map((e) => `${e.version} ${e.netid} ${e.owner}`),
        ["1 tcp", "1 tcp6", "2 tcp", "2 tcp6", "1 udp", "1 udp6", "2 udp", "2 udp6"].map(
          (s) => `${s} superuser`,
        ),
      );
      for (const e of mine()) {
        assert.match(e.address, e.netid.endsWith("6") ? /^::\.\d+\.\d+$/ : /^0\.0\.0\.0\.\d+\.\d+$/);
      }
      const s = await rpcinfo(["-s", "127.0.0.1"]);
      assert.ok(s.stdout.includes(sRow(PROBE_PROG, "2,1", "udp6,udp,tcp6,tcp", "-", "superuser")), s.stdout);
      for (const nettype of ["tcp", "udp"]) {
        assert.deepEqual(await runProbeClient("127.0.0.1", 2, nettype, 5), {
          code: 0,
          stdout: "ok 6\n",
          stderr: "",
        });
      }
      await server.stop("SIGTERM");
      assert.match(server.stdout(), /unregistered\n$/);
      assert.deepEqual(mine(), []);
    } finally {
      await server.stop("SIGKILL");
      registered = await registerServer(ts, { binder: `unix://${RPCBIND_SOCKET}` });
    }
  });

  test("rpcgen's own main registers with pmap_unset and pmap_set: rpcinfo -p shows it", async () => {
    await registered.unregister();
    const peers = await buildCBinderPeers();
    const server = await startChild(peers.rpcgenServer, []);
    try {
      const mine = () => binder.registry.list().filter((e) => e.program === PROBE_PROG);
      await waitFor(() => mine().length === 4, "4 registrations");
      const ports = new Map(
        mine().map((e) => [
          e.netid,
          Number(
            e.address
              .split(".")
              .slice(-2)
              .reduce((a, b) => `${Number(a) * 256 + Number(b)}`),
          ),
        ]),
      );
      const r = await rpcinfo(["-p", "127.0.0.1"]);
      const rows = r.stdout.split("\n").filter((line) => line.includes(PROG));
      assert.deepEqual(rows, [
        pRow(PROBE_PROG, 1, "udp", ports.get("udp") as number),
        pRow(PROBE_PROG, 2, "udp", ports.get("udp") as number),
        pRow(PROBE_PROG, 1, "tcp", ports.get("tcp") as number),
        pRow(PROBE_PROG, 2, "tcp", ports.get("tcp") as number),
      ]);
      assert.deepEqual(await runProbeClient("127.0.0.1", 1, "udp", 41), {
        code: 0,
        stdout: "ok 42\n",
        stderr: "",
      });
    } finally {
      await server.stop("SIGKILL");
      // rpcgen's main does not unregister when killed (with rpcbind neither): clean up as the superuser.
      binder.registry.unset(PROBE_PROG, 1, "", "superuser");
      binder.registry.unset(PROBE_PROG, 2, "", "superuser");
      registered = await registerServer(ts, { binder: `unix://${RPCBIND_SOCKET}` });
    }
  });

  test("rpcinfo -d PROG 2 removes version 2 (rpcb_unset over the Unix socket)", async () => {
    const r = await rpcinfo(["-d", PROG, "2"]);
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(
      binder.registry
        .list()
        .filter((e) => e.program === PROBE_PROG)
        .map((e) => `${e.version} ${e.netid}`),
      ["1 tcp", "1 udp"],
    );
    const p = await rpcinfo(["-p", "127.0.0.1"]);
    assert.deepEqual(
      p.stdout.split("\n").filter((line) => line.includes(PROG)),
      [pRow(PROBE_PROG, 1, "tcp", tsTcp.port), pRow(PROBE_PROG, 1, "udp", tsUdp.port)],
    );
  });
});
