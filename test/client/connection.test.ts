/** What a client does when its connection comes and goes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient, createServer, type InetAddress, silentLogger } from "once-rpc";
import { DateProgV2 } from "../../examples/date/gen/date.js";

function dateServer(hang = false) {
  const server = createServer({ logger: silentLogger });
  server.addProgram(DateProgV2, {
    now: () => (hang ? new Promise<bigint>(() => {}) : 7n),
    format: () => ({ status: 0 as const, text: "ok" }),
  });
  return server;
}

test("a connection that closes fails every call in flight on it with CONNECTION_CLOSED", async () => {
  const server = dateServer(true);
  const address = await server.listen("tcp://127.0.0.1:0");
  const client = createClient(DateProgV2, address);
  const calls = Array.from({ length: 10 }, () => client.now());
  await new Promise((r) => setTimeout(r, 50));
  await server.destroy();
  const results = await Promise.allSettled(calls);
  assert.deepEqual(
    results.map((r) => (r.status === "rejected" ? (r.reason as { code: string }).code : "ok")),
    Array(10).fill("CONNECTION_CLOSED"),
  );
  assert.match(String((results[0] as PromiseRejectedResult).reason.message), /DATE_PROG v2 DATE_NOW/);
  client.$destroy();
});

test("after the server restarts on the same port the client reconnects", async () => {
  const first = dateServer();
  const address = (await first.listen("tcp://127.0.0.1:0")) as InetAddress;
  const client = createClient(DateProgV2, address, { reconnectInitialMs: 10 });
  assert.equal(await client.now(), 7n);
  await first.destroy();
  await new Promise((r) => setTimeout(r, 20));
  const second = dateServer();
  await second.listen(address);
  assert.equal(await client.now(), 7n);
  await client.$close();
  await second.close();
});

test("$close() waits for calls in flight; later calls fail with CLIENT_CLOSED", async () => {
  const server = dateServer();
  const client = createClient(DateProgV2, server.memoryTransport());
  const inFlight = client.now();
  const closing = client.$close();
  await assert.rejects(client.now(), { code: "CLIENT_CLOSED" });
  assert.equal(await inFlight, 7n);
  await closing;
  await server.close();
});

test("a call too large for a datagram fails before it is sent", async () => {
  const server = dateServer();
  const address = await server.listen("udp://127.0.0.1:0");
  const client = createClient(DateProgV2, address);
  await assert.rejects(
    client.format({ style: 0, zone: "x".repeat(64), at: null }, { timeoutMs: 500 }).then(() => {
      // 64 bytes fit: now make one that does not, through a smaller limit.
      const small = createClient(DateProgV2, address, { maxDatagramBytes: 60 });
      return small.format({ style: 0, zone: "x".repeat(64), at: null }).finally(() => small.$destroy());
    }),
    (error: unknown) => {
      assert.equal((error as { code: string }).code, "MESSAGE_TOO_LARGE");
      assert.match(String((error as Error).message), /use TCP/);
      return true;
    },
  );
  client.$destroy();
  await server.close();
});

test("several clients share one channel", async () => {
  const server = dateServer();
  const first = createClient(DateProgV2, server.memoryTransport());
  const second = createClient(DateProgV2, first.$channel);
  assert.deepEqual(await Promise.all([first.now(), second.now()]), [7n, 7n]);
  assert.equal(first.$channel, second.$channel);
  await first.$close();
  await server.close();
});

test("options given with a shared channel are refused, not ignored", () => {
  const server = dateServer();
  const first = createClient(DateProgV2, server.memoryTransport());
  assert.throws(
    () => createClient(DateProgV2, first.$channel, { timeoutMs: 5 }),
    /options belong to the channel/,
  );
  first.$destroy();
});
