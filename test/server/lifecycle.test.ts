/** Limits and the end of a server's life: backpressure, maxConnections, idle connections, close() and destroy(). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Address, type CallContext, createClient, createServer, silentLogger } from "once-rpc";
import { DateProgV2 } from "../../examples/date/gen/date.js";
import { RawStreamPeer } from "../support/raw-rpc.js";

/** A date server whose `now` waits until released, counting the calls it has started. */
function gatedServer(options: Parameters<typeof createServer>[0] = {}) {
  const gate = { started: 0, release: [] as Array<() => void>, contexts: [] as CallContext[] };
  const server = createServer({ logger: silentLogger, ...options });
  server.addProgram(DateProgV2, {
    now: (_args, ctx) => {
      gate.started++;
      gate.contexts.push(ctx);
      return new Promise<bigint>((resolve) => gate.release.push(() => resolve(BigInt(gate.started))));
    },
    format: () => ({ status: 0 as const, text: "ok" }),
  });
  return { server, gate };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("past maxCallsInFlightPerConnection the server stops reading from that connection", async () => {
  const { server, gate } = gatedServer({ maxCallsInFlightPerConnection: 2 });
  const address = await server.listen("tcp://127.0.0.1:0");
  const client = createClient(DateProgV2, address);
  const calls = Array.from({ length: 5 }, () => client.now());
  await until(() => gate.started === 2, "two calls to start");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(gate.started, 2, "no third call is read while two run");
  // Another connection is not held back.
  const other = createClient(DateProgV2, address);
  assert.deepEqual(await other.format({ style: 0, zone: "", at: null }), { status: 0, text: "ok" });
  while (gate.started < 5 || gate.release.length > 0) {
    gate.release.shift()?.();
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal((await Promise.all(calls)).length, 5);
  await client.$close();
  await other.$close();
  await server.close();
});

test("connections past maxConnections are closed at once", async () => {
  const { server } = gatedServer({ maxConnections: 1 });
  const address = await server.listen("tcp://127.0.0.1:0");
  const first = createClient(DateProgV2, address);
  await first.format({ style: 0, zone: "", at: null });
  const peer = await RawStreamPeer.open(portOf(address));
  await peer.waitClosed();
  assert.equal(server.connections, 1);
  await first.$close();
  await server.close();
});

test("an idle connection is closed, and the client reconnects for its next call", async () => {
  const { server } = gatedServer({ idleTimeoutMs: 100 });
  const address = await server.listen("tcp://127.0.0.1:0");
  const client = createClient(DateProgV2, address);
  await client.format({ style: 0, zone: "", at: null });
  assert.equal(server.connections, 1);
  await until(() => server.connections === 0, "the idle connection to close");
  assert.deepEqual(await client.format({ style: 0, zone: "", at: null }), { status: 0, text: "ok" });
  await client.$close();
  await server.close();
});

test("close() closes idle connections at once instead of waiting for their idle timeout", async () => {
  const { server } = gatedServer({ idleTimeoutMs: 60_000 });
  const address = await server.listen("tcp://127.0.0.1:0");
  const client = createClient(DateProgV2, address);
  await client.format({ style: 0, zone: "", at: null });
  assert.equal(server.connections, 1, "an idle connection stays open");
  const started = Date.now();
  const closed = server.close();
  const timer = new Promise<"stuck">((r) => setTimeout(() => r("stuck"), 5_000).unref());
  assert.notEqual(await Promise.race([closed.then(() => "closed" as const), timer]), "stuck");
  assert.ok(Date.now() - started < 5_000);
  client.$destroy();
});

test("close() lets running calls reply, then closes; destroy() fails them and fires their signal", async () => {
  const { server, gate } = gatedServer();
  const address = await server.listen("tcp://127.0.0.1:0");
  const client = createClient(DateProgV2, address);
  const running = client.now();
  await until(() => gate.started === 1, "the call to start");
  const closed = server.close();
  gate.release.shift()?.();
  assert.equal(await running, 1n);
  await closed;
  await assert.rejects(client.now(undefined, { timeoutMs: 1000 }), { code: "CONNECT_FAILED" });
  client.$destroy();

  const second = gatedServer();
  const address2 = await second.server.listen("tcp://127.0.0.1:0");
  const client2 = createClient(DateProgV2, address2);
  const doomed = client2.now();
  await until(() => second.gate.started === 1, "the call to start");
  const signal = second.gate.contexts[0].signal;
  assert.equal(signal.aborted, false);
  await second.server.destroy();
  await assert.rejects(doomed, { code: "CONNECTION_CLOSED" });
  assert.equal(signal.aborted, true);
  client2.$destroy();
});

test("a handler's signal fires when its client goes away", async () => {
  const { server, gate } = gatedServer();
  const address = await server.listen("tcp://127.0.0.1:0");
  const client = createClient(DateProgV2, address);
  const call = client.now();
  await until(() => gate.started === 1, "the call to start");
  const signal = gate.contexts[0].signal;
  client.$destroy();
  await assert.rejects(call, { code: "CLIENT_CLOSED" });
  await until(() => signal.aborted, "the handler's signal");
  gate.release.shift()?.();
  await server.close();
});

function portOf(address: Address): number {
  assert.ok(address.protocol !== "unix");
  return address.port;
}

test("listen on a Unix path refuses a file that is not a socket, and a socket in use; clears a stale one", async () => {
  const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "once-unix-"));
  try {
    const file = join(dir, "precious.txt");
    writeFileSync(file, "keep me");
    const { server } = gatedServer();
    await assert.rejects(server.listen({ protocol: "unix", path: file }), /is not a socket: not removing it/);
    assert.equal(readFileSync(file, "utf8"), "keep me");
    const path = join(dir, "rpc.sock");
    await server.listen({ protocol: "unix", path });
    const other = gatedServer().server;
    await assert.rejects(other.listen({ protocol: "unix", path }), /is in use/);
    await server.destroy();
    // The first server is gone; if its file remains, it is stale and may be replaced.
    await other.listen({ protocol: "unix", path });
    await other.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
