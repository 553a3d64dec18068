/**
 * The binder's state survives restarts: the registry's change feed, the
 * state file (atomic snapshot by rename; a torn temporary file ignored, a
 * corrupt file refused with a clear error), restored registrations checked
 * at start, and `once binder --state` killed with SIGKILL and restarted
 * with registrations made through real SET calls still there.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient, createServer, type InetAddress, type Server, silentLogger } from "once-rpc";
import {
  createBinder,
  isStoreError,
  OnceBinderProgV1,
  onceBinderProt,
  PmapProgV2,
  type Registration,
  Registry,
  type RegistryChange,
  RpcbprogV3,
  RpcbprogV4,
  readStateFile,
  registrationKey,
  type StoreError,
} from "once-rpc/binder";
import { runOnce, spawnBinder } from "./persistence-harness.js";

const P = 0x2000_0c01;

function reg(version: number, netid: string, address: string, owner = "superuser"): Registration {
  return { program: P, version, netid, address, owner };
}

function rpcb(version: number, netid: string, address: string) {
  return { r_prog: P, r_vers: version, r_netid: netid, r_addr: address, r_owner: "" };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "once-persistence-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the registry's change feed", () => {
  test("emits each SET that adds and each registration an UNSET removes, as plain data", () => {
    const r = new Registry();
    const seen: RegistryChange[] = [];
    r.subscribe((c) => seen.push(c));
    assert.equal(r.set(reg(1, "tcp", "a")), true);
    assert.equal(r.set(reg(1, "tcp", "a")), true); // the same again: nothing changes
    assert.equal(r.set(reg(1, "TCP", "b")), false); // refused: nothing changes
    assert.equal(r.set(reg(1, "udp", "c")), true);
    assert.equal(r.unset(P, 1, "", "superuser"), true); // every netid: one change each
    assert.deepEqual(JSON.parse(JSON.stringify(seen)), [
      { type: "set", registration: reg(1, "tcp", "a") },
      { type: "set", registration: reg(1, "udp", "c") },
      { type: "unset", registration: reg(1, "tcp", "a") },
      { type: "unset", registration: reg(1, "udp", "c") },
    ]);
  });

  test("an UNSET stopped by an owner emits what it removed before; the binder's own entries are never emitted", () => {
    const r = new Registry();
    r.setOwn([{ program: P, version: 1, netid: "local", address: "/x", owner: "superuser" }]);
    r.set(reg(1, "tcp", "a", "1000"));
    r.set(reg(1, "udp", "b", "1001"));
    const seen: RegistryChange[] = [];
    const stop = r.subscribe((c) => seen.push(c));
    assert.equal(r.unset(P, 1, "", "1000"), false); // own "local" entry: superuser's, so it stops there
    assert.equal(seen.length, 0);
    assert.equal(r.unset(P, 1, "tcp", "1000"), true);
    assert.deepEqual(
      seen.map((c) => `${c.type} ${c.registration.netid}`),
      ["unset tcp"],
    );
    stop();
    r.set(reg(2, "tcp", "z"));
    assert.equal(seen.length, 1);
  });

  test("a subscriber that throws does not stop the change nor the other subscribers", () => {
    const errors: unknown[] = [];
    const r = new Registry({ onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    r.subscribe(() => {
      throw new Error("boom");
    });
    r.subscribe((c) => seen.push(c.type));
    assert.equal(r.set(reg(1, "tcp", "a")), true);
    assert.deepEqual(seen, ["set"]);
    assert.equal(errors.length, 1);
    assert.equal(r.size, 1);
  });

  test("apply makes a change without emitting it: set replaces the slot in place, unset empties it", () => {
    const r = new Registry();
    r.set(reg(1, "tcp", "a"));
    r.set(reg(1, "udp", "b"));
    const seen: RegistryChange[] = [];
    r.subscribe((c) => seen.push(c));
    assert.equal(r.apply({ type: "set", registration: reg(1, "TCP", "winner", "7") }), true);
    assert.deepEqual(r.list(), [reg(1, "TCP", "winner", "7"), reg(1, "udp", "b")]);
    assert.equal(r.apply({ type: "set", registration: reg(2, "tcp", "c") }), true);
    assert.equal(r.apply({ type: "unset", registration: reg(1, "udp", "") }), true);
    assert.equal(r.apply({ type: "unset", registration: reg(9, "udp", "") }), true); // idempotent
    assert.deepEqual(r.list(), [reg(1, "TCP", "winner", "7"), reg(2, "tcp", "c")]);
    assert.deepEqual(seen, []);
    // rpcbind's rules still hold on what was applied.
    assert.equal(r.set(reg(1, "tcp", "other")), false);
    assert.equal(r.find(P, 1, "tcp")?.address, "winner");
  });

  test("apply past maxEntries drops a new slot and says so; load keeps the first maxEntries", () => {
    const r = new Registry({ maxEntries: 2 });
    assert.equal(r.apply({ type: "set", registration: reg(1, "tcp", "a") }), true);
    assert.equal(r.apply({ type: "set", registration: reg(2, "tcp", "b") }), true);
    assert.equal(r.apply({ type: "set", registration: reg(3, "tcp", "c") }), false);
    assert.equal(r.apply({ type: "set", registration: reg(2, "tcp", "b2") }), true);
    assert.equal(
      r.load([reg(5, "tcp", "x"), reg(6, "tcp", "y"), reg(5, "tcp", "x2"), reg(7, "tcp", "z")]),
      2,
    );
    assert.deepEqual(r.list(), [reg(5, "tcp", "x2"), reg(6, "tcp", "y")]);
  });

  test("snapshot and load round-trip through JSON, without the binder's own entries", () => {
    const a = new Registry();
    a.setOwn([{ program: 100000, version: 4, netid: "tcp", address: "127.0.0.1.0.111", owner: "superuser" }]);
    a.set(reg(1, "tcp", "a"));
    a.set(reg(1, "weird/net id", "b"));
    const b = new Registry();
    b.load(JSON.parse(JSON.stringify(a.snapshot())));
    assert.deepEqual(b.list(), [reg(1, "tcp", "a"), reg(1, "weird/net id", "b")]);
    assert.equal(registrationKey(reg(1, "weird/net ID", "")), `${P}/1/weird%2Fnet%20id`);
  });
});

describe("the state file, in one process", () => {
  test("registrations and instances made before close are there after a new binder loads the file", async () => {
    const file = join(dir, "roundtrip.json");
    const first = createBinder({ stateFile: file, server: { logger: silentLogger } });
    const tcp = (await first.listen("tcp://127.0.0.1:0")) as InetAddress;
    const v3 = createClient(RpcbprogV3, `tcp://127.0.0.1:${tcp.port}`, { timeoutMs: 5000 });
    try {
      assert.equal(await v3.set(rpcb(1, "tcp", "127.0.0.1.7.1")), true);
      assert.equal(await v3.set(rpcb(1, "udp", "127.0.0.1.7.2")), true);
      assert.equal(await v3.set(rpcb(2, "tcp", "127.0.0.1.7.3")), true);
      assert.equal(await v3.unset(rpcb(1, "udp", "")), true);
      // Answered once written: the file holds it now, before close.
      const written = readStateFile(file);
      assert.deepEqual(
        written?.get("registrations")?.map((e) => e.key),
        [`${P}/1/tcp`, `${P}/2/tcp`],
      );
    } finally {
      v3.$destroy();
    }
    const instance = first.instances.register({
      name: "kv",
      program: P,
      version: 1,
      netid: "tcp",
      address: "127.0.0.1.7.1",
      metadata: { zone: "a" },
      owner: "unknown",
      leaseMs: 0,
    });
    await first.close();

    const second = createBinder({ stateFile: file, server: { logger: silentLogger } });
    await second.listen("tcp://127.0.0.1:0");
    try {
      assert.deepEqual(
        second.registry.list().filter((r) => r.program === P),
        [reg(1, "tcp", "127.0.0.1.7.1", "unknown"), reg(2, "tcp", "127.0.0.1.7.3", "unknown")],
      );
      assert.deepEqual(second.instances.get(instance?.id ?? ""), instance);
      // rpcbind's rule on what was restored: another address for a taken slot is refused.
      assert.equal(second.registry.set(reg(1, "tcp", "127.0.0.1.9.9")), false);
    } finally {
      await second.close();
    }
    assert.equal(existsSync(`${file}.tmp`), false);
  });

  test("REGISTER is answered once the file holds the instance; health answers do not rewrite the file", async () => {
    const file = join(dir, "instances.json");
    let probes = 0;
    const binder = createBinder({
      stateFile: file,
      healthIntervalMs: 20,
      probe: async () => {
        probes++;
        return true;
      },
      server: { logger: silentLogger },
    });
    const tcp = (await binder.listen("tcp://127.0.0.1:0")) as InetAddress;
    const c = createClient(OnceBinderProgV1, `tcp://127.0.0.1:${tcp.port}`, { timeoutMs: 5000 });
    try {
      const res = await c.register({
        name: "kv",
        prog: P,
        vers: 1,
        netid: "tcp",
        addr: "127.0.0.1.7.9",
        metadata: [],
        lease_ms: 0,
      });
      assert.ok(res.status === onceBinderProt.InstanceStatus.INSTANCE_OK);
      const keys = () =>
        readStateFile(file)
          ?.get("instances")
          ?.map((e) => e.key);
      assert.deepEqual(keys(), [res.instance.id], "in the file when REGISTER is answered");
      const savedAt = JSON.parse(readFileSync(file, "utf8")).savedAt;
      const deadline = Date.now() + 10_000;
      while (probes < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(probes >= 10, `${probes} probes`);
      assert.equal(
        JSON.parse(readFileSync(file, "utf8")).savedAt,
        savedAt,
        "rewritten after a health answer",
      );
      assert.equal(await c.unregister(res.instance.id), onceBinderProt.InstanceStatus.INSTANCE_OK);
      assert.deepEqual(keys(), [], "out of the file when UNREGISTER is answered");
    } finally {
      c.$destroy();
      await binder.close();
    }
  });

  test("a torn temporary file left by a crash mid-write is removed and the last whole snapshot loaded", async () => {
    const file = join(dir, "torn.json");
    const seed = createBinder({ stateFile: file, server: { logger: silentLogger } });
    await seed.listen("tcp://127.0.0.1:0");
    seed.registry.set(reg(1, "tcp", "127.0.0.1.1.1"));
    await seed.close();
    const whole = readFileSync(file, "utf8");
    // What a crash between write and rename leaves: half of a newer snapshot beside the old one.
    writeFileSync(`${file}.tmp`, whole.replace("127.0.0.1.1.1", "127.0.0.1.2.2").slice(0, whole.length >> 1));
    const errors: StoreError[] = [];
    const binder = createBinder({
      stateFile: file,
      onStoreError: (e) => errors.push(e),
      server: { logger: silentLogger },
    });
    await binder.listen("tcp://127.0.0.1:0");
    try {
      assert.equal(binder.registry.find(P, 1, "tcp")?.address, "127.0.0.1.1.1");
      assert.equal(existsSync(`${file}.tmp`), false);
      assert.equal(errors.length, 1);
      assert.match(
        errors[0].message,
        /^STATE_FILE_IO: removed .*torn\.json\.tmp, left by a write that did not finish$/,
      );
    } finally {
      await binder.close();
    }
  });

  for (const [name, text, why] of [
    ["truncated", (whole: string) => whole.slice(0, whole.length - 20), /not whole JSON/],
    ["not JSON", () => "\u0000\u0000garbage", /not whole JSON/],
    ["another JSON file", () => '{"hello": 1}', /format is not "once-rpc binder state"/],
    [
      "a record that is no entry",
      (whole: string) => whole.replace(/"key":/, '"kee":'),
      /registrations\[0\] is not a \{key, value\} entry/,
    ],
    [
      "a registration that is no registration",
      (whole: string) => whole.replace(/"program":\d+/, '"program":"x"'),
      /collections\.registrations\[0\] is not a record of its kind/,
    ],
    [
      "a registration under another key",
      (whole: string) => whole.replace(/"key":"\d+\//, '"key":"7/'),
      /collections\.registrations\[0\] is not under its key/,
    ],
    [
      "a later version",
      (whole: string) => whole.replace('"version":1', '"version":2'),
      /version 2; this binder reads version 1/,
    ],
  ] as const) {
    test(`a state file that is ${name} is refused: listen rejects with STATE_FILE_CORRUPT and the file is left as it was`, async () => {
      const file = join(dir, `corrupt-${name.replace(/\W/g, "-")}.json`);
      const seed = createBinder({ stateFile: file, server: { logger: silentLogger } });
      await seed.listen("tcp://127.0.0.1:0");
      seed.registry.set(reg(1, "tcp", "127.0.0.1.1.1"));
      await seed.close();
      const damaged = text(readFileSync(file, "utf8"));
      writeFileSync(file, damaged);
      const binder = createBinder({ stateFile: file, server: { logger: silentLogger } });
      const error = await binder.listen("tcp://127.0.0.1:0").then(
        () => assert.fail("listened on a corrupt state file"),
        (e: unknown) => e,
      );
      await binder.destroy();
      assert.ok(isStoreError(error), String(error));
      assert.equal(error.code, "STATE_FILE_CORRUPT");
      assert.match(error.message, /^STATE_FILE_CORRUPT: .*corrupt-.*\.json: /);
      assert.match(error.message, why);
      assert.match(error.message, /move it away to start empty/);
      assert.equal(binder.addresses.length, 0);
      assert.equal(readFileSync(file, "utf8"), damaged);
    });
  }

  test("checkRestored drops restored registrations whose server does not answer a NULL call", async () => {
    const file = join(dir, "check.json");
    const live: Server = createServer({ logger: silentLogger });
    const Prog = {
      programName: "P",
      program: P,
      versionName: "V1",
      version: 1,
      procedures: {},
    } as const;
    live.addProgram(Prog, {});
    const liveTcp = (await live.listen("tcp://127.0.0.1:0")) as InetAddress;
    const gone = createServer({ logger: silentLogger });
    const goneTcp = (await gone.listen("tcp://127.0.0.1:0")) as InetAddress;
    await gone.close(); // its port now refuses connections
    const uaddr = (port: number) => `127.0.0.1.${port >> 8}.${port & 255}`;
    const seed = createBinder({ stateFile: file, server: { logger: silentLogger } });
    await seed.listen("tcp://127.0.0.1:0");
    seed.registry.set(reg(1, "tcp", uaddr(liveTcp.port)));
    seed.registry.set(reg(2, "tcp", uaddr(goneTcp.port)));
    await seed.close();
    try {
      const kept = createBinder({ stateFile: file, server: { logger: silentLogger } });
      await kept.listen("tcp://127.0.0.1:0");
      assert.equal(
        kept.registry.snapshot().length,
        2,
        "without checkRestored all are restored, as rpcbind -w",
      );
      await kept.close();

      const checked = createBinder({
        stateFile: file,
        checkRestored: true,
        checkRestoredTimeoutMs: 2000,
        server: { logger: silentLogger },
      });
      await checked.listen("tcp://127.0.0.1:0");
      try {
        assert.deepEqual(checked.registry.snapshot(), [reg(1, "tcp", uaddr(liveTcp.port))]);
        assert.deepEqual(
          readStateFile(file)
            ?.get("registrations")
            ?.map((e) => e.key),
          [`${P}/1/tcp`],
        );
      } finally {
        await checked.close();
      }
    } finally {
      await live.close();
    }
  });
});

describe("once binder --state, killed with SIGKILL", () => {
  test("registrations made by SET calls (rpcbind v3 and v4, portmapper v2) are there after a restart", async () => {
    const file = join(dir, "killed.json");
    const first = await spawnBinder(["--state", file]);
    let restarted: Awaited<ReturnType<typeof spawnBinder>> | undefined;
    try {
      const v3 = createClient(RpcbprogV3, `tcp://127.0.0.1:${first.tcpPort}`, { timeoutMs: 5000 });
      const v4 = createClient(RpcbprogV4, `udp://127.0.0.1:${first.udpPort}`, { timeoutMs: 5000 });
      const v2 = createClient(PmapProgV2, `tcp://127.0.0.1:${first.tcpPort}`, { timeoutMs: 5000 });
      try {
        assert.equal(await v3.set(rpcb(1, "tcp", "127.0.0.1.8.1")), true);
        assert.equal(await v4.set(rpcb(1, "udp", "127.0.0.1.8.2")), true);
        assert.equal(await v3.set(rpcb(3, "tcp", "127.0.0.1.8.3")), true);
        assert.equal(await v3.unset(rpcb(3, "tcp", "")), true);
        assert.equal(await v2.set({ prog: P, vers: 2, prot: 6, port: 2052 }), true);
      } finally {
        v3.$destroy();
        v4.$destroy();
        v2.$destroy();
      }
      // SIGKILL right after the last answer: no close, no final write.
      assert.equal(await first.stop("SIGKILL"), null);

      restarted = await spawnBinder(["--state", file]);
      const after3 = createClient(RpcbprogV3, `tcp://127.0.0.1:${restarted.tcpPort}`, { timeoutMs: 5000 });
      const afterUdp = createClient(RpcbprogV4, `udp://127.0.0.1:${restarted.udpPort}`, { timeoutMs: 5000 });
      try {
        assert.equal(await after3.getaddr(rpcb(1, "tcp", "")), "127.0.0.1.8.1");
        assert.equal(await afterUdp.getversaddr(rpcb(1, "udp", "")), "127.0.0.1.8.2");
        assert.equal(await after3.getaddr(rpcb(3, "tcp", "")), "127.0.0.1.8.4"); // v3 was unset: the program's last on tcp (v2's, merged)
        const dump: string[] = [];
        for (let e = await after3.dump(); e !== null; e = e.rpcb_next) {
          if (e.rpcb_map.r_prog === P)
            dump.push(`${e.rpcb_map.r_vers}/${e.rpcb_map.r_netid}/${e.rpcb_map.r_addr}`);
        }
        assert.deepEqual(dump, ["1/tcp/127.0.0.1.8.1", "1/udp/127.0.0.1.8.2", "2/tcp/0.0.0.0.8.4"]);
        // The new binder's own entries are its new ports, not the dead one's.
        assert.equal(
          await after3.getaddr({ r_prog: 100000, r_vers: 3, r_netid: "", r_addr: "", r_owner: "" }),
          `127.0.0.1.${restarted.tcpPort >> 8}.${restarted.tcpPort & 255}`,
        );
      } finally {
        after3.$destroy();
        afterUdp.$destroy();
      }
      assert.equal(await restarted.stop("SIGTERM"), 0);
    } finally {
      await first.stop("SIGKILL");
      await restarted?.stop("SIGKILL");
    }
  });

  test("a corrupt state file: exit status 1 and a message naming the file, the file untouched", async () => {
    const file = join(dir, "cli-corrupt.json");
    writeFileSync(
      file,
      '{"format":"once-rpc binder state","version":1,"collections":{"registrations":[{"key"',
    );
    const r = await runOnce(["binder", "--listen", "tcp://127.0.0.1:0", "--state", file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^once binder: STATE_FILE_CORRUPT: .*cli-corrupt\.json: .* bytes that are not whole JSON/,
    );
    assert.equal(r.stdout, "");
    assert.equal(
      readFileSync(file, "utf8"),
      '{"format":"once-rpc binder state","version":1,"collections":{"registrations":[{"key"',
    );
  });

  test("usage errors: --state-check without --state, --etcd-prefix without --etcd, a bad --etcd URL", async () => {
    for (const args of [
      ["--state-check"],
      ["--etcd-prefix", "/x/"],
      ["--etcd", "127.0.0.1:2379"],
      ["--etcd", "http://h:1", "--etcd-lease-ms", "0"],
    ]) {
      const r = await runOnce(["binder", "--listen", "tcp://127.0.0.1:0", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^once binder: /);
    }
  });
});
