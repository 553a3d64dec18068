/**
 * Binders sharing their registrations through etcd: one etcd started by
 * this test on loopback (Debian's etcd-server, installed by .ci/run; the
 * test fails, never skips, without it), two and three binders on their own
 * ports. A SET on one is seen by GETADDR on another; racing SETs of one
 * slot: exactly one wins everywhere; a killed binder's registrations leave
 * with its lease; instances are shared too.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Client, createClient, type InetAddress, silentLogger } from "once-rpc";
import {
  type Binder,
  type BinderOptions,
  createBinder,
  type InstanceChange,
  isStoreError,
  OnceBinderProgV1,
  onceBinderProt,
  RpcbprogV3,
  type StoreError,
} from "once-rpc/binder";
import { EtcdClient } from "../../src/binder/store/etcd-client.js";
import { type EtcdProcess, eventually, freePort, spawnBinder, startEtcd } from "./persistence-harness.js";

const { InstanceStatus } = onceBinderProt;
const P = 0x2000_0d01;
const LEASE_MS = 2000;

let etcd: EtcdProcess;
let dir: string;
let prefixes = 0;
const binders: Binder[] = [];
const proxies: Array<{ close(): void }> = [];
const clients: Array<{ $destroy(): void }> = [];

before(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), "once-etcd-binder-"));
});

after(async () => {
  for (const c of clients) c.$destroy();
  for (const b of binders) await b.destroy();
  for (const p of proxies) p.close();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A TCP relay to `target` that holds what the client sends for `delayMs`
 * (each chunk as long, so in order); replies pass at once.
 */
async function delayingProxy(target: URL, delayMs: number): Promise<{ url: string; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on("data", (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const proxy = {
    url: `http://127.0.0.1:${port}`,
    close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
  proxies.push(proxy); // closed after the binders, by `after`
  return proxy;
}

/** A fresh key prefix, so that each test's binders share only among themselves. */
function newPrefix(): string {
  return `/once-test/${process.pid}/${++prefixes}/`;
}

interface Running {
  readonly binder: Binder;
  readonly v3: Client<typeof RpcbprogV3>;
  readonly instances: Client<typeof OnceBinderProgV1>;
  readonly errors: StoreError[];
}

async function startBinder(prefix: string, options: BinderOptions = {}): Promise<Running> {
  const errors: StoreError[] = [];
  const binder = createBinder({
    share: { etcd: { endpoints: [etcd.url], prefix, leaseTtlMs: LEASE_MS } },
    onStoreError: (e) => errors.push(e),
    server: { logger: silentLogger },
    ...options,
  });
  binders.push(binder);
  const tcp = (await binder.listen("tcp://127.0.0.1:0")) as InetAddress;
  const v3 = createClient(RpcbprogV3, `tcp://127.0.0.1:${tcp.port}`, { timeoutMs: 10_000 });
  const instances = createClient(OnceBinderProgV1, `tcp://127.0.0.1:${tcp.port}`, { timeoutMs: 10_000 });
  clients.push(v3, instances);
  return { binder, v3, instances, errors };
}

function rpcb(version: number, netid: string, address: string) {
  return { r_prog: P, r_vers: version, r_netid: netid, r_addr: address, r_owner: "" };
}

describe("binders sharing through etcd", () => {
  test("a SET on binder A is answered by GETADDR on binder B within 5 s; an UNSET on B leaves A and C", async (t) => {
    const prefix = newPrefix();
    const a = await startBinder(prefix);
    const b = await startBinder(prefix);
    assert.equal(await a.v3.set(rpcb(1, "tcp", "127.0.0.1.9.1")), true);
    const seenMs = await eventually(
      "GETADDR on B",
      5000,
      async () => (await b.v3.getaddr(rpcb(1, "tcp", ""))) !== "",
    );
    assert.equal(await b.v3.getaddr(rpcb(1, "tcp", "")), "127.0.0.1.9.1");
    t.diagnostic(`SET on A seen by GETADDR on B after ${seenMs} ms`);
    // B holds it as A does: another address for the slot is refused there too.
    assert.equal(await b.v3.set(rpcb(1, "tcp", "127.0.0.1.9.2")), false);
    assert.equal(await b.v3.set(rpcb(1, "tcp", "127.0.0.1.9.1")), true); // the same address: a success

    const c = await startBinder(prefix); // joins later: takes what is shared
    assert.equal(await c.v3.getaddr(rpcb(1, "tcp", "")), "127.0.0.1.9.1");
    assert.equal(await b.v3.unset(rpcb(1, "", "")), true);
    await eventually(
      "UNSET on B seen by A",
      5000,
      async () => (await a.v3.getaddr(rpcb(1, "tcp", ""))) === "",
    );
    await eventually(
      "UNSET on B seen by C",
      5000,
      async () => (await c.v3.getaddr(rpcb(1, "tcp", ""))) === "",
    );
    assert.equal(a.binder.registry.find(P, 1, "tcp"), undefined);
    for (const x of [a, b, c]) assert.deepEqual(x.errors, []);
  });

  test("racing SETs of one slot on three binders: exactly one wins, and all three answer its address", async () => {
    const prefix = newPrefix();
    const three = [await startBinder(prefix), await startBinder(prefix), await startBinder(prefix)];
    for (let version = 1; version <= 20; version++) {
      const answers = await Promise.all(
        three.map((x, i) => x.v3.set(rpcb(version, "tcp", `127.0.0.1.10.${i + 1}`))),
      );
      assert.equal(answers.filter((ok) => ok).length, 1, `version ${version}: ${answers}`);
      const winner = `127.0.0.1.10.${answers.indexOf(true) + 1}`;
      for (const x of three) {
        await eventually(`version ${version} on every binder`, 5000, async () => {
          return (await x.v3.getaddr(rpcb(version, "tcp", ""))) === winner;
        });
      }
    }
    // Each binder's registry holds the winners only, in the same slots.
    const slots = three.map((x) =>
      x.binder.registry
        .snapshot()
        .map((r) => `${r.version}/${r.address}`)
        .sort(),
    );
    assert.equal(slots[0].length, 20);
    assert.deepEqual(slots[1], slots[0]);
    assert.deepEqual(slots[2], slots[0]);
  });

  test("a binder killed with SIGKILL: its registrations leave the others once its lease runs out", async (t) => {
    const prefix = newPrefix();
    const b = await startBinder(prefix);
    const killed = await spawnBinder([
      "--etcd",
      etcd.url,
      "--etcd-prefix",
      prefix,
      "--etcd-lease-ms",
      String(LEASE_MS),
    ]);
    try {
      const v3 = createClient(RpcbprogV3, `tcp://127.0.0.1:${killed.tcpPort}`, { timeoutMs: 10_000 });
      try {
        assert.equal(await v3.set(rpcb(1, "tcp", "127.0.0.1.11.1")), true);
      } finally {
        v3.$destroy();
      }
      assert.equal(await b.v3.set(rpcb(2, "tcp", "127.0.0.1.11.2")), true); // B's own lives on
      await eventually(
        "A's SET seen on B",
        5000,
        async () => (await b.v3.getaddr(rpcb(1, "tcp", ""))) !== "",
      );
      const killedAt = Date.now();
      assert.equal(await killed.stop("SIGKILL"), null);
      // etcd checks leases every 500 ms and may keep one a little past its TTL: 3 × the lease is the bound.
      await eventually("A's registration gone from B", 3 * LEASE_MS + 2000, async () => {
        return b.binder.registry.find(P, 1, "tcp")?.version !== 1;
      });
      t.diagnostic(`gone from B ${Date.now() - killedAt} ms after the kill (lease ${LEASE_MS} ms)`);
      assert.equal(await b.v3.getaddr(rpcb(2, "tcp", "")), "127.0.0.1.11.2");
      assert.equal(await b.v3.getaddr(rpcb(1, "tcp", "")), "127.0.0.1.11.2"); // the program's other version
    } finally {
      await killed.stop("SIGKILL");
    }
  });

  test("instances are shared too: registered on A, updated and removed, seen on B", async () => {
    const prefix = newPrefix();
    const a = await startBinder(prefix, { healthIntervalMs: 0 });
    const b = await startBinder(prefix, { healthIntervalMs: 0 });
    const record = a.binder.instances.register({
      name: "kv",
      program: P,
      version: 1,
      netid: "tcp",
      address: "127.0.0.1.12.1",
      metadata: { zone: "east" },
      owner: "unknown",
      leaseMs: 60_000,
    });
    assert.ok(record !== undefined);
    await eventually("instance on B", 5000, () => b.binder.instances.get(record.id) !== undefined);
    assert.deepEqual(b.binder.instances.get(record.id), record);
    const renewed = a.binder.instances.renew(record.id);
    await eventually(
      "renewal on B",
      5000,
      () => b.binder.instances.get(record.id)?.leaseExpiresAt === renewed?.leaseExpiresAt,
    );
    a.binder.instances.remove(record.id);
    await eventually("removal on B", 5000, () => b.binder.instances.get(record.id) === undefined);
  });

  test("REGISTER, RENEW and UNREGISTER are answered once etcd holds the change", async () => {
    const prefix = newPrefix();
    // The binder reaches etcd through a proxy that holds each request 150 ms: an answer that
    // did not wait for etcd would come before etcd has the change; the test asks etcd directly.
    const slow = await delayingProxy(new URL(etcd.url), 150);
    const a = await startBinder(prefix, {
      healthIntervalMs: 0,
      share: { etcd: { endpoints: [slow.url], prefix, leaseTtlMs: LEASE_MS } },
    });
    const kv = new EtcdClient({ endpoints: [etcd.url], requestTimeoutMs: 5000 });
    const inEtcd = async (id: string) => (await kv.range(`${prefix}instances/${id}`)).kvs[0];
    for (let i = 0; i < 5; i++) {
      const res = await a.instances.register({
        name: "kv",
        prog: P,
        vers: 1,
        netid: "tcp",
        addr: `127.0.0.1.16.${i}`,
        metadata: [],
        lease_ms: 60_000,
      });
      assert.ok(res.status === InstanceStatus.INSTANCE_OK);
      // Asked at once, not eventually: the answer waited for the write.
      const held = await inEtcd(res.instance.id);
      assert.ok(held !== undefined, `REGISTER ${i} answered before etcd held it`);
      assert.equal(JSON.parse(held.value).address, `127.0.0.1.16.${i}`);
      const leaseBefore = JSON.parse(held.value).leaseExpiresAt;
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(await a.instances.renew(res.instance.id), InstanceStatus.INSTANCE_OK);
      const renewed = JSON.parse((await inEtcd(res.instance.id)).value).leaseExpiresAt;
      assert.ok(renewed > leaseBefore, `RENEW ${i} answered before etcd held it`);
      assert.equal(await a.instances.unregister(res.instance.id), InstanceStatus.INSTANCE_OK);
      assert.equal(await inEtcd(res.instance.id), undefined, `UNREGISTER ${i} answered before etcd lost it`);
    }
    assert.deepEqual(a.errors, []);
  });

  test("health checks of a shared instance write to etcd only when its state changes", async () => {
    const prefix = newPrefix();
    let answering = true;
    const probes = [0, 0];
    const told: string[][] = [[], []];
    const binderWith = async (n: number) => {
      const x = await startBinder(prefix, {
        healthIntervalMs: 30,
        healthTimeoutMs: 30,
        maxMisses: 3,
        probe: async () => {
          probes[n]++;
          return answering;
        },
      });
      x.binder.instances.subscribe((c: InstanceChange) =>
        told[n].push(
          c.type === "remove" ? `remove ${c.reason}` : `${c.type} ${c.instance.state} ${c.instance.misses}`,
        ),
      );
      return x;
    };
    const a = await binderWith(0);
    const b = await binderWith(1);
    const res = await a.instances.register({
      name: "kv",
      prog: P,
      vers: 1,
      netid: "tcp",
      addr: "127.0.0.1.17.1",
      metadata: [],
      lease_ms: 0,
    });
    assert.ok(res.status === InstanceStatus.INSTANCE_OK);
    const id = res.instance.id;
    await eventually("instance on B", 5000, () => b.binder.instances.get(id) !== undefined);
    const kv = new EtcdClient({ endpoints: [etcd.url], requestTimeoutMs: 5000 });
    const key = `${prefix}instances/${id}`;
    const written = (await kv.range(key)).kvs[0].modRevision;

    // Alive: every binder probes it many times, and etcd is not written.
    const from = [...probes];
    await eventually("ten probes answered on each binder", 10_000, () =>
      probes.every((n, i) => n - from[i] >= 10),
    );
    assert.equal((await kv.range(key)).kvs[0].modRevision, written, "a health answer wrote to etcd");
    assert.deepEqual(told, [["add alive 0"], []]);

    // Dead for everyone: suspect once, then removed; the misses in between are not written.
    answering = false;
    await eventually("removed from A and B", 10_000, () => {
      return a.binder.instances.get(id) === undefined && b.binder.instances.get(id) === undefined;
    });
    assert.equal((await kv.range(key)).kvs.length, 0);
    for (const [n, changes] of told.entries()) {
      const after = n === 0 ? changes.slice(1) : changes;
      assert.ok(after.length <= 2, `binder ${n} emitted ${after.join(", ")}`);
      assert.ok(
        after.every((c) => c === "update suspect 1" || c === "remove unhealthy"),
        `binder ${n} emitted ${after.join(", ")}`,
      );
    }
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test("with a state file too: a binder restarted within its lease takes its registrations back and keeps them", async () => {
    const prefix = newPrefix();
    const file = join(dir, "shared-state.json");
    const b = await startBinder(prefix);
    const first = await spawnBinder([
      "--state",
      file,
      "--etcd",
      etcd.url,
      "--etcd-prefix",
      prefix,
      "--etcd-lease-ms",
      String(LEASE_MS),
    ]);
    let second: Awaited<ReturnType<typeof spawnBinder>> | undefined;
    try {
      const v3 = createClient(RpcbprogV3, `tcp://127.0.0.1:${first.tcpPort}`, { timeoutMs: 10_000 });
      try {
        assert.equal(await v3.set(rpcb(1, "tcp", "127.0.0.1.13.1")), true);
      } finally {
        v3.$destroy();
      }
      await eventually("seen on B", 5000, () => b.binder.registry.find(P, 1, "tcp") !== undefined);
      await first.stop("SIGKILL");
      second = await spawnBinder([
        "--state",
        file,
        "--etcd",
        etcd.url,
        "--etcd-prefix",
        prefix,
        "--etcd-lease-ms",
        String(LEASE_MS),
      ]);
      // The old lease runs out; the restarted binder moved the registration to its new lease, so it stays.
      await new Promise((resolve) => setTimeout(resolve, 3 * LEASE_MS + 1000));
      assert.equal(b.binder.registry.find(P, 1, "tcp")?.address, "127.0.0.1.13.1");
      assert.equal(await b.v3.getaddr(rpcb(1, "tcp", "")), "127.0.0.1.13.1");
    } finally {
      await first.stop("SIGKILL");
      await second?.stop("SIGKILL");
    }
  });

  test("etcd killed and started again: the binders watch again and go on sharing", async (t) => {
    const prefix = newPrefix();
    const a = await startBinder(prefix);
    const b = await startBinder(prefix);
    assert.equal(await a.v3.set(rpcb(1, "tcp", "127.0.0.1.15.1")), true);
    await eventually("seen on B", 5000, () => b.binder.registry.find(P, 1, "tcp") !== undefined);
    await etcd.restart();
    // Lookups go on from memory while etcd is away and after.
    assert.equal(await b.v3.getaddr(rpcb(1, "tcp", "")), "127.0.0.1.15.1");
    // A SET may find etcd not ready yet (FALSE, undone): the server tries again, as it would.
    const tookMs = await eventually("a SET on A after the restart", 15_000, () =>
      a.v3.set(rpcb(2, "tcp", "127.0.0.1.15.2")),
    );
    await eventually(
      "seen on B after the restart",
      10_000,
      () => b.binder.registry.find(P, 2, "tcp") !== undefined,
    );
    t.diagnostic(`first SET after the restart succeeded in ${tookMs} ms`);
    assert.equal(b.binder.registry.find(P, 1, "tcp")?.address, "127.0.0.1.15.1");
  });

  test("no etcd at the endpoint: listen rejects with ETCD_UNAVAILABLE, naming it", async () => {
    const port = await freePort();
    const binder = createBinder({
      share: {
        etcd: { endpoints: [`http://127.0.0.1:${port}`], prefix: newPrefix(), requestTimeoutMs: 2000 },
      },
      server: { logger: silentLogger },
    });
    const error = await binder.listen("tcp://127.0.0.1:0").then(
      () => assert.fail("listened without etcd"),
      (e: unknown) => e,
    );
    await binder.destroy();
    assert.ok(isStoreError(error), String(error));
    assert.equal(error.code, "ETCD_UNAVAILABLE");
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  test("a second endpoint that answers is used when the first does not", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const prefix = newPrefix();
    const a = await startBinder(prefix, {
      share: { etcd: { endpoints: [dead, etcd.url], prefix, leaseTtlMs: LEASE_MS } },
    });
    const b = await startBinder(prefix);
    assert.equal(await a.v3.set(rpcb(1, "udp", "127.0.0.1.14.1")), true);
    await eventually("seen on B", 5000, () => b.binder.registry.find(P, 1, "udp") !== undefined);
  });
});
