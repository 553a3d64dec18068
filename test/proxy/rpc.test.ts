/**
 * The proxy between a once-rpc client and the date service, over TCP and
 * UDP: what each fault does to calls, and that the counts tell it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Address, createClient, formatAddress, RpcError } from "once-rpc";
import { createProxy, FaultPlan, type FaultProxy, type ProxyTraceEvent } from "once-rpc/proxy";
import { type CountingDateServer, DateProgV2, formatArgs, sleep, startDateServer } from "./support.js";

/** An AUTH_NONE call header is ten words (RFC 5531 §9): DATE_FORMAT's arguments start at byte 40. */
const CALL_HEADER_BYTES = 40;

describe("once proxy in front of the date service", () => {
  let date: CountingDateServer;
  before(async () => {
    date = await startDateServer();
  });
  after(async () => {
    await date.server.close();
  });

  function reset(): void {
    date.calls.now = 0;
    date.calls.format = 0;
    date.formats.length = 0;
    date.nowDelayMs = 0;
  }

  async function withProxy(
    kind: "tcp" | "udp",
    options: Omit<Parameters<typeof createProxy>[0], "listen" | "target">,
    body: (proxy: FaultProxy, target: Address) => Promise<void>,
  ): Promise<void> {
    reset();
    const proxy = await createProxy({ listen: `${kind}://127.0.0.1:0`, target: date[kind], ...options });
    try {
      await body(proxy, proxy.address);
    } finally {
      await proxy.close();
    }
  }

  for (const kind of ["tcp", "udp"] as const) {
    test(`${kind}: without faults every call passes and the counts match`, async () => {
      await withProxy(kind, { seed: 1 }, async (proxy, address) => {
        // No retransmission within the test: each call is exactly one request.
        const client = createClient(DateProgV2, address, { timeoutMs: 10_000, retransmitInitialMs: 10_000 });
        try {
          const results = await Promise.all(
            Array.from({ length: 200 }, (_, i) => client.format(formatArgs(i))),
          );
          assert.deepEqual(
            results,
            Array.from({ length: 200 }, (_, i) => ({ status: 0, text: `2::${i}` })),
          );
          assert.equal(await client.now(), 42n);
        } finally {
          await client.$close();
        }
        const stats = proxy.stats;
        assert.equal(date.calls.format, 200);
        const clean = {
          seen: 201,
          forwarded: 201,
          dropped: 0,
          duplicated: 0,
          reordered: 0,
          corrupted: 0,
          discarded: 0,
        };
        assert.deepEqual(stats.request, clean);
        assert.deepEqual(stats.reply, clean);
        assert.equal(stats.flows, 1);
        assert.equal(proxy.seed, 1);
      });
    });

    test(`${kind}: duplicated requests run twice on the server, the client gets one answer each`, async () => {
      await withProxy(kind, { seed: 2, request: { dup: 1 } }, async (proxy, address) => {
        const client = createClient(DateProgV2, address, { timeoutMs: 10_000, retransmitInitialMs: 10_000 });
        try {
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) => client.format(formatArgs(i))),
          );
          assert.equal(results.length, 50);
          for (let i = 0; i < 50; i++) assert.deepEqual(results[i], { status: 0, text: `2::${i}` });
          // Both copies' replies have come back once the last reply's duplicate has.
          for (let i = 0; i < 500 && proxy.stats.reply.seen < 100; i++) await sleep(10);
        } finally {
          await client.$close();
        }
        assert.equal(date.calls.format, 100);
        assert.deepEqual(
          [...date.formats].sort((a, b) => Number(a - b)),
          Array.from({ length: 100 }, (_, i) => BigInt(i >> 1)),
        );
        const stats = proxy.stats;
        assert.equal(stats.request.seen, 50);
        assert.equal(stats.request.duplicated, 50);
        assert.equal(stats.reply.seen, 100, "the server answered both copies");
        assert.equal(stats.reply.duplicated, 0);
      });
    });

    test(`${kind}: held-back requests and replies still reach their callers`, async () => {
      await withProxy(kind, { seed: 3, reorder: 0.5 }, async (proxy, address) => {
        const client = createClient(DateProgV2, address, { timeoutMs: 10_000, retransmitInitialMs: 10_000 });
        try {
          const results = await Promise.all(
            Array.from({ length: 100 }, (_, i) => client.format(formatArgs(i))),
          );
          for (let i = 0; i < 100; i++) assert.deepEqual(results[i], { status: 0, text: `2::${i}` });
        } finally {
          await client.$close();
        }
        const stats = proxy.stats;
        assert.ok(stats.request.reordered > 20 && stats.request.reordered < 80, `${stats.request.reordered}`);
        assert.ok(stats.reply.reordered > 20 && stats.reply.reordered < 80, `${stats.reply.reordered}`);
        // Held requests arrived out of order at the server.
        assert.notDeepEqual(
          date.formats,
          [...date.formats].sort((a, b) => Number(a - b)),
        );
        assert.equal(date.calls.format, 100);
      });
    });

    test(`${kind}: a delay holds each message back at least that long`, async () => {
      await withProxy(kind, { seed: 4, delayMs: 40, direction: "reply" }, async (proxy, address) => {
        const client = createClient(DateProgV2, address, { timeoutMs: 10_000, retransmitInitialMs: 10_000 });
        try {
          await client.now(); // connected, first flow set up
          const started = performance.now();
          assert.equal(await client.now(), 42n);
          assert.ok(performance.now() - started >= 38, "the reply waited out its delay");
        } finally {
          await client.$close();
        }
        assert.deepEqual(proxy.faults.request.delayMs, 0);
        assert.deepEqual(proxy.faults.reply.delayMs, 40);
      });
    });
  }

  test("udp: every request dropped is a TIMEOUT, and the server never sees it", async () => {
    await withProxy("udp", { seed: 5, request: { drop: 1 } }, async (proxy, address) => {
      const client = createClient(DateProgV2, address, { timeoutMs: 300, retransmitInitialMs: 100 });
      try {
        await assert.rejects(client.now(), (e: unknown) => e instanceof RpcError && e.code === "TIMEOUT");
      } finally {
        client.$destroy();
      }
      const stats = proxy.stats;
      assert.equal(date.calls.now, 0);
      assert.ok(stats.request.seen >= 1);
      assert.equal(stats.request.dropped, stats.request.seen);
      assert.equal(stats.reply.seen, 0);
    });
  });

  test("udp: every reply dropped is a TIMEOUT, though the server ran each attempt", async () => {
    await withProxy("udp", { seed: 6, drop: 1, direction: "reply" }, async (proxy, address) => {
      const client = createClient(DateProgV2, address, { timeoutMs: 300, retransmitInitialMs: 100 });
      try {
        await assert.rejects(client.now(), (e: unknown) => e instanceof RpcError && e.code === "TIMEOUT");
      } finally {
        client.$destroy();
      }
      // A retransmission sent just before the deadline may still be on its way to the server.
      for (let i = 0; i < 200 && date.calls.now < proxy.stats.request.seen; i++) await sleep(5);
      const stats = proxy.stats;
      assert.equal(date.calls.now, stats.request.seen, "each retransmission ran");
      assert.equal(stats.request.dropped, 0);
      assert.equal(stats.reply.dropped, stats.reply.seen);
    });
  });

  test("tcp: dropped records leave the connection up, and exactly those calls time out", async () => {
    const dropped = new Set<number>();
    const trace = (e: ProxyTraceEvent) => {
      if (e.direction === "request" && e.drop) dropped.add(e.index);
    };
    await withProxy("tcp", { seed: 7, request: { drop: 0.3 }, trace }, async (proxy, address) => {
      // Long enough that no call that passed could time out on a busy machine.
      const client = createClient(DateProgV2, address, { timeoutMs: 3_000 });
      try {
        // One connection, calls written in order: request i is the proxy's message i.
        const outcomes = await Promise.allSettled(
          Array.from({ length: 100 }, (_, i) => client.format(formatArgs(i))),
        );
        const failed = new Set<number>();
        outcomes.forEach((o, i) => {
          if (o.status === "fulfilled") assert.deepEqual(o.value, { status: 0, text: `2::${i}` });
          else {
            assert.ok(o.reason instanceof RpcError && o.reason.code === "TIMEOUT", String(o.reason));
            failed.add(i);
          }
        });
        assert.deepEqual(failed, dropped);
        assert.ok(dropped.size > 10 && dropped.size < 50, `${dropped.size} dropped`);
        // The next calls pass on the same connection.
        proxy.setFaults({ request: { drop: 0 } });
        assert.deepEqual(await client.format(formatArgs(1000)), { status: 0, text: "2::1000" });
      } finally {
        await client.$close();
      }
      assert.equal(proxy.stats.flows, 1, "one connection throughout");
      assert.equal(date.calls.format, 101 - dropped.size);
    });
  });

  for (const kind of ["tcp", "udp"] as const) {
    test(`${kind}: a corrupted request fails; in the arguments it is GARBAGE_ARGS`, async () => {
      const lengths: number[] = [];
      const trace = (e: ProxyTraceEvent) => {
        if (e.direction === "request") lengths[e.index] = e.bytes;
      };
      // The same seed's plan, beside the proxy's: which byte each request has changed.
      const plan = new FaultPlan(8, "request");
      await withProxy(kind, { seed: 8, request: { corrupt: 1 }, trace }, async (proxy, address) => {
        const client = createClient(DateProgV2, address, { timeoutMs: 1_000, retransmitInitialMs: 10_000 });
        const codes: string[] = [];
        try {
          const call = async (i: number, corruptAt: number): Promise<void> => {
            try {
              const reply = await client.format({ style: 2, zone: "", at: null });
              // Only two words may change and still make a valid call: the
              // verifier's flavor (AUTH_NONE calls' verifiers go unchecked) and
              // the style (DATE_UNIX 2 may become DATE_ISO 0 or DATE_HUMAN 1).
              const inVerifierFlavor = corruptAt >= 32 && corruptAt < 36;
              const inStyle = corruptAt >= CALL_HEADER_BYTES && corruptAt < CALL_HEADER_BYTES + 4;
              assert.ok(inVerifierFlavor || inStyle, `call ${i} passed with byte ${corruptAt} changed`);
              assert.equal(reply.status, 0);
              codes.push("passed");
            } catch (e) {
              assert.ok(e instanceof RpcError, String(e));
              codes.push(e.code);
              // The zone's length and the optional's discriminant: no longer valid arguments.
              if (corruptAt >= CALL_HEADER_BYTES + 4) {
                assert.ok(
                  e.code === "GARBAGE_ARGS" || (kind === "tcp" && e.code === "CONNECTION_CLOSED"),
                  `call ${i}: byte ${corruptAt} gave ${e.code}`,
                );
              }
            }
          };
          const faults = { ...proxy.faults.request };
          const bytes = Array.from(
            { length: 25 },
            () => plan.decide(faults, CALL_HEADER_BYTES + 12).corruptAt,
          );
          // Over UDP all at once, each request one datagram in call order; over
          // TCP one at a time, so that a connection the server closes takes no
          // request with it before the proxy has seen it.
          if (kind === "udp") await Promise.all(bytes.map((at, i) => call(i, at)));
          else for (let i = 0; i < bytes.length; i++) await call(i, bytes[i]);
        } finally {
          client.$destroy();
        }
        assert.equal(lengths.length, 25, "one request per call");
        assert.ok(lengths.every((n) => n === CALL_HEADER_BYTES + 12));
        assert.equal(proxy.stats.request.corrupted, 25);
        assert.ok(codes.includes("GARBAGE_ARGS"), codes.join(" "));
        assert.ok(codes.filter((c) => c === "passed").length < 5, codes.join(" "));
      });
    });
  }

  test("tcp: cut closes the connection under a call (CONNECTION_CLOSED); the next call reconnects", async () => {
    await withProxy("tcp", { seed: 9 }, async (proxy, address) => {
      const client = createClient(DateProgV2, address, { timeoutMs: 5_000 });
      try {
        assert.equal(await client.now(), 42n);
        date.nowDelayMs = 2_000;
        const call = client.now();
        for (let i = 0; i < 200 && date.calls.now < 2; i++) await sleep(5);
        assert.equal(proxy.stats.open, 1);
        proxy.cut();
        await assert.rejects(call, (e: unknown) => e instanceof RpcError && e.code === "CONNECTION_CLOSED");
        date.nowDelayMs = 0;
        assert.equal(await client.now(), 42n);
      } finally {
        await client.$close();
      }
      const stats = proxy.stats;
      assert.equal(stats.flows, 2);
      assert.equal(stats.cuts, 1);
    });
  });

  test("udp: cut forgets the client's upstream socket; the server sees a new port afterwards", async () => {
    await withProxy("udp", { seed: 10 }, async (proxy, address) => {
      const client = createClient(DateProgV2, address, { timeoutMs: 5_000 });
      try {
        assert.equal(await client.now(), 42n);
        date.nowDelayMs = 300;
        const call = client.now(null, { timeoutMs: 600 });
        for (let i = 0; i < 200 && date.calls.now < 2; i++) await sleep(5);
        proxy.cut();
        // The reply goes to a closed socket: lost, as after a crash of the path.
        await assert.rejects(call, (e: unknown) => e instanceof RpcError && e.code === "TIMEOUT");
        date.nowDelayMs = 0;
        assert.equal(await client.now(), 42n);
      } finally {
        await client.$close();
      }
      assert.equal(proxy.stats.flows, 2);
    });
  });

  test("options out of range are refused", async () => {
    const target = formatAddress(date.tcp);
    await assert.rejects(createProxy({ listen: "tcp://127.0.0.1:0", target, drop: 1.5 }), RangeError);
    await assert.rejects(createProxy({ listen: "tcp://127.0.0.1:0", target, delayMs: -1 }), RangeError);
    await assert.rejects(createProxy({ listen: "tcp://127.0.0.1:0", target, seed: -1 }), RangeError);
    await assert.rejects(createProxy({ listen: "udp://127.0.0.1:0", target }), TypeError);
    await assert.rejects(createProxy({ listen: "unix:///tmp/x.sock", target }), TypeError);
    const proxy = await createProxy({ listen: "tcp://127.0.0.1:0", target, drop: 0.1, reply: { drop: 0.5 } });
    try {
      assert.equal(proxy.faults.request.drop, 0.1);
      assert.equal(proxy.faults.reply.drop, 0.5);
      assert.throws(() => proxy.setFaults({ dup: 2 }), RangeError);
      assert.equal(proxy.faults.request.dup, 0, "a refused change changes nothing");
      proxy.setFaults({ drop: 0.2, direction: "request" });
      assert.equal(proxy.faults.request.drop, 0.2);
      assert.equal(proxy.faults.reply.drop, 0.5, "per-direction values stay on top");
      assert.ok(Number.isInteger(proxy.seed));
    } finally {
      await proxy.close();
    }
  });
});
