/**
 * The instance table (bounds, order, filters, leases, misses, its change
 * feed, apply without emitting, snapshot and load) and the health monitor
 * (when it probes, how many at once, misses and removal, leases, stop), on
 * an injected clock and a probe whose answers the test decides.
 */
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import {
  HealthMonitor,
  type InstanceChange,
  type InstanceRecord,
  InstanceTable,
  isInstanceRecord,
  type NewInstance,
  type ProbeTarget,
} from "once-rpc/binder";

const P = 0x2000_0c01;

function instance(overrides: Partial<NewInstance> = {}): NewInstance {
  return {
    name: "date",
    program: P,
    version: 1,
    netid: "tcp",
    address: "127.0.0.1.4.1",
    metadata: { zone: "a" },
    owner: "unknown",
    leaseMs: 0,
    ...overrides,
  };
}

/** A table on a clock the test moves, with ids id-1, id-2, … */
function table(options: { maxInstances?: number } = {}) {
  const clock = { now: 1_000_000 };
  let n = 0;
  const t = new InstanceTable({ ...options, now: () => clock.now, newId: () => `id-${++n}` });
  return { t, clock };
}

describe("InstanceTable", () => {
  test("register: alive, seen now, its lease from now, a new id each; in the order registered", () => {
    const { t, clock } = table();
    const a = t.register(instance({ leaseMs: 500 }));
    clock.now += 10;
    const b = t.register(instance({ address: "127.0.0.1.4.2" }));
    assert.ok(a && b);
    assert.deepEqual(a, {
      id: "id-1",
      name: "date",
      program: P,
      version: 1,
      netid: "tcp",
      address: "127.0.0.1.4.1",
      metadata: { zone: "a" },
      owner: "unknown",
      state: "alive",
      misses: 0,
      registeredAt: 1_000_000,
      lastSeenAt: 1_000_000,
      leaseMs: 500,
      leaseExpiresAt: 1_000_500,
    });
    assert.equal(b.leaseExpiresAt, null);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.metadata));
    assert.deepEqual(
      t.list().map((r) => r.id),
      ["id-1", "id-2"],
    );
    assert.equal(t.get("id-2"), b);
    assert.equal(t.size, 2);
  });

  test("the default ids are UUIDs, all different", () => {
    const t = new InstanceTable();
    const ids = new Set(Array.from({ length: 100 }, () => t.register(instance())?.id));
    assert.equal(ids.size, 100);
    for (const id of ids)
      assert.match(String(id), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test("an id the generator repeats is not handed out twice", () => {
    const t = new InstanceTable({ newId: () => "same" });
    const a = t.register(instance());
    const b = t.register(instance());
    assert.equal(a?.id, "same");
    assert.notEqual(b?.id, "same");
    assert.equal(t.size, 2);
  });

  test("bounded: past maxInstances a registration is refused; a removal makes room", () => {
    const { t } = table({ maxInstances: 2 });
    assert.ok(t.register(instance()));
    assert.ok(t.register(instance()));
    assert.equal(t.register(instance()), undefined);
    assert.equal(t.size, 2);
    assert.equal(t.remove("id-1"), true);
    assert.ok(t.register(instance()));
    assert.equal(t.size, 2);
  });

  test("list filters by program, version, name and netid (netids without regard to case)", () => {
    const { t } = table();
    t.register(instance());
    t.register(instance({ version: 2 }));
    t.register(instance({ name: "other" }));
    t.register(instance({ netid: "udp" }));
    t.register(instance({ program: P + 1 }));
    const ids = (f: Parameters<InstanceTable["list"]>[0]) => t.list(f).map((r) => r.id);
    assert.deepEqual(ids({ program: P, version: 1 }), ["id-1", "id-3", "id-4"]);
    assert.deepEqual(ids({ program: P, version: 1, name: "date" }), ["id-1", "id-4"]);
    assert.deepEqual(ids({ program: P, version: 1, netid: "UDP" }), ["id-4"]);
    assert.deepEqual(ids({ program: P, version: 2 }), ["id-2"]);
    assert.deepEqual(ids({ name: "nobody" }), []);
    assert.equal(t.list().length, 5);
  });

  test("leases: renewing runs the lease again from now; at its expiry it is dropped; no lease never expires", () => {
    const { t, clock } = table();
    t.register(instance({ leaseMs: 1000 }));
    t.register(instance({ leaseMs: 0 }));
    clock.now += 600;
    const renewed = t.renew("id-1");
    assert.equal(renewed?.leaseExpiresAt, 1_001_600);
    assert.equal(renewed?.lastSeenAt, 1_000_600);
    assert.deepEqual(t.expireLeases(1_001_599), []);
    assert.deepEqual(
      t.expireLeases(1_001_600).map((r) => r.id),
      ["id-1"],
    );
    assert.deepEqual(
      t.list().map((r) => r.id),
      ["id-2"],
    );
    assert.deepEqual(t.expireLeases(Number.MAX_SAFE_INTEGER), []);
    assert.equal(t.renew("id-1"), undefined);
  });

  test("misses: suspect, counted in a row, reset by an answer or a renewal, removed at maxMisses", () => {
    const { t, clock } = table();
    t.register(instance());
    assert.equal(t.markMissed("id-1", 3), "suspect");
    assert.equal(t.markMissed("id-1", 3), "suspect");
    assert.deepEqual([t.get("id-1")?.state, t.get("id-1")?.misses], ["suspect", 2]);
    clock.now += 5;
    const alive = t.markAlive("id-1");
    assert.deepEqual([alive?.state, alive?.misses, alive?.lastSeenAt], ["alive", 0, 1_000_005]);
    t.markMissed("id-1", 3);
    t.renew("id-1");
    assert.deepEqual([t.get("id-1")?.state, t.get("id-1")?.misses], ["alive", 0]);
    assert.equal(t.markMissed("id-1", 3), "suspect");
    assert.equal(t.markMissed("id-1", 3), "suspect");
    assert.equal(t.markMissed("id-1", 3), "removed");
    assert.equal(t.get("id-1"), undefined);
    assert.equal(t.markMissed("id-1", 3), undefined);
    assert.equal(t.markAlive("id-1"), undefined);
  });

  test("an update keeps the instance's place in the order", () => {
    const { t } = table();
    t.register(instance());
    t.register(instance());
    t.markMissed("id-1", 3);
    assert.deepEqual(
      t.list().map((r) => r.id),
      ["id-1", "id-2"],
    );
  });
});

describe("the change feed", () => {
  test("add, update and remove are emitted after they are made, with the whole record", () => {
    const { t, clock } = table();
    const seen: Array<[InstanceChange, number]> = [];
    t.subscribe((change) => seen.push([change, t.size]));
    const a = t.register(instance({ leaseMs: 100 }));
    t.markMissed("id-1", 5);
    t.markAlive("id-1");
    t.renew("id-1");
    t.register(instance());
    t.remove("id-2");
    t.markMissed("id-1", 1);
    t.register(instance({ leaseMs: 10 }));
    clock.now += 10;
    t.expireLeases();
    assert.equal(t.remove("nobody"), false);
    assert.deepEqual(
      seen.map(
        ([c, size]) => `${c.type} ${c.type === "remove" ? `${c.id} ${c.reason}` : c.instance.id} ${size}`,
      ),
      [
        "add id-1 1",
        "update id-1 1",
        "update id-1 1",
        "update id-1 1",
        "add id-2 2",
        "remove id-2 unregistered 1",
        "remove id-1 unhealthy 0",
        "add id-3 1",
        "remove id-3 lease-expired 0",
      ],
    );
    assert.deepEqual(seen[0][0], { type: "add", instance: a });
    const missed = seen[1][0];
    assert.ok(missed.type === "update");
    assert.deepEqual([missed.instance.state, missed.instance.misses], ["suspect", 1]);
  });

  test("health answers and misses are emitted only when the state changes; the rest stays in this table", () => {
    const { t, clock } = table();
    const told: string[] = [];
    t.subscribe((c) =>
      told.push(
        c.type === "remove" ? `remove ${c.reason}` : `${c.type} ${c.instance.state} ${c.instance.misses}`,
      ),
    );
    const replica = new InstanceTable();
    t.subscribe((c) => replica.apply(c));
    t.register(instance());
    for (let i = 1; i <= 3; i++) {
      clock.now += 100;
      assert.equal(t.markAlive("id-1")?.lastSeenAt, 1_000_000 + 100 * i);
    }
    assert.deepEqual(told, ["add alive 0"], "answers from an instance alive already: none emitted");
    assert.equal(t.get("id-1")?.lastSeenAt, 1_000_300, "seen here");
    assert.equal(
      replica.get("id-1")?.lastSeenAt,
      1_000_000,
      "the replica holds the last change it was told of",
    );
    assert.equal(t.markMissed("id-1", 3), "suspect");
    assert.equal(t.markMissed("id-1", 3), "suspect");
    assert.deepEqual([t.get("id-1")?.state, t.get("id-1")?.misses], ["suspect", 2], "counted here");
    assert.deepEqual([replica.get("id-1")?.state, replica.get("id-1")?.misses], ["suspect", 1]);
    clock.now += 100;
    t.markAlive("id-1");
    assert.deepEqual([replica.get("id-1")?.state, replica.get("id-1")?.lastSeenAt], ["alive", 1_000_400]);
    t.markMissed("id-1", 3);
    t.markMissed("id-1", 3);
    assert.equal(t.markMissed("id-1", 3), "removed");
    assert.deepEqual(told, [
      "add alive 0",
      "update suspect 1", // alive to suspect
      "update alive 0", // suspect to alive
      "update suspect 1",
      "remove unhealthy", // the third miss in a row
    ]);
    assert.equal(replica.size, 0);
  });

  test("an instance renewed is emitted every time: its lease runs on every binder", () => {
    const { t, clock } = table();
    const told: InstanceChange[] = [];
    t.subscribe((c) => told.push(c));
    t.register(instance({ leaseMs: 1000 }));
    clock.now += 10;
    t.renew("id-1");
    clock.now += 10;
    t.renew("id-1");
    assert.deepEqual(
      told.map((c) => (c.type === "remove" ? c.type : `${c.type} ${c.instance.leaseExpiresAt}`)),
      ["add 1001000", "update 1001010", "update 1001020"],
    );
  });

  test("unsubscribing stops the listener; a listener that throws stops neither the change nor the others", () => {
    const errors: unknown[] = [];
    const t = new InstanceTable({ onListenerError: (e) => errors.push(e) });
    const calls: string[] = [];
    const stop = t.subscribe(() => calls.push("first"));
    t.subscribe(() => {
      throw new Error("boom");
    });
    t.subscribe(() => calls.push("third"));
    t.register(instance());
    stop();
    t.register(instance());
    assert.deepEqual(calls, ["first", "third", "third"]);
    assert.equal(errors.length, 2);
    assert.equal(t.size, 2);
  });

  test("the same listener subscribed twice is told twice and stopped one at a time", () => {
    const { t } = table();
    let n = 0;
    const listener = () => n++;
    const stopOne = t.subscribe(listener);
    t.subscribe(listener);
    t.register(instance());
    stopOne();
    t.register(instance());
    assert.equal(n, 3);
  });

  test("apply: a replica fed the changes as JSON ends equal, and emits nothing", () => {
    const { t: source, clock } = table();
    const replica = new InstanceTable();
    const echoed: InstanceChange[] = [];
    replica.subscribe((c) => echoed.push(c));
    source.subscribe((c) => assert.equal(replica.apply(JSON.parse(JSON.stringify(c))), true));
    source.register(instance({ leaseMs: 1000, metadata: { zone: "b", weight: "3" } }));
    source.register(instance({ netid: "udp" }));
    source.register(instance({ name: "x" }));
    source.markMissed("id-2", 3);
    clock.now += 50;
    source.renew("id-1");
    source.remove("id-3");
    assert.deepEqual(replica.snapshot(), source.snapshot());
    assert.deepEqual(echoed, []);
    // Applying the same changes again changes nothing (idempotent).
    replica.apply({ type: "remove", id: "id-3", reason: "unregistered" });
    replica.apply({ type: "update", instance: source.get("id-1") as InstanceRecord });
    assert.deepEqual(replica.snapshot(), source.snapshot());
  });

  test("apply honours the bound: a new id past it is dropped (false); an update of a known one goes", () => {
    const { t: source } = table();
    const a = source.register(instance()) as InstanceRecord;
    const b = source.register(instance()) as InstanceRecord;
    const replica = new InstanceTable({ maxInstances: 1 });
    assert.equal(replica.apply({ type: "add", instance: a }), true);
    assert.equal(replica.apply({ type: "add", instance: b }), false);
    assert.equal(replica.apply({ type: "update", instance: { ...a, misses: 2, state: "suspect" } }), true);
    assert.deepEqual(
      replica.list().map((r) => [r.id, r.misses]),
      [["id-1", 2]],
    );
  });

  test("a record applied or loaded is copied: changing the caller's object later changes nothing here", () => {
    const { t: source } = table();
    const record = { ...(source.register(instance()) as InstanceRecord), metadata: { zone: "a" } };
    const replica = new InstanceTable();
    replica.apply({ type: "add", instance: record });
    record.metadata.zone = "changed";
    assert.equal(replica.get("id-1")?.metadata.zone, "a");
    assert.ok(Object.isFrozen(replica.get("id-1")));
  });
});

describe("snapshot and load", () => {
  test("load replaces everything with a snapshot (through JSON), emits nothing, and keeps the bound", () => {
    const { t: source } = table();
    for (let i = 0; i < 5; i++) source.register(instance({ leaseMs: i * 100 }));
    const saved = JSON.stringify(source.snapshot());
    const restored = new InstanceTable();
    restored.register(instance({ name: "gone" }));
    const changes: InstanceChange[] = [];
    restored.subscribe((c) => changes.push(c));
    assert.equal(restored.load(JSON.parse(saved)), 5);
    assert.deepEqual(restored.snapshot(), source.snapshot());
    assert.deepEqual(changes, []);
    const small = new InstanceTable({ maxInstances: 3 });
    assert.equal(small.load(JSON.parse(saved)), 3);
    assert.deepEqual(
      small.list().map((r) => r.id),
      ["id-1", "id-2", "id-3"],
    );
  });

  test("isInstanceRecord tells a record from something else", () => {
    const { t } = table();
    const record = t.register(instance({ leaseMs: 5 })) as InstanceRecord;
    assert.equal(isInstanceRecord(JSON.parse(JSON.stringify(record))), true);
    assert.equal(isInstanceRecord(null), false);
    assert.equal(isInstanceRecord({ ...record, state: "dead" }), false);
    assert.equal(isInstanceRecord({ ...record, program: -1 }), false);
    assert.equal(isInstanceRecord({ ...record, metadata: { a: 1 } }), false);
    assert.equal(isInstanceRecord({ ...record, leaseExpiresAt: undefined }), false);
  });
});

/** A probe whose answers the test gives, one call at a time. */
function scriptedProbe() {
  const calls: Array<{
    target: ProbeTarget;
    timeoutMs: number;
    signal: AbortSignal;
    answer: (alive: boolean) => void;
  }> = [];
  const probe = (target: ProbeTarget, timeoutMs: number, signal: AbortSignal) =>
    new Promise<boolean>((resolve) => calls.push({ target, timeoutMs, signal, answer: resolve }));
  return { calls, probe };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("HealthMonitor", () => {
  test("probes an instance once it has not been seen for an interval; an answer waits another interval", async () => {
    const { t, clock } = table();
    const { calls, probe } = scriptedProbe();
    const monitor = new HealthMonitor(t, { healthIntervalMs: 100, healthTimeoutMs: 40, probe });
    t.register(instance());
    monitor.tick();
    clock.now += 99;
    monitor.tick();
    assert.equal(calls.length, 0);
    clock.now += 1;
    monitor.tick();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].timeoutMs, 40);
    assert.equal(calls[0].target.address, "127.0.0.1.4.1");
    monitor.tick();
    assert.equal(calls.length, 1, "no second probe while one runs");
    calls[0].answer(true);
    await settle();
    assert.equal(t.get("id-1")?.lastSeenAt, clock.now);
    clock.now += 99;
    monitor.tick();
    assert.equal(calls.length, 1);
    clock.now += 1;
    monitor.tick();
    assert.equal(calls.length, 2);
    monitor.stop();
  });

  test("misses make it suspect and maxMisses in a row remove it, one probe per interval", async () => {
    const { t, clock } = table();
    const { calls, probe } = scriptedProbe();
    const monitor = new HealthMonitor(t, { healthIntervalMs: 100, maxMisses: 3, probe });
    const removed: string[] = [];
    t.subscribe((c) => c.type === "remove" && removed.push(`${c.id} ${c.reason}`));
    t.register(instance());
    clock.now += 100;
    for (let round = 1; round <= 3; round++) {
      monitor.tick();
      assert.equal(calls.length, round);
      calls[round - 1].answer(false);
      await settle();
      clock.now += 50;
      monitor.tick();
      assert.equal(calls.length, round, "not probed again within the interval");
      if (round < 3) assert.deepEqual([t.get("id-1")?.state, t.get("id-1")?.misses], ["suspect", round]);
      clock.now += 50;
    }
    assert.equal(t.get("id-1"), undefined);
    assert.deepEqual(removed, ["id-1 unhealthy"]);
    monitor.stop();
  });

  test("a renewal counts as a sign of life: an instance that renews in time is not probed", () => {
    const { t, clock } = table();
    const { calls, probe } = scriptedProbe();
    const monitor = new HealthMonitor(t, { healthIntervalMs: 100, probe });
    t.register(instance({ leaseMs: 1000 }));
    for (let i = 0; i < 10; i++) {
      clock.now += 60;
      t.renew("id-1");
      monitor.tick();
    }
    assert.equal(calls.length, 0);
    monitor.stop();
  });

  test("at most maxConcurrentProbes at once; a slot that frees is filled from the due ones at once", async () => {
    const { t, clock } = table();
    const { calls, probe } = scriptedProbe();
    const monitor = new HealthMonitor(t, { healthIntervalMs: 100, maxConcurrentProbes: 2, probe });
    for (let i = 0; i < 5; i++) t.register(instance());
    clock.now += 100;
    monitor.tick();
    assert.equal(monitor.probesInFlight, 2);
    assert.deepEqual(
      calls.map((c) => (c.target as InstanceRecord).id),
      ["id-1", "id-2"],
    );
    // A slot that frees is filled at once, not at the next tick.
    calls[0].answer(true);
    await settle();
    assert.deepEqual(
      calls.map((c) => (c.target as InstanceRecord).id),
      ["id-1", "id-2", "id-3"],
    );
    monitor.tick();
    assert.equal(calls.length, 3, "the tick starts none past the limit");
    calls[1].answer(false);
    calls[2].answer(true);
    await settle();
    assert.deepEqual(
      calls.map((c) => (c.target as InstanceRecord).id),
      ["id-1", "id-2", "id-3", "id-4", "id-5"],
    );
    monitor.stop();
  });

  test("leases run out on a tick, health checks or not", () => {
    const { t, clock } = table();
    const monitor = new HealthMonitor(t, { healthIntervalMs: 0 });
    t.register(instance({ leaseMs: 300 }));
    t.register(instance());
    clock.now += 299;
    monitor.tick();
    assert.equal(t.size, 2);
    clock.now += 1;
    monitor.tick();
    assert.deepEqual(
      t.list().map((r) => r.id),
      ["id-2"],
    );
    assert.equal(monitor.tickMs, 1000);
  });

  test("stop aborts the probes running and ignores their answers", async () => {
    const { t, clock } = table();
    const { calls, probe } = scriptedProbe();
    const monitor = new HealthMonitor(t, { healthIntervalMs: 100, maxMisses: 1, probe });
    t.register(instance());
    clock.now += 100;
    monitor.tick();
    monitor.stop();
    assert.equal(calls[0].signal.aborted, true);
    calls[0].answer(false);
    await settle();
    assert.equal(t.size, 1);
  });

  test("one interval timer drives the ticks, a fifth of the health interval; start is idempotent, stop ends them", () => {
    mock.timers.enable({ apis: ["setInterval"] });
    try {
      const { t, clock } = table();
      const { calls, probe } = scriptedProbe();
      const monitor = new HealthMonitor(t, { healthIntervalMs: 500, probe });
      assert.equal(monitor.tickMs, 100);
      t.register(instance({ leaseMs: 250 }));
      monitor.start();
      monitor.start();
      clock.now += 250;
      mock.timers.tick(100);
      assert.equal(t.size, 0, "the lease ran out");
      t.register(instance());
      clock.now += 500;
      mock.timers.tick(100);
      assert.equal(calls.length, 1);
      monitor.stop();
      clock.now += 5000;
      mock.timers.tick(1000);
      assert.equal(calls.length, 1);
    } finally {
      mock.timers.reset();
    }
  });
});
