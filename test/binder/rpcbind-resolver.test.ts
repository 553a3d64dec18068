/**
 * Clients that find their server through a binder (rpcbindResolver): our
 * binder on port 0 here; test/binder/find-c-servers.test.ts does the same
 * against Debian's rpcbind and libtirpc servers on port 111. GETADDR in
 * version 4, the fall back to version 3 and to the portmapper's GETPORT,
 * several binders, rebinding when the server moves, version negotiation.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createClient,
  createNegotiatedClient,
  createServer,
  type InetAddress,
  isRpcError,
  ProgramMismatchError,
  type Server,
  silentLogger,
} from "once-rpc";
import {
  type Binder,
  createBinder,
  PmapProgV2,
  RpcbprogV3,
  registerServer,
  rpcbindResolver,
} from "once-rpc/binder";
import { DateProgV1, DateProgV2 } from "../../examples/date/gen/date.js";

function dateServer(id: bigint): Server {
  return createServer({ logger: silentLogger }).addProgram(DateProgV2, {
    now: () => id,
    format: () => ({ status: 0 as const, text: "" }),
  });
}

describe("rpcbindResolver against our binder", () => {
  let binder: Binder;
  let port: number;
  const servers: Server[] = [];

  before(async () => {
    binder = createBinder({ server: { logger: silentLogger } });
    port = ((await binder.listen("tcp://127.0.0.1:0")) as InetAddress).port;
    await binder.listen(`udp://127.0.0.1:${port}`);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.destroy()));
    await binder.destroy();
  });

  async function registered(id: bigint): Promise<Server> {
    const server = dateServer(id);
    servers.push(server);
    await server.listen("tcp://127.0.0.1:0");
    await server.listen("udp://127.0.0.1:0");
    await registerServer(server, { binder: `tcp://127.0.0.1:${port}` });
    return server;
  }

  test("finds the server over TCP and over UDP, each at its own port", async () => {
    const server = await registered(1n);
    const resolver = rpcbindResolver({ binders: [`127.0.0.1:${port}`] });
    for (const protocol of ["tcp", "udp"] as const) {
      const client = createClient(DateProgV2, `${protocol}://127.0.0.1`, { resolver });
      assert.equal(await client.now(), 1n);
      const bound = (client.$channel as unknown as { endpoints: { address: InetAddress }[] }).endpoints;
      const expected = server.addresses.find((a) => a.protocol === protocol) as InetAddress;
      assert.equal(bound[0].address.port, expected.port, `the ${protocol} registration`);
      await client.$close();
    }
    await resolver.close?.();
    await server.destroy();
  });

  test("NOT_REGISTERED for a program the binder does not know; BINDER_UNREACHABLE when no binder answers", async () => {
    const resolver = rpcbindResolver({ binders: [`127.0.0.1:${port}`] });
    const Unknown = { ...DateProgV2, program: 0x2000_0fff };
    const client = createClient(Unknown, "tcp://127.0.0.1", { resolver });
    await assert.rejects(client.now(), (e: unknown) => isRpcError(e, "NOT_REGISTERED"));
    await client.$close();
    await resolver.close?.();

    const closed = await unusedPort();
    const nobody = rpcbindResolver({ binders: [`127.0.0.1:${closed}`], timeoutMs: 500 });
    const lost = createClient(DateProgV2, "tcp://127.0.0.1", { resolver: nobody });
    await assert.rejects(lost.now(), (e: unknown) => {
      assert.ok(isRpcError(e, "BINDER_UNREACHABLE"));
      assert.match(e.message, new RegExp(`127.0.0.1:${closed}`));
      return true;
    });
    await lost.$close();
    await nobody.close?.();
  });

  test("asks the next binder when one is down", async () => {
    await registered(2n);
    const dead = await unusedPort();
    const resolver = rpcbindResolver({ binders: [`127.0.0.1:${dead}`, `127.0.0.1:${port}`] });
    const client = createClient(DateProgV2, "tcp://", { resolver });
    assert.equal(await client.now(), 2n);
    await client.$close();
    await resolver.close?.();
  });

  test("binds again after the server moved to another port", async () => {
    const first = await registered(3n);
    const resolver = rpcbindResolver({ binders: [`127.0.0.1:${port}`] });
    const client = createClient(DateProgV2, "tcp://127.0.0.1", { resolver });
    assert.equal(await client.now(), 3n);
    await first.destroy();
    await registered(4n); // registerServer UNSETs first, as libtirpc does: the new port replaces the old
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await client.now(), 4n);
    await client.$close();
    await resolver.close?.();
  });

  test("negotiates the version through the binder", async () => {
    const v1only = createServer({ logger: silentLogger }).addProgram(
      { ...DateProgV1, program: 0x2000_0f01 },
      { now: () => 10n },
    );
    servers.push(v1only);
    await v1only.listen("tcp://127.0.0.1:0");
    await registerServer(v1only, { binder: `tcp://127.0.0.1:${port}` });
    const resolver = rpcbindResolver({ binders: [`127.0.0.1:${port}`] });
    const V1 = { ...DateProgV1, program: 0x2000_0f01 };
    const V2 = { ...DateProgV2, program: 0x2000_0f01 };
    // GETADDR for version 2 answers the program's version 1 address, whose PROG_MISMATCH says 1..1.
    const negotiated = await createNegotiatedClient([V1, V2], "tcp://127.0.0.1", { resolver });
    assert.equal(negotiated.version, 1);
    assert.equal(await negotiated.client.now(), 10n);
    await negotiated.client.$close();
    await assert.rejects(
      createNegotiatedClient([V2], "tcp://127.0.0.1", { resolver }),
      (e: unknown) => e instanceof ProgramMismatchError && e.low === 1 && e.high === 1,
    );
    await resolver.close?.();
  });
});

describe("rpcbindResolver against older binders", () => {
  test("a version 3 binder (PROG_MISMATCH for 4) answers GETADDR in version 3", async () => {
    const target = dateServer(5n);
    const address = (await target.listen("tcp://127.0.0.1:0")) as InetAddress;
    let asked = 0;
    const v3 = createServer({ logger: silentLogger }).addProgram(RpcbprogV3, {
      set: () => false,
      unset: () => false,
      getaddr: (r) => {
        asked++;
        return r.r_prog === DateProgV2.program ? `127.0.0.1.${address.port >> 8}.${address.port & 255}` : "";
      },
      dump: () => null,
      callit: () => ({ addr: "", results: new Uint8Array(0) }),
      gettime: () => 0,
      uaddr2taddr: () => ({ maxlen: 0, buf: new Uint8Array(0) }),
      taddr2uaddr: () => "",
    });
    const at = (await v3.listen("tcp://127.0.0.1:0")) as InetAddress;
    const resolver = rpcbindResolver({ binders: [`127.0.0.1:${at.port}`] });
    const client = createClient(DateProgV2, "tcp://127.0.0.1", { resolver });
    assert.equal(await client.now(), 5n);
    assert.equal(asked, 1);
    await client.$close();
    await resolver.close?.();
    await v3.destroy();
    await target.destroy();
  });

  test("a portmapper (version 2 only) answers GETPORT, on its own host", async () => {
    const target = dateServer(6n);
    const address = (await target.listen("udp://127.0.0.1:0")) as InetAddress;
    const pmap = createServer({ logger: silentLogger }).addProgram(PmapProgV2, {
      set: () => false,
      unset: () => false,
      getport: (m) => (m.prog === DateProgV2.program && m.prot === 17 ? address.port : 0),
      dump: () => null,
      callit: () => ({ port: 0, res: new Uint8Array(0) }),
    });
    const at = (await pmap.listen("udp://127.0.0.1:0")) as InetAddress;
    const resolver = rpcbindResolver({ binders: [`127.0.0.1:${at.port}`] });
    const client = createClient(DateProgV2, "udp://127.0.0.1", { resolver });
    assert.equal(await client.now(), 6n);
    await client.$close();
    const missing = createClient({ ...DateProgV2, program: 1 }, "udp://127.0.0.1", { resolver });
    await assert.rejects(missing.now(), (e: unknown) => isRpcError(e, "NOT_REGISTERED"));
    await missing.$close();
    await resolver.close?.();
    await pmap.destroy();
    await target.destroy();
  });

  test("binder addresses that make no sense fail at once", () => {
    assert.throws(() => rpcbindResolver({ binders: ["tcp://127.0.0.1:111"] }), /HOST or HOST:PORT/);
    assert.throws(() => rpcbindResolver({ binders: ["127.0.0.1:99999"] }), /port/);
  });
});

/** A port with nothing listening on it (bound, read back, closed). */
async function unusedPort(): Promise<number> {
  const { createServer: createNetServer } = await import("node:net");
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
