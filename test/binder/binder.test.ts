/**
 * A binder on port 0 (TCP, UDP and a Unix socket), called with our own
 * typed clients of the generated descriptors: every procedure of the
 * portmapper (version 2) and of rpcbind versions 3 and 4, with the answers
 * Debian's rpcbind 1.2.6 gives to the same calls (run against it with the
 * same registrations; its answers are quoted where they are not obvious).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type AuthError,
  AuthStat,
  authSys,
  type Client,
  createClient,
  createServer,
  type InetAddress,
  isRpcError,
  type ProgramMismatchError,
  type ProgramVersionDescriptor,
  type Server,
  silentLogger,
  xdrInt,
} from "once-rpc";
import {
  type Binder,
  createBinder,
  type InterfaceList,
  PmapProgV2,
  RpcbprogV3,
  RpcbprogV4,
  registerServer,
} from "once-rpc/binder";

/** A service to forward remote calls to: ADD_PROG v1 ADD(int) = int + 1. */
const AddProgV1 = {
  programName: "ADD_PROG",
  program: 0x2000_0b01,
  versionName: "ADD_V1",
  version: 1,
  procedures: { add: { name: "ADD", number: 1, args: xdrInt, result: xdrInt } },
} as const satisfies ProgramVersionDescriptor;

const P = 0x2000_0b02;

/** This host's interfaces, as the binder sees them for address merging. */
const INTERFACES: InterfaceList = {
  lo: [
    {
      address: "127.0.0.1",
      netmask: "255.0.0.0",
      family: "IPv4",
      internal: true,
      mac: "",
      cidr: "127.0.0.1/8",
    },
  ],
  eth0: [
    {
      address: "10.0.0.1",
      netmask: "255.255.255.0",
      family: "IPv4",
      internal: false,
      mac: "",
      cidr: "10.0.0.1/24",
    },
  ],
};

const NOW_MS = 1_700_000_000_123;
const rpcb = (r_prog: number, r_vers: number, r_netid = "", r_addr = "", r_owner = "") => ({
  r_prog,
  r_vers,
  r_netid,
  r_addr,
  r_owner,
});
const int = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const uaddr = (a: InetAddress) => `127.0.0.1.${a.port >> 8}.${a.port & 255}`;

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isRpcError(error), String(error));
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

let dir: string;
let binder: Binder;
let tcp: InetAddress;
let udp: InetAddress;
let unixPath: string;
let service: Server;
let serviceUdp: InetAddress;
const clients: Array<{ $destroy(): void }> = [];
function client<D extends ProgramVersionDescriptor>(
  descriptor: D,
  target: string,
  options?: Parameters<typeof createClient>[2],
): Client<D> {
  const c = createClient(descriptor, target, { timeoutMs: 3000, ...options });
  clients.push(c);
  return c;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "once-binder-"));
  unixPath = join(dir, "rpcbind.sock");
  binder = createBinder({
    interfaces: () => INTERFACES,
    now: () => NOW_MS,
    server: { logger: silentLogger },
  });
  tcp = (await binder.listen("tcp://127.0.0.1:0")) as InetAddress;
  udp = (await binder.listen("udp://127.0.0.1:0")) as InetAddress;
  await binder.listen(`unix://${unixPath}`);
  service = createServer({ logger: silentLogger });
  service.addProgram(AddProgV1, { add: (n) => n + 1 });
  serviceUdp = (await service.listen("udp://0.0.0.0:0")) as InetAddress;
});

after(async () => {
  for (const c of clients) c.$destroy();
  await binder?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("its own registrations", () => {
  test("program 100000 at each address it listens on, in rpcbind's order", async () => {
    const list = await client(RpcbprogV3, `unix://${unixPath}`).dump();
    const own: string[] = [];
    for (let e = list; e !== null; e = e.rpcb_next) {
      const m = e.rpcb_map;
      if (m.r_prog === 100000) own.push(`${m.r_vers} ${m.r_netid} ${m.r_addr} ${m.r_owner}`);
    }
    const t = uaddr(tcp);
    const u = uaddr(udp);
    assert.deepEqual(own, [
      `4 tcp ${t} superuser`,
      `3 tcp ${t} superuser`,
      `2 tcp ${t} superuser`,
      `4 udp ${u} superuser`,
      `3 udp ${u} superuser`,
      `2 udp ${u} superuser`,
      `4 local ${unixPath} superuser`,
      `3 local ${unixPath} superuser`,
    ]);
  });

  test("the portmapper lists the TCP and UDP ones", async () => {
    const list = await client(PmapProgV2, `udp://127.0.0.1:${udp.port}`).dump();
    const maps: string[] = [];
    for (let e = list; e !== null; e = e.next)
      maps.push(`${e.map.prog} ${e.map.vers} ${e.map.prot} ${e.map.port}`);
    assert.deepEqual(
      maps,
      [4, 3, 2]
        .map((v) => `100000 ${v} 6 ${tcp.port}`)
        .concat([4, 3, 2].map((v) => `100000 ${v} 17 ${udp.port}`)),
    );
  });

  test("its Unix socket is open to every local user, as rpcbind's (mode 0666)", () => {
    assert.equal(statSync(unixPath).mode & 0o777, 0o666);
  });

  test("a Unix socket path where a binder answers is refused", async () => {
    const other = createBinder();
    await assert.rejects(other.listen(`unix://${unixPath}`), /is in use/);
    await assert.rejects(other.listen(`unix://${join(dir)}`), /not a socket/);
    await other.close();
  });
});

describe("portmapper, version 2", () => {
  test("NULL", async () => {
    assert.equal(await client(PmapProgV2, `tcp://127.0.0.1:${tcp.port}`).null(), null);
  });

  test("SET from loopback: registered as 0.0.0.0 at the port, owner unknown; a taken mapping or an unknown protocol is FALSE", async () => {
    const pm = client(PmapProgV2, `tcp://127.0.0.1:${tcp.port}`);
    assert.equal(await pm.set({ prog: P, vers: 1, prot: 6, port: 1025 }), true);
    assert.equal(await pm.set({ prog: P, vers: 1, prot: 6, port: 1025 }), true);
    assert.equal(await pm.set({ prog: P, vers: 1, prot: 6, port: 1026 }), false);
    assert.equal(await pm.set({ prog: P, vers: 1, prot: 99, port: 1026 }), false);
    assert.equal(await pm.set({ prog: P, vers: 2, prot: 17, port: 1028 }), true);
    const entry = binder.registry.list().find((e) => e.program === P && e.version === 1);
    assert.deepEqual(entry, {
      program: P,
      version: 1,
      netid: "tcp",
      address: "0.0.0.0.4.1",
      owner: "unknown",
    });
  });

  test("GETPORT: the port, the program's last port on that protocol for another version, 0 for none", async () => {
    const pm = client(PmapProgV2, `udp://127.0.0.1:${udp.port}`);
    assert.equal(await pm.getport({ prog: P, vers: 1, prot: 6, port: 0 }), 1025);
    assert.equal(await pm.getport({ prog: P, vers: 9, prot: 17, port: 0 }), 1028);
    assert.equal(await pm.getport({ prog: P, vers: 1, prot: 17, port: 0 }), 1028);
    assert.equal(await pm.getport({ prog: P + 1, vers: 1, prot: 6, port: 0 }), 0);
  });

  test("UNSET removes TCP and UDP; TRUE if either went", async () => {
    const pm = client(PmapProgV2, `tcp://127.0.0.1:${tcp.port}`);
    assert.equal(await pm.unset({ prog: P, vers: 1, prot: 0, port: 0 }), true);
    assert.equal(await pm.unset({ prog: P, vers: 2, prot: 0, port: 0 }), true);
    assert.equal(await pm.getport({ prog: P, vers: 1, prot: 6, port: 0 }), 0);
  });

  test("CALLIT over UDP: the service's port and its encoded result", async () => {
    await client(RpcbprogV3, `unix://${unixPath}`).set(
      rpcb(AddProgV1.program, 1, "udp", `0.0.0.0.${serviceUdp.port >> 8}.${serviceUdp.port & 255}`, "0"),
    );
    const pm = client(PmapProgV2, `udp://127.0.0.1:${udp.port}`);
    const r = await pm.callit({ prog: AddProgV1.program, vers: 1, proc: 1, args: int(41) });
    assert.equal(r.port, serviceUdp.port);
    assert.deepEqual([...r.res], [...int(42)]);
  });

  test("CALLIT over TCP, or of what is not registered: no answer, as from rpcbind (the caller times out)", async () => {
    await rejectsWith(
      client(PmapProgV2, `tcp://127.0.0.1:${tcp.port}`, { timeoutMs: 300 }).callit({
        prog: AddProgV1.program,
        vers: 1,
        proc: 1,
        args: int(1),
      }),
      "TIMEOUT",
    );
    await rejectsWith(
      client(PmapProgV2, `udp://127.0.0.1:${udp.port}`, { timeoutMs: 300 }).callit({
        prog: P + 5,
        vers: 1,
        proc: 1,
        args: int(1),
      }),
      "TIMEOUT",
    );
    // BCAST of a version not registered: silent too (INDIRECT answers PROG_MISMATCH, below).
    await rejectsWith(
      client(RpcbprogV4, `udp://127.0.0.1:${udp.port}`, { timeoutMs: 300 }).bcast({
        prog: AddProgV1.program,
        vers: 3,
        proc: 1,
        args: int(1),
      }),
      "TIMEOUT",
    );
  });
});

describe("rpcbind, version 3", () => {
  test("SET on the Unix socket: the owner is the uid stated in r_owner, or the AUTH_SYS uid", async () => {
    const local = client(RpcbprogV3, `unix://${unixPath}`);
    assert.equal(await local.set(rpcb(P, 1, "tcp", "0.0.0.0.4.1", "0")), true);
    assert.equal(await local.set(rpcb(P, 1, "udp", "0.0.0.0.4.3", "")), true);
    const asUser = client(RpcbprogV3, `unix://${unixPath}`, {
      auth: authSys({ machineName: "h", uid: 1000, gid: 1000 }),
    });
    assert.equal(await asUser.set(rpcb(P, 2, "udp", "0.0.0.0.4.4", "0")), true);
    assert.equal(await local.set(rpcb(P, 3, "local", "/run/p3.sock", "1001")), true);
    const owners = binder.registry
      .list()
      .filter((e) => e.program === P)
      .map((e) => `${e.version}/${e.netid}/${e.owner}`);
    assert.deepEqual(owners, ["1/tcp/superuser", "1/udp/unknown", "2/udp/1000", "3/local/1001"]);
  });

  test("UNSET: only the owner or the superuser", async () => {
    const asOther = client(RpcbprogV3, `unix://${unixPath}`, {
      auth: authSys({ machineName: "h", uid: 1001, gid: 1 }),
    });
    assert.equal(await asOther.unset(rpcb(P, 2)), false);
    const asOwner = client(RpcbprogV3, `unix://${unixPath}`, {
      auth: authSys({ machineName: "h", uid: 1000, gid: 1 }),
    });
    assert.equal(await asOwner.unset(rpcb(P, 2)), true);
    assert.equal(await asOwner.set(rpcb(P, 2, "udp", "0.0.0.0.4.4")), true);
  });

  test("GETADDR answers for the netid it was asked over, merged with the caller's interface", async () => {
    const overTcp = client(RpcbprogV3, `tcp://127.0.0.1:${tcp.port}`);
    // rpcbind: r_netid "udp" asked over TCP gives the TCP address.
    assert.equal(await overTcp.getaddr(rpcb(P, 1, "udp")), "127.0.0.1.4.1");
    // A hint in r_addr picks the interface on the hint's network.
    assert.equal(await overTcp.getaddr(rpcb(P, 1, "", "10.0.0.77.0.111")), "10.0.0.1.4.1");
    const overUdp = client(RpcbprogV3, `udp://127.0.0.1:${udp.port}`);
    assert.equal(await overUdp.getaddr(rpcb(P, 1)), "127.0.0.1.4.3");
    // Any version: the program's last registration on that netid (rpcbind: 127.0.0.1.4.4).
    assert.equal(await overUdp.getaddr(rpcb(P, 9)), "127.0.0.1.4.4");
    assert.equal(await overUdp.getaddr(rpcb(P + 1, 1)), "");
    // On the Unix socket: the local registrations, as they are.
    assert.equal(await client(RpcbprogV3, `unix://${unixPath}`).getaddr(rpcb(P, 3)), "/run/p3.sock");
  });

  test("SET and UNSET from loopback over TCP and UDP: owner unknown", async () => {
    const overUdp = client(RpcbprogV3, `udp://127.0.0.1:${udp.port}`);
    assert.equal(await overUdp.set(rpcb(P, 5, "tcp", "127.0.0.1.4.9", "0")), true);
    assert.equal(binder.registry.find(P, 5, "tcp")?.owner, "unknown");
    // Anyone on loopback is "unknown": it may remove what "unknown" registered, not the superuser's.
    assert.equal(await overUdp.unset(rpcb(P, 1, "tcp")), false);
    assert.equal(await overUdp.unset(rpcb(P, 5)), true);
  });

  test("DUMP lists every registration with its owner", async () => {
    const mine: string[] = [];
    for (
      let e = await client(RpcbprogV3, `tcp://127.0.0.1:${tcp.port}`).dump();
      e !== null;
      e = e.rpcb_next
    ) {
      if (e.rpcb_map.r_prog === P) mine.push(Object.values(e.rpcb_map).join(" "));
    }
    assert.deepEqual(mine, [
      `${P} 1 tcp 0.0.0.0.4.1 superuser`,
      `${P} 1 udp 0.0.0.0.4.3 unknown`,
      `${P} 3 local /run/p3.sock 1001`,
      `${P} 2 udp 0.0.0.0.4.4 1000`,
    ]);
  });

  test("CALLIT over UDP: the service's merged address and its result", async () => {
    const r = await client(RpcbprogV3, `udp://127.0.0.1:${udp.port}`).callit({
      prog: AddProgV1.program,
      vers: 1,
      proc: 1,
      args: int(9),
    });
    assert.equal(r.addr, uaddr(serviceUdp));
    assert.deepEqual([...r.results], [...int(10)]);
  });

  test("GETTIME: seconds since the epoch", async () => {
    assert.equal(
      await client(RpcbprogV3, `tcp://127.0.0.1:${tcp.port}`).gettime(),
      Math.floor(NOW_MS / 1000),
    );
  });

  test("UADDR2TADDR and TADDR2UADDR in the family of the transport asked over", async () => {
    const overTcp = client(RpcbprogV3, `tcp://127.0.0.1:${tcp.port}`);
    const t = await overTcp.uaddr2taddr("127.0.0.1.4.1");
    assert.equal(t.maxlen, 16);
    assert.equal(Buffer.from(t.buf).toString("hex"), "020004017f0000010000000000000000");
    assert.equal(await overTcp.taddr2uaddr(t), "127.0.0.1.4.1");
    assert.deepEqual(await overTcp.uaddr2taddr("nonsense"), { maxlen: 0, buf: new Uint8Array(0) });
    assert.equal(await overTcp.taddr2uaddr({ maxlen: 16, buf: new Uint8Array([2, 0, 1]) }), "");
    // libtirpc refuses a netbuf longer than its maxlen: GARBAGE_ARGS.
    await rejectsWith(overTcp.taddr2uaddr({ maxlen: 0, buf: new Uint8Array(3) }), "GARBAGE_ARGS");
    const local = client(RpcbprogV3, `unix://${unixPath}`);
    const l = await local.uaddr2taddr("/tmp/x");
    assert.deepEqual(l, { maxlen: 110, buf: new Uint8Array(Buffer.from("01002f746d702f78", "hex")) });
    assert.equal(await local.taddr2uaddr(l), "/tmp/x");
  });
});

describe("rpcbind, version 4", () => {
  test("GETADDR takes any version, GETVERSADDR only the one asked", async () => {
    const v4 = client(RpcbprogV4, `udp://127.0.0.1:${udp.port}`);
    assert.equal(await v4.getaddr(rpcb(P, 9)), "127.0.0.1.4.4");
    assert.equal(await v4.getversaddr(rpcb(P, 9)), "");
    assert.equal(await v4.getversaddr(rpcb(P, 2)), "127.0.0.1.4.4");
    // rpcbind looks in the transport's netid: udp registration, not tcp's.
    assert.equal(await client(RpcbprogV4, `tcp://127.0.0.1:${tcp.port}`).getversaddr(rpcb(P, 2, "udp")), "");
  });

  test("GETADDRLIST: every netid of the caller's protocol family, merged", async () => {
    const list = await client(RpcbprogV4, `tcp://127.0.0.1:${tcp.port}`).getaddrlist(rpcb(P, 1));
    assert.deepEqual(list, {
      rpcb_entry_map: {
        r_maddr: "127.0.0.1.4.1",
        r_nc_netid: "tcp",
        r_nc_semantics: 3,
        r_nc_protofmly: "inet",
        r_nc_proto: "tcp",
      },
      rpcb_entry_next: {
        rpcb_entry_map: {
          r_maddr: "127.0.0.1.4.3",
          r_nc_netid: "udp",
          r_nc_semantics: 1,
          r_nc_protofmly: "inet",
          r_nc_proto: "udp",
        },
        rpcb_entry_next: null,
      },
    });
    // On the Unix socket rpcbind cannot merge addresses, so its GETADDRLIST is empty (GETADDR answers as registered).
    assert.equal(await client(RpcbprogV4, `unix://${unixPath}`).getaddrlist(rpcb(P, 1)), null);
    assert.equal(await client(RpcbprogV4, `unix://${unixPath}`).getaddrlist(rpcb(P, 3)), null);
  });

  test("INDIRECT and BCAST forward; INDIRECT says what went wrong", async () => {
    const v4 = client(RpcbprogV4, `udp://127.0.0.1:${udp.port}`);
    const call = { prog: AddProgV1.program, vers: 1, proc: 1, args: int(99) };
    assert.deepEqual([...(await v4.indirect(call)).results], [...int(100)]);
    assert.deepEqual([...(await v4.bcast(call)).results], [...int(100)]);
    await rejectsWith(v4.indirect({ ...call, prog: P + 7 }), "PROG_UNAVAIL");
    // A version not registered: PROG_MISMATCH with the versions registered on that netid (rpcbind's find_versions).
    const mismatch = await rejectsWith(v4.indirect({ ...call, vers: 3 }), "PROG_MISMATCH");
    assert.deepEqual(
      [(mismatch as ProgramMismatchError).low, (mismatch as ProgramMismatchError).high],
      [1, 1],
    );
    // A procedure the service does not have: the forwarded call fails, INDIRECT answers SYSTEM_ERR.
    await rejectsWith(v4.indirect({ ...call, proc: 9 }), "SYSTEM_ERR");
    // rpcbind will not call itself, nor NFS, through INDIRECT: AUTH_TOOWEAK (NULL procedures pass).
    const refused = await rejectsWith(
      v4.indirect({ prog: 100000, vers: 2, proc: 4, args: new Uint8Array() }),
      "AUTH_ERROR",
    );
    assert.equal((refused as AuthError).authStat, AuthStat.AUTH_TOOWEAK);
    await rejectsWith(v4.indirect({ prog: 100003, vers: 3, proc: 1, args: new Uint8Array() }), "AUTH_ERROR");
  });

  test("a retransmitted INDIRECT joins the call in flight", async () => {
    let calls = 0;
    const slow = createServer({ logger: silentLogger });
    const SlowV1 = { ...AddProgV1, program: 0x2000_0b04 } as const;
    slow.addProgram(SlowV1, {
      add: async (n) => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 700));
        return n * 2;
      },
    });
    const at = (await slow.listen("udp://127.0.0.1:0")) as InetAddress;
    try {
      assert.equal(
        await client(RpcbprogV3, `unix://${unixPath}`).set(rpcb(SlowV1.program, 1, "udp", uaddr(at), "0")),
        true,
      );
      // Retransmissions every 100 ms while the service takes 700 ms.
      const v4 = client(RpcbprogV4, `udp://127.0.0.1:${udp.port}`, {
        retransmitInitialMs: 100,
        retransmitMaxMs: 100,
      });
      const r = await v4.indirect({ prog: SlowV1.program, vers: 1, proc: 1, args: int(21) });
      assert.deepEqual([...r.results], [...int(42)]);
      assert.equal(calls, 1);
    } finally {
      await slow.close();
    }
  });

  test("GETSTAT counts as rpcbind does", async () => {
    const fresh = createBinder({ server: { logger: silentLogger } });
    const at = (await fresh.listen("udp://127.0.0.1:0")) as InetAddress;
    try {
      const v4 = client(RpcbprogV4, `udp://127.0.0.1:${at.port}`);
      const v3 = client(RpcbprogV3, `udp://127.0.0.1:${at.port}`);
      const v2 = client(PmapProgV2, `udp://127.0.0.1:${at.port}`);
      await v3.set(rpcb(P, 1, "udp", "0.0.0.0.4.3"));
      await v3.set(rpcb(P, 1, "udp", "0.0.0.0.4.4")); // refused: not counted in setinfo
      await v3.getaddr(rpcb(P, 1));
      await v4.getaddr(rpcb(P, 2));
      await v4.getaddr(rpcb(P + 1, 2));
      await v2.getport({ prog: P, vers: 1, prot: 17, port: 0 });
      await v2.null();
      await v3.unset(rpcb(P, 1));
      await v4.indirect({ prog: P, vers: 1, proc: 1, args: new Uint8Array() }).catch(() => {});
      const [s2, s3, s4] = await v4.getstat();
      assert.deepEqual(s2.info, [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      assert.deepEqual(s2.addrinfo, { prog: P, vers: 1, success: 1, failure: 0, netid: "udp", next: null });
      assert.deepEqual(s3.info, [0, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      assert.equal(s3.setinfo, 1);
      assert.equal(s3.unsetinfo, 1);
      assert.deepEqual(s4.info, [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
      assert.deepEqual(s4.addrinfo, {
        prog: P + 1,
        vers: 2,
        success: 0,
        failure: 1,
        netid: "udp",
        next: { prog: P, vers: 2, success: 1, failure: 0, netid: "udp", next: null },
      });
      assert.deepEqual(s4.rmtinfo, {
        prog: P,
        vers: 1,
        proc: 1,
        success: 0,
        failure: 1,
        indirect: 1,
        netid: "udp",
        next: null,
      });
    } finally {
      await fresh.close();
    }
  });

  test("with remoteCalls off, INDIRECT is SYSTEM_ERR (as Debian's rpcbind without -r)", async () => {
    const off = createBinder({ remoteCalls: false, server: { logger: silentLogger } });
    const at = (await off.listen("udp://127.0.0.1:0")) as InetAddress;
    try {
      await client(RpcbprogV3, `udp://127.0.0.1:${at.port}`).set(
        rpcb(AddProgV1.program, 1, "udp", uaddr(serviceUdp)),
      );
      await rejectsWith(
        client(RpcbprogV4, `udp://127.0.0.1:${at.port}`).indirect({
          prog: AddProgV1.program,
          vers: 1,
          proc: 1,
          args: int(1),
        }),
        "SYSTEM_ERR",
      );
    } finally {
      await off.close();
    }
  });
});

describe("registerServer", () => {
  test("registers each program version at each address over the Unix socket, and takes them back", async () => {
    const server = createServer({ logger: silentLogger });
    const Add2 = { ...AddProgV1, program: AddProgV1.program + 2 } as const;
    server.addProgram(Add2, { add: (n) => n });
    const t = (await server.listen("tcp://127.0.0.1:0")) as InetAddress;
    const u = (await server.listen("udp://127.0.0.1:0")) as InetAddress;
    try {
      const registered = await registerServer(server, { binder: `unix://${unixPath}` });
      const mine = () =>
        binder.registry
          .list()
          .filter((e) => e.program === Add2.program)
          .map((e) => `${e.netid} ${e.address} ${e.owner}`);
      const owner = process.geteuid?.() === 0 ? "superuser" : String(process.geteuid?.());
      assert.deepEqual(mine(), [`tcp ${uaddr(t)} ${owner}`, `udp ${uaddr(u)} ${owner}`]);
      // Again from loopback TCP (owner "unknown"): its UNSETs are refused, its SETs of the same addresses succeed.
      await registerServer(server, { binder: `tcp://127.0.0.1:${tcp.port}` });
      assert.deepEqual(mine(), [`tcp ${uaddr(t)} ${owner}`, `udp ${uaddr(u)} ${owner}`]);
      await registered.unregister();
      assert.deepEqual(mine(), []);
    } finally {
      await server.close();
    }
  });
});
