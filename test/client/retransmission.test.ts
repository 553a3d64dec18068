/**
 * Retransmission and deadlines with mock timers: the schedule of a UDP call
 * (same xid, doubling interval, capped) and where a timeout says the time went.
 */
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { type ClientTransport, createClient, TimeoutError, type TransportEvents } from "once-rpc";
import { DateProgV2 } from "../../examples/date/gen/date.js";

/** A transport that records what is sent, when, and never answers. */
class SilentTransport implements ClientTransport {
  readonly remote = { protocol: "udp", host: "192.0.2.1", port: 9 } as const;
  readonly headroomBytes = 0;
  readonly maxMessageBytes = 65_507;
  readonly sent: { at: number; xid: number }[] = [];
  connected: boolean;
  sendBlocked = false;
  events: TransportEvents | undefined;
  constructor(
    readonly kind: "stream" | "datagram",
    connected = true,
  ) {
    this.connected = connected;
  }
  setEvents(events: TransportEvents): void {
    this.events = events;
  }
  connect(): Promise<void> {
    return new Promise(() => {}); // never connects
  }
  send(chunks: Uint8Array[]): void {
    const view = new DataView(chunks[0].buffer, chunks[0].byteOffset);
    this.sent.push({ at: Date.now(), xid: view.getUint32(0) });
  }
  ref(): void {}
  unref(): void {}
  async close(): Promise<void> {}
  destroy(): void {}
}

test("a datagram call is resent with the same xid at 500, 1000, 2000, 4000, 8000, 8000 ms intervals", async () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  try {
    const transport = new SilentTransport("datagram");
    const client = createClient(DateProgV2, transport);
    const call = client.now(null, { timeoutMs: 30_000 });
    const outcome = call.then(
      () => assert.fail("no reply was sent"),
      (e: unknown) => e,
    );
    for (let t = 0; t < 30_000; t += 100) mock.timers.tick(100);
    await Promise.resolve();
    const error = await outcome;
    assert.deepEqual(
      transport.sent.map((s) => s.at),
      [0, 500, 1500, 3500, 7500, 15500, 23500],
    );
    assert.equal(new Set(transport.sent.map((s) => s.xid)).size, 1, "one xid for every attempt");
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.phase, "reply");
    assert.equal(error.attempts, 7);
    assert.equal(error.elapsedMs, 30_000);
  } finally {
    mock.timers.reset();
  }
});

test("a stream call is sent once; a call that never connects times out in phase connect", async () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  try {
    const stream = new SilentTransport("stream");
    const once = createClient(DateProgV2, stream)
      .now(null, { timeoutMs: 5000 })
      .catch((e: unknown) => e);
    const unconnected = new SilentTransport("stream", false);
    const never = createClient(DateProgV2, unconnected)
      .now(null, { timeoutMs: 2000 })
      .catch((e: unknown) => e);
    for (let t = 0; t < 5000; t += 100) mock.timers.tick(100);
    const [a, b] = await Promise.all([once, never]);
    assert.equal(stream.sent.length, 1);
    assert.ok(a instanceof TimeoutError && a.phase === "reply" && a.attempts === 1);
    assert.ok(b instanceof TimeoutError);
    assert.equal(b.phase, "connect");
    assert.equal(b.attempts, 0);
    assert.equal(b.connectMs, 2000);
    assert.match(
      b.message,
      /^TIMEOUT: DATE_PROG v2 DATE_NOW: no reply after 2000 ms, while connecting \(0 attempts, 2000 ms of it connecting\)/,
    );
    assert.equal(unconnected.sent.length, 0);
  } finally {
    mock.timers.reset();
  }
});

test("a blocked socket buffer makes the timeout say 'send'", async () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  try {
    const stream = new SilentTransport("stream");
    stream.sendBlocked = true;
    const error = createClient(DateProgV2, stream)
      .now(null, { timeoutMs: 1000 })
      .catch((e: unknown) => e);
    mock.timers.tick(1000);
    const e = await error;
    assert.ok(e instanceof TimeoutError);
    assert.equal(e.phase, "send");
  } finally {
    mock.timers.reset();
  }
});
