/**
 * The session flavor's probe and at-most-once: a client learns whether a
 * server speaks the flavor (ours does; libtirpc's refuses it and the client
 * falls back, saying so), and a duplicated, retransmitted or re-sent call
 * runs once on our server, over UDP and over TCP across a lost connection.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { createServer as createNetServer, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import {
  type Address,
  authNone,
  createClient,
  createServer,
  createSession,
  type InetAddress,
  isRpcError,
  type ProgramVersionDescriptor,
  type Server,
  type SessionOutgoingCall,
  sessionAuth,
  silentLogger,
  withSemantics,
  writeCallHeader,
  XdrWriter,
  xdrInt,
} from "once-rpc";
import { InteropProgV2 } from "../fixtures/interop/gen/interop.js";
import { type CRpcServer, startCRpcServer } from "../support/c-rpc-peers.js";

/** COUNTER v1: ADD(n) adds n to the server's total and answers it; not idempotent. */
const CounterV1 = {
  programName: "COUNTER_PROG",
  program: 0x2000_0e01,
  versionName: "COUNTER_V1",
  version: 1,
  procedures: { add: { name: "COUNTER_ADD", number: 1, args: xdrInt, result: xdrInt } },
} as const satisfies ProgramVersionDescriptor;

function counterServer(delayMs = 0): { server: Server; runs: () => number } {
  let total = 0;
  let runs = 0;
  const server = createServer({ logger: silentLogger }).addProgram(CounterV1, {
    add: async (n) => {
      runs++;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      total += n;
      return total;
    },
  });
  return { server, runs: () => runs };
}

const cleanup: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

describe("the session probe", () => {
  test("our server speaks the session flavor and says what it gives", async () => {
    const { server } = counterServer();
    cleanup.push(() => server.destroy());
    const address = await server.listen("tcp://127.0.0.1:0");
    const client = createClient(CounterV1, address, { semantics: "at-most-once" });
    assert.equal(await client.add(1), 1);
    const peer = (client.$channel as unknown as { peerSession: { features: number; serverId: string } })
      .peerSession;
    assert.equal(peer.serverId, server.serverId);
    assert.equal(peer.features & 1, 1, "at-most-once");
    assert.equal(peer.features & 2, 0, "no completion store: no exactly-once");
    await assert.rejects(client.add(1, { semantics: "exactly-once" }), (e: unknown) =>
      isRpcError(e, "SEMANTICS_UNAVAILABLE"),
    );
    await client.$close();
  });

  test("a libtirpc server refuses the flavor: at-most-once falls back with a warning, exactly-once is refused", async () => {
    const c: CRpcServer = await startCRpcServer();
    cleanup.push(() => c.stop());
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const Interop = withSemantics(InteropProgV2, { increment: { semantics: "at-most-once" } });
      const client = createClient(Interop, `tcp://127.0.0.1:${c.tcpPort}`);
      const before = await client.increment(0);
      assert.equal(await client.increment(5), before + 5n, "the call ran (as maybe)");
      assert.equal((client.$channel as unknown as { peerSession: unknown }).peerSession, false);
      await new Promise((r) => setImmediate(r));
      assert.equal(warnings.filter((w) => (w as { code?: string }).code === "ONCE_RPC_PLAIN_PEER").length, 1);
      await assert.rejects(client.increment(1, { semantics: "exactly-once" }), (e: unknown) => {
        assert.ok(isRpcError(e, "SEMANTICS_UNAVAILABLE"));
        assert.match(e.message, /plain ONC RPC server/);
        return true;
      });
      await client.$close();
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("at-most-once on our server", () => {
  test("UDP: retransmissions of a slow call run it once under at-most-once, again each time under at-least-once", async () => {
    const { server, runs } = counterServer(300);
    cleanup.push(() => server.destroy());
    const address = await server.listen("udp://127.0.0.1:0");
    const amo = createClient(CounterV1, address, { semantics: "at-most-once", retransmitInitialMs: 40 });
    assert.equal(await amo.add(7), 7);
    assert.equal(runs(), 1, "retransmitted while running, run once");
    assert.ok((server.replyCacheStats?.inProgress ?? 0) >= 2, "duplicates seen while the call ran");
    const alo = createClient(CounterV1, address, { semantics: "at-least-once", retransmitInitialMs: 40 });
    assert.equal(await alo.add(1), 8);
    assert.ok(runs() >= 2, "at-least-once has no cache: the slow call ran again for each retransmission");
    await amo.$close();
    await alo.$close();
  });

  test("TCP: a call cut off by a lost connection is sent again and runs once; at-least-once runs it twice", async () => {
    for (const [semantics, expectedRuns] of [
      ["at-most-once", 1],
      ["at-least-once", 2],
    ] as const) {
      const { server, runs } = counterServer(200);
      cleanup.push(() => server.destroy());
      const target = (await server.listen("tcp://127.0.0.1:0")) as InetAddress;
      const cutter = await cuttingProxy(target);
      cleanup.push(() => cutter.close());
      const client = createClient(CounterV1, cutter.address, { semantics, retransmitInitialMs: 5_000 });
      const answer = client.add(3);
      await cutter.firstBytes;
      await new Promise((r) => setTimeout(r, 50)); // the call is running
      cutter.cut();
      assert.equal(await answer, 3 * expectedRuns, semantics);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(runs(), expectedRuns, semantics);
      await client.$close();
    }
  });

  test("UDP: a duplicate datagram after the reply gets the cached reply, byte for byte", async () => {
    const { server, runs } = counterServer();
    cleanup.push(() => server.destroy());
    const address = (await server.listen("udp://127.0.0.1:0")) as InetAddress;
    const w = new XdrWriter();
    const call = { xid: 0x1234_5678, program: CounterV1.program, version: 1, procedure: 1 };
    writeCallHeader(
      w,
      { ...call, semantics: "at-most-once" } as SessionOutgoingCall,
      sessionAuth(createSession().identity, authNone),
    );
    w.writeInt(4);
    const message = w.bytes();
    const socket = createSocket("udp4");
    cleanup.push(() => socket.close());
    const replies: Buffer[] = [];
    socket.on("message", (m) => replies.push(m));
    for (let i = 0; i < 3; i++) {
      socket.send(message, address.port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(runs(), 1);
    assert.equal(replies.length, 3);
    assert.deepEqual(replies[1], replies[0]);
    assert.deepEqual(replies[2], replies[0]);
    assert.equal(server.replyCacheStats?.hits, 2);
    // The same xid with other arguments is another call.
    const other = Buffer.from(message);
    other.writeInt32BE(5, other.length - 4);
    socket.send(other, address.port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runs(), 2);
  });

  test("the cache is bounded: past maxEntries the oldest replies go", async () => {
    const server = createServer({ logger: silentLogger, replyCache: { maxEntries: 10 } }).addProgram(
      CounterV1,
      {
        add: (n) => n,
      },
    );
    cleanup.push(() => server.destroy());
    const address = await server.listen("tcp://127.0.0.1:0");
    const client = createClient(CounterV1, address, { semantics: "at-most-once" });
    for (let i = 0; i < 50; i++) await client.add(i);
    const stats = server.replyCacheStats;
    assert.ok(stats !== undefined);
    assert.equal(stats.entries, 10);
    assert.equal(stats.misses, 50);
    assert.equal(stats.evictions, 40);
    await client.$close();
  });
});

/** A TCP forwarder whose connections a test can cut, as a network failure would. */
async function cuttingProxy(target: InetAddress): Promise<{
  address: Address;
  firstBytes: Promise<void>;
  cut(): void;
  close(): Promise<void>;
}> {
  const sockets: Socket[] = [];
  let seen: () => void = () => {};
  const firstBytes = new Promise<void>((r) => (seen = r));
  const { connect } = await import("node:net");
  const proxy = createNetServer((inbound) => {
    const outbound = connect(target.port, target.host);
    sockets.push(inbound, outbound);
    inbound.once("data", () => seen());
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const port = (proxy.address() as { port: number }).port;
  return {
    address: { protocol: "tcp", host: "127.0.0.1", port },
    firstBytes,
    cut() {
      for (const s of sockets.splice(0)) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets.splice(0)) s.destroy();
        proxy.close(() => r());
      }),
  };
}
