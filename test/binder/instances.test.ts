/**
 * The binder's own program (ONCE_BINDER_PROG, once_binder.x) on a binder on
 * port 0: REGISTER, RENEW, UNREGISTER, LIST and DUMP over TCP, UDP and a
 * Unix socket with the typed client of the generated descriptor; several
 * instances per (program, version); who may register (loopback, the Unix
 * socket, a token; AUTH_TOOWEAK for others); registerInstance renewing and
 * registering again; listInstances. Health checks are off here (the
 * addresses registered are made up); instances-health.test.ts has them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  AuthStat,
  authSys,
  type CallContext,
  type Client,
  type ClientOptions,
  type Credentials,
  createClient,
  createServer,
  type InetAddress,
  isRpcError,
  type Peer,
  silentLogger,
  xdrInt,
} from "once-rpc";
import {
  type Binder,
  createBinder,
  dumpInstances,
  InstanceTable,
  type InterfaceList,
  instanceService,
  listInstances,
  OnceBinderProgV1,
  onceBinderProt,
  registerInstance,
} from "once-rpc/binder";
import { encodeRawCall, frame, RawStreamPeer, words } from "../support/raw-rpc.js";

const { InstanceStatus, InstanceState } = onceBinderProt;
const P = 0x2000_0c11;

/** This host's interfaces as the binder sees them, for merged addresses. */
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
};

const register = (overrides: Partial<onceBinderProt.RegisterArgs> = {}): onceBinderProt.RegisterArgs => ({
  name: "date",
  prog: P,
  vers: 1,
  netid: "tcp",
  addr: "127.0.0.1.4.1",
  metadata: [{ key: "zone", value: "a" }],
  lease_ms: 0,
  ...overrides,
});

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
let tcp: string;
let udp: string;
let unix: string;
const clients: Array<{ $destroy(): void }> = [];
function client(target: string, options: ClientOptions = {}): Client<typeof OnceBinderProgV1> {
  const c = createClient(OnceBinderProgV1, target, { timeoutMs: 3000, ...options });
  clients.push(c);
  return c;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "once-instances-"));
  binder = createBinder({
    healthIntervalMs: 0,
    maxLeaseMs: 60_000,
    tokens: ["t0ken"],
    interfaces: () => INTERFACES,
    server: { logger: silentLogger },
  });
  tcp = `tcp://127.0.0.1:${((await binder.listen("tcp://127.0.0.1:0")) as InetAddress).port}`;
  udp = `udp://127.0.0.1:${((await binder.listen("udp://127.0.0.1:0")) as InetAddress).port}`;
  unix = `unix://${join(dir, "binder.sock")}`;
  await binder.listen(unix);
});

after(async () => {
  for (const c of clients) c.$destroy();
  await binder?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Removes every instance, so that each test starts from an empty table. */
function clear(): void {
  binder.instances.load([]);
}

describe("ONCE_BINDER_PROG over the network", () => {
  test("NULL over TCP, UDP and the Unix socket", async () => {
    for (const target of [tcp, udp, unix]) assert.equal(await client(target).null(), null);
  });

  for (const [label, target] of [
    ["TCP", () => tcp],
    ["UDP", () => udp],
  ] as const) {
    test(`over ${label}: several instances of one program version, registered, listed, renewed, unregistered`, async () => {
      clear();
      const c = client(target());
      const ids: string[] = [];
      for (const port of [1, 2, 3]) {
        const res = await c.register(register({ addr: `127.0.0.1.4.${port}`, lease_ms: 30_000 }));
        assert.equal(res.status, InstanceStatus.INSTANCE_OK);
        assert.ok(res.status === InstanceStatus.INSTANCE_OK);
        assert.equal(res.instance.lease_ms, 30_000);
        assert.match(res.instance.id, /^[0-9a-f-]{36}$/);
        ids.push(res.instance.id);
      }
      assert.equal(new Set(ids).size, 3);
      const listed = await c.list({ prog: P, vers: 1, name: "", netid: "" });
      assert.equal(listed.truncated, false);
      assert.deepEqual(
        listed.instances.map((i) => [i.id, i.name, i.prog, i.vers, i.netid, i.addr, i.state, i.misses]),
        ids.map((id, n) => [
          id,
          "date",
          P,
          1,
          "tcp",
          `127.0.0.1.4.${n + 1}`,
          InstanceState.INSTANCE_ALIVE,
          0,
        ]),
      );
      assert.deepEqual(listed.instances[0].metadata, [{ key: "zone", value: "a" }]);
      assert.equal(listed.instances[0].lease_ms, 30_000);
      assert.ok(
        listed.instances[0].lease_remaining_ms > 25_000 && listed.instances[0].lease_remaining_ms <= 30_000,
      );
      assert.ok(listed.instances[0].last_seen_age_ms < 5_000);

      assert.equal(await c.renew(ids[1]), InstanceStatus.INSTANCE_OK);
      assert.equal(await c.unregister(ids[0]), InstanceStatus.INSTANCE_OK);
      assert.equal(await c.unregister(ids[0]), InstanceStatus.INSTANCE_UNKNOWN);
      assert.equal(await c.renew(ids[0]), InstanceStatus.INSTANCE_UNKNOWN);
      const after = await c.list({ prog: P, vers: 1, name: "", netid: "" });
      assert.deepEqual(
        after.instances.map((i) => i.id),
        ids.slice(1),
      );
    });
  }

  test("RENEW runs the lease again from now and counts as a sign of life", async () => {
    clear();
    const c = client(tcp);
    const res = await c.register(register({ lease_ms: 10_000 }));
    assert.ok(res.status === InstanceStatus.INSTANCE_OK);
    const id = res.instance.id;
    binder.instances.markMissed(id, 5);
    // Moved back in time, as if registered 8 s ago.
    const record = binder.instances.get(id);
    assert.ok(record !== undefined);
    binder.instances.apply({
      type: "update",
      instance: { ...record, lastSeenAt: record.lastSeenAt - 8000, leaseExpiresAt: Date.now() + 2000 },
    });
    let [info] = (await c.list({ prog: P, vers: 1, name: "", netid: "" })).instances;
    assert.equal(info.state, InstanceState.INSTANCE_SUSPECT);
    assert.equal(info.misses, 1);
    assert.ok(info.lease_remaining_ms <= 2000, String(info.lease_remaining_ms));
    assert.ok(info.last_seen_age_ms >= 8000, String(info.last_seen_age_ms));
    assert.equal(await c.renew(id), InstanceStatus.INSTANCE_OK);
    [info] = (await c.list({ prog: P, vers: 1, name: "", netid: "" })).instances;
    assert.equal(info.state, InstanceState.INSTANCE_ALIVE);
    assert.equal(info.misses, 0);
    assert.ok(info.lease_remaining_ms > 8000, String(info.lease_remaining_ms));
    assert.ok(info.last_seen_age_ms < 2000, String(info.last_seen_age_ms));
  });

  test("a lease longer than maxLeaseMs is cut to it; 0 asks for none", async () => {
    clear();
    const c = client(tcp);
    const long = await c.register(register({ lease_ms: 0xffff_ffff }));
    assert.ok(long.status === InstanceStatus.INSTANCE_OK);
    assert.equal(long.instance.lease_ms, 60_000);
    const none = await c.register(register({ lease_ms: 0 }));
    assert.ok(none.status === InstanceStatus.INSTANCE_OK);
    assert.equal(none.instance.lease_ms, 0);
    assert.equal(binder.instances.get(none.instance.id)?.leaseExpiresAt, null);
  });

  test("LIST filters by name and netid and keeps to the version asked; DUMP lists everything", async () => {
    clear();
    const c = client(tcp);
    const ids: Record<string, string> = {};
    for (const [key, args] of Object.entries({
      a: register(),
      b: register({ name: "other" }),
      c: register({ netid: "udp", addr: "127.0.0.1.4.9" }),
      d: register({ vers: 2 }),
      e: register({ prog: P + 1 }),
    })) {
      const res = await c.register(args);
      assert.ok(res.status === InstanceStatus.INSTANCE_OK);
      ids[res.instance.id] = key;
    }
    const keys = async (name: string, netid: string, vers = 1) =>
      (await c.list({ prog: P, vers, name, netid })).instances.map((i) => ids[i.id]);
    assert.deepEqual(await keys("", ""), ["a", "b", "c"]);
    assert.deepEqual(await keys("date", ""), ["a", "c"]);
    assert.deepEqual(await keys("", "udp"), ["c"]);
    assert.deepEqual(await keys("date", "tcp"), ["a"]);
    assert.deepEqual(await keys("", "", 2), ["d"]);
    assert.deepEqual(await keys("", "", 3), []);
    assert.deepEqual(
      (await c.dump()).instances.map((i) => ids[i.id]),
      ["a", "b", "c", "d", "e"],
    );
  });

  test("a registration the binder could not probe, or with a key twice, is INSTANCE_BAD_REGISTRATION", async () => {
    clear();
    const c = client(tcp);
    for (const bad of [
      register({ name: "" }),
      register({ netid: "sctp" }),
      register({ addr: "nonsense" }),
      register({
        metadata: [
          { key: "k", value: "1" },
          { key: "k", value: "2" },
        ],
      }),
    ]) {
      assert.deepEqual(await c.register(bad), { status: InstanceStatus.INSTANCE_BAD_REGISTRATION });
    }
    assert.equal(binder.instances.size, 0);
    const ok = await c.register(register({ netid: "local", addr: "/run/some.sock", metadata: [] }));
    assert.equal(ok.status, InstanceStatus.INSTANCE_OK);
  });

  test("bounds: a name over 255 bytes is refused before sending (BAD_ARGS) and on the wire (GARBAGE_ARGS)", async () => {
    const c = client(tcp);
    await rejectsWith(c.register(register({ name: "x".repeat(256) })), "BAD_ARGS");
    const port = Number(tcp.slice(tcp.lastIndexOf(":") + 1));
    const peer = await RawStreamPeer.open(port);
    try {
      const args = Buffer.alloc(4 + 256);
      args.writeUInt32BE(256, 0);
      args.fill("x", 4);
      peer.write(frame(encodeRawCall({ xid: 7, program: 0x2f0ce001, version: 1, procedure: 1, args })));
      await peer.waitFor(1);
      // xid, REPLY, MSG_ACCEPTED, verifier (flavor, length), accept_stat GARBAGE_ARGS (4)
      assert.deepEqual(words(peer.records[0]).slice(0, 6), [7, 1, 0, 0, 0, 4]);
    } finally {
      peer.destroy();
    }
  });

  test("a full table answers INSTANCE_TABLE_FULL", async () => {
    const small = createBinder({
      healthIntervalMs: 0,
      instances: new InstanceTable({ maxInstances: 2 }),
      server: { logger: silentLogger },
    });
    const at = (await small.listen("tcp://127.0.0.1:0")) as InetAddress;
    const c = client(`tcp://127.0.0.1:${at.port}`);
    try {
      assert.equal((await c.register(register())).status, InstanceStatus.INSTANCE_OK);
      assert.equal((await c.register(register())).status, InstanceStatus.INSTANCE_OK);
      assert.deepEqual(await c.register(register()), { status: InstanceStatus.INSTANCE_TABLE_FULL });
    } finally {
      c.$destroy();
      await small.close();
    }
  });

  test("a wildcard address is listed merged, as GETADDR merges it", async () => {
    clear();
    const c = client(tcp);
    const res = await c.register(register({ addr: "0.0.0.0.4.1" }));
    assert.ok(res.status === InstanceStatus.INSTANCE_OK);
    assert.equal(binder.instances.get(res.instance.id)?.address, "0.0.0.0.4.1");
    const [info] = (await c.list({ prog: P, vers: 1, name: "", netid: "" })).instances;
    assert.equal(info.addr, "127.0.0.1.4.1");
  });

  test("over UDP an answer stops at what fits a datagram and says it is truncated; over TCP it is whole", async () => {
    clear();
    for (let i = 0; i < 600; i++) {
      binder.instances.register({
        name: "date",
        program: P,
        version: 1,
        netid: "tcp",
        address: `127.0.0.1.${4 + (i >> 8)}.${i & 255}`,
        metadata: { zone: "a" },
        owner: "unknown",
        leaseMs: 0,
      });
    }
    const overUdp = await client(udp).list({ prog: P, vers: 1, name: "", netid: "" });
    assert.equal(overUdp.truncated, true);
    assert.ok(
      overUdp.instances.length > 100 && overUdp.instances.length < 600,
      String(overUdp.instances.length),
    );
    const overTcp = await client(tcp).list({ prog: P, vers: 1, name: "", netid: "" });
    assert.equal(overTcp.truncated, false);
    assert.equal(overTcp.instances.length, 600);
    clear();
  });
});

describe("who may register", () => {
  /** A CallContext as the server makes it, from `peer` with `credentials`. */
  const context = (peer: Peer, credentials: Credentials = { flavor: 0 }): CallContext => ({
    peer,
    credentials,
    xid: 1,
    program: 0x2f0ce001,
    version: 1,
    procedure: 1,
    procedureName: "ONCE_BINDER_REGISTER",
    signal: new AbortController().signal,
    deadline: undefined,
    session: undefined,
    semantics: "maybe",
    commit: () => {
      throw new Error("not exactly-once");
    },
  });
  const sys = (uid: number, machinename: string): Credentials => ({
    flavor: 1,
    sys: { stamp: 0, machinename, uid, gid: 0, gids: [] },
  });
  const remote: Peer = { protocol: "tcp", host: "10.0.0.2", port: 40000 };
  const loopback: Peer = { protocol: "udp", host: "127.0.0.1", port: 40000 };
  const socket: Peer = { protocol: "unix", path: "/run/rpcbind.sock" };
  const isTooWeak = (e: unknown) =>
    isRpcError(e) && e.code === "AUTH_ERROR" && "authStat" in e && e.authStat === AuthStat.AUTH_TOOWEAK;

  test("a caller on another host: AUTH_TOOWEAK for REGISTER, RENEW and UNREGISTER; LIST and DUMP are open", () => {
    const table = new InstanceTable();
    const service = instanceService(table, { maxLeaseMs: 1000, tokens: ["t0ken"] });
    const id = table.register({
      name: "n",
      program: P,
      version: 1,
      netid: "tcp",
      address: "10.0.0.2.4.1",
      metadata: {},
      owner: "unknown",
      leaseMs: 0,
    })?.id as string;
    for (const credentials of [{ flavor: 0 }, sys(0, "wrong")] as Credentials[]) {
      assert.throws(() => service.register(register(), context(remote, credentials)), isTooWeak);
      assert.throws(() => service.renew(id, context(remote, credentials)), isTooWeak);
      assert.throws(() => service.unregister(id, context(remote, credentials)), isTooWeak);
    }
    assert.equal(table.size, 1);
    const list = service.list({ prog: P, vers: 1, name: "", netid: "" }, context(remote));
    assert.ok(!(list instanceof Promise));
    assert.equal(list.instances.length, 1);
  });

  test("with the token: allowed, owned by its AUTH_SYS uid; a wildcard address becomes the caller's host", () => {
    const table = new InstanceTable();
    const service = instanceService(table, { maxLeaseMs: 1000, tokens: ["t0ken"] });
    const res = service.register(register({ addr: "0.0.0.0.4.1" }), context(remote, sys(1000, "t0ken")));
    assert.ok(!(res instanceof Promise) && res.status === InstanceStatus.INSTANCE_OK);
    const record = table.get(res.instance.id);
    assert.equal(record?.owner, "1000");
    assert.equal(record?.address, "10.0.0.2.4.1");
    // Another owner may not touch it; the superuser may.
    assert.equal(service.renew(res.instance.id, context(loopback)), InstanceStatus.INSTANCE_NOT_OWNER);
    assert.equal(
      service.unregister(res.instance.id, context(remote, sys(1001, "t0ken"))),
      InstanceStatus.INSTANCE_NOT_OWNER,
    );
    assert.equal(
      service.renew(res.instance.id, context(remote, sys(1000, "t0ken"))),
      InstanceStatus.INSTANCE_OK,
    );
    assert.equal(
      service.unregister(res.instance.id, context(remote, sys(0, "t0ken"))),
      InstanceStatus.INSTANCE_OK,
    );
    assert.equal(table.size, 0);
  });

  test("loopback and the Unix socket: allowed (owners unknown, or the uid stated on the socket); insecure lets anyone", () => {
    const table = new InstanceTable();
    const service = instanceService(table, { maxLeaseMs: 1000 });
    const owner = (peer: Peer, credentials?: Credentials) => {
      const res = service.register(register({ addr: "0.0.0.0.4.1" }), context(peer, credentials));
      assert.ok(!(res instanceof Promise) && res.status === InstanceStatus.INSTANCE_OK);
      return [table.get(res.instance.id)?.owner, table.get(res.instance.id)?.address];
    };
    assert.deepEqual(owner(loopback), ["unknown", "0.0.0.0.4.1"]);
    assert.deepEqual(owner(socket, sys(0, "host")), ["superuser", "0.0.0.0.4.1"]);
    assert.deepEqual(owner(socket), ["unknown", "0.0.0.0.4.1"]);
    assert.throws(() => service.register(register(), context(remote)), isTooWeak);
    const open = instanceService(table, { maxLeaseMs: 1000, insecure: true });
    const res = open.register(register(), context(remote));
    assert.ok(!(res instanceof Promise) && res.status === InstanceStatus.INSTANCE_OK);
  });

  /** This host's first address that is not loopback, if it has one. */
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address;

  test("over the network from this host's own non-loopback address: AUTH_TOOWEAK, and with the token it goes", {
    skip: external === undefined ? "this host has no non-loopback IPv4 address" : false,
  }, async () => {
    const other = createBinder({ healthIntervalMs: 0, tokens: ["t0ken"], server: { logger: silentLogger } });
    const at = (await other.listen(`udp://${external}:0`)) as InetAddress;
    const target = `udp://${external}:${at.port}`;
    try {
      const plain = client(target);
      await assert.rejects(plain.register(register()), isTooWeak);
      assert.deepEqual((await plain.list({ prog: P, vers: 1, name: "", netid: "" })).instances, []);
      const withToken = client(target, { auth: authSys({ machineName: "t0ken", uid: 0, gid: 0 }) });
      const res = await withToken.register(register());
      assert.ok(res.status === InstanceStatus.INSTANCE_OK);
      await assert.rejects(plain.unregister(res.instance.id), isTooWeak);
      assert.equal(await withToken.unregister(res.instance.id), InstanceStatus.INSTANCE_OK);
    } finally {
      await other.close();
    }
  });
});

/** A service to register: ADD_PROG v1 and v2, ADD(int) = int + 1. */
const addProg = (version: number) =>
  ({
    programName: "ADD_PROG",
    program: 0x2000_0c12,
    versionName: `ADD_V${version}`,
    version,
    procedures: { add: { name: "ADD", number: 1, args: xdrInt, result: xdrInt } },
  }) as const;

describe("registerInstance and listInstances", () => {
  test("each program version at each address becomes an instance; listInstances finds them over TCP and UDP", async () => {
    clear();
    const server = createServer({ logger: silentLogger })
      .addProgram(addProg(1), { add: (n) => n + 1 })
      .addProgram(addProg(2), { add: (n) => n + 2 });
    const tcpAt = (await server.listen("tcp://127.0.0.1:0")) as InetAddress;
    const udpAt = (await server.listen("udp://127.0.0.1:0")) as InetAddress;
    const registered = await registerInstance(server, {
      binder: tcp,
      name: "adder",
      metadata: { zone: "eu-1", weight: "2" },
      leaseMs: 20_000,
    });
    try {
      assert.equal(registered.instances.length, 4);
      for (const target of [tcp, udp]) {
        const found = await listInstances(target, { program: 0x2000_0c12, version: 2 });
        assert.deepEqual(
          found.map((i) => [i.name, i.program, i.version, i.netid, i.address, i.state, i.leaseMs]),
          [
            [
              "adder",
              0x2000_0c12,
              2,
              "tcp",
              `127.0.0.1.${tcpAt.port >> 8}.${tcpAt.port & 255}`,
              "alive",
              20_000,
            ],
            [
              "adder",
              0x2000_0c12,
              2,
              "udp",
              `127.0.0.1.${udpAt.port >> 8}.${udpAt.port & 255}`,
              "alive",
              20_000,
            ],
          ],
        );
        assert.deepEqual(found[0].metadata, { zone: "eu-1", weight: "2" });
        assert.deepEqual(
          found.map((i) => i.id),
          registered.instances.filter((r) => r.version === 2).map((r) => r.id),
        );
      }
      assert.deepEqual(
        (await listInstances(tcp, { program: 0x2000_0c12, version: 1, netid: "udp" })).map((i) => i.netid),
        ["udp"],
      );
      assert.deepEqual(await listInstances(tcp, { program: 0x2000_0c12, version: 1, name: "nobody" }), []);
      assert.equal((await dumpInstances(udp)).length, 4);
    } finally {
      await registered.unregister();
      await server.close();
    }
    assert.equal(binder.instances.size, 0);
  });

  test("the lease is renewed in the background; an instance the binder lost is registered again", async () => {
    clear();
    const server = createServer({ logger: silentLogger }).addProgram(addProg(1), { add: (n) => n + 1 });
    await server.listen("tcp://127.0.0.1:0");
    const errors: unknown[] = [];
    const registered = await registerInstance(server, {
      binder: udp,
      name: "adder",
      leaseMs: 400,
      renewIntervalMs: 50,
      onError: (e) => errors.push(e),
    });
    try {
      const [first] = registered.instances;
      // Several leases long: still there, because renewed.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(
        binder.instances.list().map((r) => r.id),
        [first.id],
      );
      // The binder forgets it (as a restarted binder would): RENEW says unknown, and it registers again.
      binder.instances.remove(first.id);
      let again: string | undefined;
      for (let i = 0; i < 100 && again === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        again = binder.instances.list()[0]?.id;
      }
      assert.ok(again !== undefined, "registered again");
      assert.notEqual(again, first.id);
      assert.equal(registered.instances[0].id, again);
      assert.deepEqual(errors, []);
    } finally {
      await registered.close();
      await registered.close();
      await server.close();
    }
    assert.equal(binder.instances.size, 0);
  });

  test("a binder restarted on the same address gets the instance back at the next renewal", async () => {
    const first = createBinder({ healthIntervalMs: 0, server: { logger: silentLogger } });
    const port = ((await first.listen("tcp://127.0.0.1:0")) as InetAddress).port;
    const server = createServer({ logger: silentLogger }).addProgram(addProg(1), { add: (n) => n + 1 });
    await server.listen("tcp://127.0.0.1:0");
    const errors: unknown[] = [];
    const registered = await registerInstance(server, {
      binder: `tcp://127.0.0.1:${port}`,
      name: "adder",
      leaseMs: 300,
      renewIntervalMs: 30,
      client: { timeoutMs: 500 },
      onError: (e) => errors.push(e),
    });
    const before = registered.instances[0].id;
    await first.destroy();
    const second = createBinder({ healthIntervalMs: 0, server: { logger: silentLogger } });
    try {
      await second.listen(`tcp://127.0.0.1:${port}`);
      for (let i = 0; i < 150 && second.instances.size === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const [back] = second.instances.list();
      assert.ok(back !== undefined, `not registered again; errors: ${errors.map(String).join("; ")}`);
      assert.deepEqual([back.name, back.program, back.version], ["adder", 0x2000_0c12, 1]);
      assert.notEqual(back.id, before);
      await registered.unregister();
      assert.equal(second.instances.size, 0);
    } finally {
      await registered.close();
      await server.close();
      await second.destroy();
    }
  });

  test("renewals that fail are reported and go on; close() then reports instead of rejecting", async () => {
    const other = createBinder({ healthIntervalMs: 0, server: { logger: silentLogger } });
    const at = (await other.listen("tcp://127.0.0.1:0")) as InetAddress;
    const server = createServer({ logger: silentLogger }).addProgram(addProg(1), { add: (n) => n + 1 });
    await server.listen("tcp://127.0.0.1:0");
    const errors: unknown[] = [];
    const registered = await registerInstance(server, {
      binder: `tcp://127.0.0.1:${at.port}`,
      name: "adder",
      leaseMs: 300,
      renewIntervalMs: 30,
      client: { timeoutMs: 200 },
      onError: (e) => errors.push(e),
    });
    await other.destroy();
    try {
      for (let i = 0; i < 100 && errors.length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(errors.length >= 2, `errors: ${errors.length}`);
      assert.ok(errors.every((e) => isRpcError(e)));
      const reported = errors.length;
      await registered.close();
      assert.equal(errors.length, reported + 1, "the failed UNREGISTER reported");
      await registered.unregister();
    } finally {
      await server.close();
    }
  });

  test("a refused registration rejects, naming the status, and takes back the ones made", async () => {
    const small = createBinder({
      healthIntervalMs: 0,
      instances: new InstanceTable({ maxInstances: 1 }),
      server: { logger: silentLogger },
    });
    const at = (await small.listen("tcp://127.0.0.1:0")) as InetAddress;
    const server = createServer({ logger: silentLogger }).addProgram(addProg(1), { add: (n) => n + 1 });
    await server.listen("tcp://127.0.0.1:0");
    await server.listen("udp://127.0.0.1:0");
    try {
      await assert.rejects(
        registerInstance(server, { binder: `tcp://127.0.0.1:${at.port}`, name: "adder" }),
        /INSTANCE_TABLE_FULL/,
      );
      assert.equal(small.instances.size, 0);
    } finally {
      await server.close();
      await small.close();
    }
  });

  test("listInstances from a binder without ONCE_BINDER_PROG is PROG_UNAVAIL", async () => {
    const plain = createServer({ logger: silentLogger }).addProgram(addProg(1), { add: (n) => n + 1 });
    const at = (await plain.listen("tcp://127.0.0.1:0")) as InetAddress;
    try {
      await rejectsWith(
        listInstances(`tcp://127.0.0.1:${at.port}`, { program: P, version: 1 }),
        "PROG_UNAVAIL",
      );
    } finally {
      await plain.close();
    }
  });
});
