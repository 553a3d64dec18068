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
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Client, createClient, type InetAddress, silentLogger } from "once-rpc";
import {
  type Binder,
  type BinderOptions,
  createBinder,
  isStoreError,
  RpcbprogV3,
  type StoreError,
} from "once-rpc/binder";
import { type EtcdProcess, eventually, freePort, spawnBinder, startEtcd } from "./persistence-harness.js";

const P = 0x2000_0d01;
const LEASE_MS = 2000;

let etcd: EtcdProcess;
let dir: string;
let prefixes = 0;
const binders: Binder[] = [];
const clients: Array<{ $destroy(): void }> = [];

before(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), "once-etcd-binder-"));
});

after(async () => {
  for (const c of clients) c.$destroy();
  for (const b of binders) await b.destroy();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh key prefix, so that each test's binders share only among themselves. */
function newPrefix(): string {
  return `/once-test/${process.pid}/${++prefixes}/`;
}

interface Running {
  readonly binder: Binder;
  readonly v3: Client<typeof RpcbprogV3>;
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
  clients.push(v3);
  return { binder, v3, errors };
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
