/**
 * The proxy message by message, with raw peers on both sides: which
 * messages arrive, in what order, with what bytes, and that a seed repeats
 * the decisions exactly.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { test } from "node:test";
import {
  createProxy,
  FaultPlan,
  type FaultProxy,
  NO_FAULTS,
  type ProxyOptions,
  type ProxyTraceEvent,
} from "once-rpc/proxy";
import {
  connectTcp,
  numbered,
  numberOf,
  sleep,
  startDatagramSink,
  startRecordSink,
  writeRecords,
} from "./support.js";

type Faults = Omit<ProxyOptions, "listen" | "target" | "trace">;

/** Sends messages 0..n-1 through a TCP proxy on one connection; returns what arrived, the decisions, the stats. */
async function throughTcp(n: number, faults: Faults, length = 16) {
  const sink = await startRecordSink();
  const events: ProxyTraceEvent[] = [];
  const proxy = await createProxy({
    listen: "tcp://127.0.0.1:0",
    target: `tcp://127.0.0.1:${sink.port}`,
    trace: (e) => events.push(e),
    ...faults,
  });
  const socket = await connectTcp(proxy.address.port);
  try {
    writeRecords(
      socket,
      Array.from({ length: n }, (_, i) => numbered(i, length)),
    );
    await settled(proxy, n, sink);
    return { arrived: sink.records, events, stats: proxy.stats };
  } finally {
    socket.destroy();
    await proxy.close();
    await sink.close();
  }
}

/** Datagrams sent at once before waiting for the proxy to pass them on (held ones time out meanwhile). */
const UDP_BATCH = 50;

/** Sends datagrams 0..n-1 through a UDP proxy from one socket, UDP_BATCH at a time. */
async function throughUdp(n: number, faults: Faults, length = 16) {
  const sink = await startDatagramSink();
  const events: ProxyTraceEvent[] = [];
  const proxy = await createProxy({
    listen: "udp://127.0.0.1:0",
    target: `udp://127.0.0.1:${sink.port}`,
    trace: (e) => events.push(e),
    ...faults,
  });
  const client = createSocket("udp4");
  try {
    // In batches, so that no socket buffer on loopback overflows and loses what the proxy did not.
    for (let i = 0; i < n; i++) {
      client.send(numbered(i, length), proxy.address.port, "127.0.0.1");
      if (i % UDP_BATCH === UDP_BATCH - 1) await settled(proxy, i + 1, sink);
    }
    await settled(proxy, n, sink);
    return { arrived: sink.datagrams, events, stats: proxy.stats };
  } finally {
    client.close();
    await proxy.close();
    await sink.close();
  }
}

/**
 * Waits until the proxy has seen `n` requests and holds or delays none, then
 * until the sink has every copy it sent (bounded: a test that loses some fails
 * on its counts, not here).
 */
async function settled(
  proxy: FaultProxy,
  n: number,
  sink: { waitFor(n: number): Promise<void> },
): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const s = proxy.stats.request;
    if (s.seen >= n && s.forwarded + s.dropped >= n) break;
    await sleep(5);
  }
  const s = proxy.stats.request;
  await Promise.race([sink.waitFor(s.forwarded + s.duplicated), sleep(10_000)]);
}

/**
 * The order the proxy promises: a held message follows the next one not
 * held, a run of held ones in order; with `batch`, what is still held after
 * each batch has gone out on its timeout.
 */
function expectedOrder(events: readonly ProxyTraceEvent[], batch = Number.POSITIVE_INFINITY): number[] {
  const out: number[] = [];
  let held: number[] = [];
  for (const e of events) {
    const copies = e.dup ? [e.index, e.index] : [e.index];
    // A dropped message releases nothing: it never passes.
    if (e.reorder) held.push(...copies);
    else if (!e.drop) {
      out.push(...copies, ...held);
      held = [];
    }
    if (e.index % batch === batch - 1) {
      out.push(...held);
      held = [];
    }
  }
  return [...out, ...held];
}

test("the same seed makes the same decisions; another seed others", async () => {
  const faults = { request: { drop: 0.3 } };
  const lost = (arrived: Uint8Array[], n: number) => {
    const got = new Set(arrived.map(numberOf));
    return Array.from({ length: n }, (_, i) => i).filter((i) => !got.has(i));
  };
  const a = await throughUdp(300, { ...faults, seed: 1234 });
  const b = await throughUdp(300, { ...faults, seed: 1234 });
  const c = await throughUdp(300, { ...faults, seed: 4321 });
  const tcp = await throughTcp(300, { ...faults, seed: 1234 });
  const droppedA = lost(a.arrived, 300);
  assert.ok(droppedA.length > 50 && droppedA.length < 130, `${droppedA.length} dropped`);
  assert.deepEqual(lost(b.arrived, 300), droppedA, "same seed, same messages lost");
  assert.deepEqual(lost(tcp.arrived, 300), droppedA, "over TCP too: records are messages");
  assert.notDeepEqual(lost(c.arrived, 300), droppedA);
  // The plan alone, without sockets, says the same.
  const plan = new FaultPlan(1234, "request");
  const planned: number[] = [];
  for (let i = 0; i < 300; i++) if (plan.decide({ ...NO_FAULTS, drop: 0.3 }, 16).drop) planned.push(i);
  assert.deepEqual(planned, droppedA);
  assert.deepEqual(
    a.events.filter((e) => e.drop).map((e) => e.index),
    droppedA,
  );
});

test("a fault's decisions do not depend on the other faults' rates", async () => {
  const alone = await throughTcp(200, { seed: 99, request: { drop: 0.2 } });
  const mixed = await throughTcp(200, { seed: 99, request: { drop: 0.2, dup: 0.3, corrupt: 0.3 } });
  const dropped = (events: ProxyTraceEvent[]) => events.filter((e) => e.drop).map((e) => e.index);
  assert.deepEqual(dropped(mixed.events), dropped(alone.events));
});

test("tcp: records dropped leave the stream in step; the others arrive whole and in order", async () => {
  const { arrived, events, stats } = await throughTcp(500, { seed: 5, request: { drop: 0.4 } }, 100);
  const kept = events.filter((e) => !e.drop).map((e) => e.index);
  assert.deepEqual(arrived.map(numberOf), kept);
  for (const record of arrived) assert.deepEqual(record, numbered(numberOf(record), 100));
  assert.equal(stats.request.dropped, 500 - kept.length);
  assert.equal(stats.request.forwarded, kept.length);
});

for (const kind of ["tcp", "udp"] as const) {
  test(`${kind}: reordered messages follow the next one not held back`, async () => {
    const through = kind === "tcp" ? throughTcp : throughUdp;
    const { arrived, events, stats } = await through(400, {
      seed: 11,
      request: { reorder: 0.3, dup: 0.1, drop: 0.1 },
    });
    assert.deepEqual(arrived.map(numberOf), expectedOrder(events, kind === "udp" ? UDP_BATCH : undefined));
    assert.ok(stats.request.reordered > 60, `${stats.request.reordered} reordered`);
    assert.equal(stats.request.discarded, 0);
  });

  test(`${kind}: corruption changes exactly one byte of the message, never its length`, async () => {
    const { arrived, events, stats } = await through(kind)(200, { seed: 12, request: { corrupt: 0.5 } }, 64);
    assert.equal(arrived.length, 200);
    let corrupted = 0;
    for (const message of arrived) {
      assert.equal(message.length, 64);
      // The number itself may be hit: find the message by its pattern instead.
      const i = events.findIndex((e) => e.index === indexOf(message));
      const original = numbered(events[i].index, 64);
      const differ = [...message].filter((b, p) => b !== original[p]).length;
      assert.equal(differ, events[i].corrupt ? 1 : 0, `message ${events[i].index}`);
      corrupted += differ;
    }
    assert.equal(corrupted, stats.request.corrupted);
    assert.ok(corrupted > 70 && corrupted < 130, `${corrupted} corrupted`);
  });
}

function through(kind: "tcp" | "udp") {
  return kind === "tcp" ? throughTcp : throughUdp;
}

/** A numbered message's number (below 256), from its pattern bytes: any one byte may be corrupted. */
function indexOf(message: Uint8Array): number {
  const votes = new Map<number, number>();
  for (let p = 4; p < message.length; p++) {
    // numbered(): byte p is (i * 31 + p) & 0xff, and 223 is 31's inverse mod 256.
    const i = (((message[p] - p) & 0xff) * 223) & 0xff;
    votes.set(i, (votes.get(i) ?? 0) + 1);
  }
  return [...votes].sort((a, b) => b[1] - a[1])[0][0];
}

test("rates measured over 2,000 messages are within 5 points of those asked", async () => {
  const n = 2000;
  const asked = { drop: 0.3, dup: 0.1, reorder: 0.15, corrupt: 0.2 };
  const { arrived, stats } = await throughTcp(n, { seed: 2026, request: asked });
  const s = stats.request;
  assert.equal(s.seen, n);
  const sent = n - s.dropped;
  const measured = {
    drop: s.dropped / n,
    // The other faults act on the messages not dropped.
    dup: s.duplicated / sent,
    reorder: s.reordered / sent,
    corrupt: s.corrupted / sent,
  };
  for (const key of Object.keys(asked) as (keyof typeof asked)[]) {
    assert.ok(
      Math.abs(measured[key] - asked[key]) < 0.05,
      `${key}: asked ${asked[key]}, measured ${measured[key]}`,
    );
  }
  assert.equal(arrived.length, s.forwarded + s.duplicated, "a duplicate is a second copy on the wire");
  assert.equal(s.forwarded, sent);
});

test("tcp: a record in several fragments is one message, forwarded as one fragment", async () => {
  const sink = await startRecordSink();
  const events: ProxyTraceEvent[] = [];
  const proxy = await createProxy({
    listen: "tcp://127.0.0.1:0",
    target: `tcp://127.0.0.1:${sink.port}`,
    seed: 1,
    trace: (e) => events.push(e),
  });
  const socket = await connectTcp(proxy.address.port);
  try {
    const body = numbered(7, 1000);
    // Three fragments (RFC 5531 §11), written a few bytes at a time.
    const parts = [body.subarray(0, 300), body.subarray(300, 301), body.subarray(301)];
    const wire: number[] = [];
    parts.forEach((part, i) => {
      const mark = (part.length | (i === parts.length - 1 ? 0x8000_0000 : 0)) >>> 0;
      wire.push(mark >>> 24, (mark >>> 16) & 0xff, (mark >>> 8) & 0xff, mark & 0xff, ...part);
    });
    for (let p = 0; p < wire.length; p += 97) {
      socket.write(Uint8Array.from(wire.slice(p, p + 97)));
      await sleep(1);
    }
    await sink.waitFor(1);
    assert.deepEqual(sink.records[0], body);
    assert.equal(events.length, 1);
    assert.equal(events[0].bytes, 1000);
  } finally {
    socket.destroy();
    await proxy.close();
    await sink.close();
  }
});

test("tcp: a client that ends gets its delayed records through first, then the end", async () => {
  const sink = await startRecordSink();
  const proxy = await createProxy({
    listen: "tcp://127.0.0.1:0",
    target: `tcp://127.0.0.1:${sink.port}`,
    seed: 1,
    delayMs: 50,
    reorder: 0.5,
  });
  const socket = await connectTcp(proxy.address.port);
  try {
    writeRecords(
      socket,
      Array.from({ length: 20 }, (_, i) => numbered(i)),
    );
    socket.end();
    await sink.waitFor(20);
    const upstream = sink.sockets[0];
    await new Promise<void>((resolve) =>
      upstream.readableEnded ? resolve() : upstream.once("end", resolve),
    );
    assert.equal(sink.records.length, 20);
    assert.equal(proxy.stats.request.discarded, 0);
  } finally {
    socket.destroy();
    await proxy.close();
    await sink.close();
  }
});

test("tcp: a record over maxRecordBytes closes both sides", async () => {
  const sink = await startRecordSink();
  const proxy = await createProxy({
    listen: "tcp://127.0.0.1:0",
    target: `tcp://127.0.0.1:${sink.port}`,
    seed: 1,
    maxRecordBytes: 100,
  });
  const socket = await connectTcp(proxy.address.port);
  try {
    writeRecords(socket, [numbered(1, 50), numbered(2, 101)]);
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    assert.deepEqual(sink.records.map(numberOf), [1]);
    assert.equal(proxy.stats.open, 0);
  } finally {
    socket.destroy();
    await proxy.close();
    await sink.close();
  }
});

test("tcp: a target that refuses closes the client's connection", async () => {
  const sink = await startRecordSink();
  const port = sink.port;
  await sink.close();
  const proxy = await createProxy({
    listen: "tcp://127.0.0.1:0",
    target: `tcp://127.0.0.1:${port}`,
    seed: 1,
  });
  try {
    const socket = await connectTcp(proxy.address.port);
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    assert.equal(proxy.stats.flows, 1);
    assert.equal(proxy.stats.open, 0);
  } finally {
    await proxy.close();
  }
});

test("udp: each client has its own upstream socket, and replies go back to the right one", async () => {
  // An echo server: what it receives it sends back to its sender.
  const echo = createSocket("udp4");
  const senders = new Set<number>();
  echo.on("message", (bytes, from) => {
    senders.add(from.port);
    echo.send(bytes, from.port, from.address);
  });
  await new Promise<void>((resolve) => echo.bind(0, "127.0.0.1", resolve));
  const proxy = await createProxy({
    listen: "udp://127.0.0.1:0",
    target: `udp://127.0.0.1:${echo.address().port}`,
    seed: 1,
  });
  const clients = Array.from({ length: 3 }, () => createSocket("udp4"));
  try {
    const got = clients.map(() => [] as number[]);
    clients.forEach((c, k) => {
      c.on("message", (bytes) => got[k].push(numberOf(bytes)));
    });
    for (let i = 0; i < 30; i++) clients[i % 3].send(numbered(i), proxy.address.port, "127.0.0.1");
    for (let t = 0; t < 200 && got.flat().length < 30; t++) await sleep(5);
    assert.deepEqual(
      got,
      [0, 1, 2].map((k) => Array.from({ length: 10 }, (_, j) => 3 * j + k)),
    );
    assert.equal(senders.size, 3);
    assert.equal(proxy.stats.flows, 3);
    assert.equal(proxy.stats.open, 3);
    proxy.cut();
    assert.equal(proxy.stats.open, 0);
  } finally {
    for (const c of clients) c.close();
    await proxy.close();
    echo.close();
  }
});
