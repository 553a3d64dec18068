/**
 * Clients that find their servers through a resolver: balancing policies,
 * moving to another server when one fails, binding again, and version
 * negotiation. Servers are in this process on port 0; the resolver is a
 * static list (test/binder/rpcbind-resolver.test.ts asks a real binder).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  type Address,
  type Candidate,
  createClient,
  createNegotiatedClient,
  createServer,
  type Endpoint,
  leastInFlight,
  ProgramMismatchError,
  powerOfTwo,
  type Resolver,
  ResolvingChannel,
  RpcError,
  roundRobin,
  type Server,
  silentLogger,
  staticResolver,
} from "once-rpc";
import { DateProgV1, DateProgV2 } from "../../examples/date/gen/date.js";

/** A date server whose DATE_NOW answers its own number, so a test sees which server ran a call. */
async function startDateServer(
  id: number,
  protocol: "tcp" | "udp" = "tcp",
  nowMs?: () => Promise<void>,
): Promise<{ server: Server; address: Address }> {
  const server = createServer({ logger: silentLogger }).addProgram(DateProgV2, {
    now: async () => {
      await nowMs?.();
      return BigInt(id);
    },
    format: () => ({ status: 0 as const, text: String(id) }),
  });
  const address = await server.listen(`${protocol}://127.0.0.1:0`);
  return { server, address };
}

/** A moment for a client to see the FIN of a server that closed its idle connection. */
const settle = () => new Promise((r) => setTimeout(r, 50));

const started: Server[] = [];
async function servers(n: number, protocol: "tcp" | "udp" = "tcp"): Promise<Address[]> {
  const out: Address[] = [];
  for (let i = 0; i < n; i++) {
    const s = await startDateServer(i, protocol);
    started.push(s.server);
    out.push(s.address);
  }
  return out;
}
after(async () => {
  await Promise.all(started.map((s) => s.destroy()));
});

function candidates(inFlight: number[]): Candidate[] {
  return inFlight.map((n, i) => ({
    endpoint: { address: { protocol: "tcp", host: "127.0.0.1", port: 1000 + i } },
    callsInFlight: n,
  }));
}

describe("balance policies", () => {
  test("round-robin takes each in turn", () => {
    const p = roundRobin();
    const c = candidates([0, 0, 0]);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map(() => p.pick(c)),
      [0, 1, 2, 0, 1],
    );
  });
  test("least-in-flight takes the least loaded, and goes round among ties", () => {
    const p = leastInFlight();
    assert.equal(p.pick(candidates([3, 1, 2])), 1);
    assert.equal(p.pick(candidates([5, 5, 0])), 2);
    const idle = candidates([0, 0, 0]);
    assert.deepEqual([0, 1, 2].map(() => p.pick(idle)).sort(), [0, 1, 2]);
  });
  test("power-of-two compares two distinct random candidates", () => {
    const draws = [0.0, 0.0]; // a = 0, b = 0 -> skipped past a -> 1
    const p = powerOfTwo(() => draws.shift() ?? 0);
    assert.equal(p.pick(candidates([4, 2, 0])), 1, "fewer in flight of candidates 0 and 1");
    const q = powerOfTwo(() => 0.99);
    assert.equal(q.pick(candidates([0])), 0);
    assert.equal(q.pick(candidates([7, 0, 3])), 1, "a = 2, b = 1 (0.99 of the two left): 1 has fewer");
  });
});

describe("a client bound through a resolver", () => {
  test("an address without a port asks the host's binder unless given a resolver; one with a port takes none", () => {
    const client = createClient(DateProgV2, "tcp://127.0.0.1");
    assert.ok(client.$channel instanceof ResolvingChannel, "bound through the default rpcbind resolver");
    assert.equal(client.$channel.query.host, "127.0.0.1");
    client.$destroy();
    assert.throws(
      () => createClient(DateProgV2, "tcp://127.0.0.1:1", { resolver: staticResolver([]) }),
      /without one/,
    );
  });

  test("round-robin spreads calls over every server", async () => {
    const addresses = await servers(3);
    const client = createClient(DateProgV2, "tcp://", { resolver: staticResolver(addresses) });
    const seen: bigint[] = [];
    for (let i = 0; i < 9; i++) seen.push(await client.now());
    assert.deepEqual(
      seen.map(Number).sort(),
      [0, 0, 0, 1, 1, 1, 2, 2, 2],
      "each of three servers ran three of nine calls",
    );
    await client.$close();
  });

  test("least-in-flight sends around a busy server", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const slow = await startDateServer(0, "tcp", () => gate);
    const fast = await startDateServer(1);
    started.push(slow.server, fast.server);
    const client = createClient(
      DateProgV2,
      { protocol: "tcp" },
      {
        resolver: staticResolver([slow.address, fast.address]),
        balance: "least-in-flight",
      },
    );
    const stuck = client.now(); // one of the two; whichever it is, least-in-flight avoids it next
    await new Promise((r) => setTimeout(r, 20));
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await client.now());
    release();
    const first = await stuck;
    if (first === 0n)
      assert.deepEqual(answers, [1n, 1n, 1n, 1n, 1n], "the slow server's one call kept it out");
    else assert.ok(answers.every((a) => a === 0n || a === 1n));
    await client.$close();
  });

  test("a server that dies is left out; calls go on at the others", async () => {
    const addresses = await servers(3);
    const victims = started.slice(-3);
    const client = createClient(DateProgV2, "tcp://", {
      resolver: staticResolver(addresses),
      failedServerMs: 60_000,
    });
    for (let i = 0; i < 3; i++) await client.now(); // connected to all three
    await victims[1].destroy();
    await settle(); // the client hears of the closed idle connection (else a call on it is CONNECTION_CLOSED)
    const seen = new Set<bigint>();
    for (let i = 0; i < 12; i++) seen.add(await client.now());
    assert.deepEqual([...seen].sort(), [0n, 2n], "every call succeeded, none at the dead server");
    await victims[0].destroy();
    await settle();
    for (let i = 0; i < 4; i++) assert.equal(await client.now(), 2n);
    await client.$close();
  });

  test("a call cut off by a lost connection fails, unless it is idempotent", async () => {
    let hold: () => void = () => {};
    const a = await startDateServer(0, "tcp", () => new Promise<void>((r) => (hold = r)));
    const b = await startDateServer(1);
    started.push(a.server, b.server);
    const client = createClient(DateProgV2, "tcp://", {
      resolver: staticResolver([a.address, b.address]),
      failedServerMs: 60_000,
    });
    const first = client.now(); // round-robin: server a, which holds it
    await new Promise((r) => setTimeout(r, 30));
    await a.server.destroy();
    await assert.rejects(first, (e: unknown) => e instanceof RpcError && e.code === "CONNECTION_CLOSED");
    hold();
    assert.equal(await client.now(), 1n);
    await client.$close();

    let hold2: () => void = () => {};
    const c = await startDateServer(2, "tcp", () => new Promise<void>((r) => (hold2 = r)));
    const d = await startDateServer(3);
    started.push(c.server, d.server);
    const again = createClient(DateProgV2, "tcp://", { resolver: staticResolver([c.address, d.address]) });
    const cut = again.now(null, { idempotent: true });
    await new Promise((r) => setTimeout(r, 30));
    await c.server.destroy();
    assert.equal(await cut, 3n, "sent again to the other server");
    hold2();
    await again.$close();
  });

  test("binds again when every server failed, and finds where they moved", async () => {
    const first = await startDateServer(7);
    let current: Address = first.address;
    let asked = 0;
    const resolver: Resolver = {
      async resolve() {
        asked++;
        return [{ address: current } satisfies Endpoint];
      },
    };
    const client = createClient(DateProgV2, "tcp://127.0.0.1", { resolver });
    assert.equal(await client.now(), 7n);
    assert.equal(asked, 1, "the binding is cached");
    assert.equal(await client.now(), 7n);
    assert.equal(asked, 1);
    await first.server.destroy();
    await settle();
    const moved = await startDateServer(8);
    started.push(moved.server);
    current = moved.address;
    assert.equal(
      await client.now(),
      8n,
      "CONNECT_FAILED at the old address, bound again, called the new one",
    );
    assert.ok(asked >= 2);
    await client.$close();
  });

  test("a server that answers PROG_UNAVAIL (it no longer serves the program) is left out, and the call goes on", async () => {
    const other = createServer({ logger: silentLogger }).addProgram(
      { ...DateProgV1, program: 0x2000_0fee },
      { now: () => 0n },
    );
    started.push(other);
    const wrong = await other.listen("tcp://127.0.0.1:0");
    const [right] = await servers(1);
    let asked = 0;
    const resolver: Resolver = {
      async resolve() {
        asked++;
        return [{ address: wrong }, { address: right }];
      },
    };
    const client = createClient(DateProgV2, "tcp://", { resolver, failedServerMs: 60_000 });
    for (let i = 0; i < 4; i++) assert.equal(typeof (await client.now()), "bigint");
    const bound = (client.$channel as unknown as { endpoints: Endpoint[] }).endpoints;
    assert.deepEqual(
      bound.map((e) => e.address),
      [right],
      "the server without the program is no longer chosen",
    );
    assert.ok(asked >= 2, "it bound again after PROG_UNAVAIL");
    await client.$close();
  });

  test("a resolver's failure is the call's error, with the call named", async () => {
    const resolver: Resolver = {
      resolve: async (q) => {
        throw new RpcError("NOT_REGISTERED", `${q.label} is not registered`);
      },
    };
    const client = createClient(DateProgV2, "udp://127.0.0.1", { resolver });
    await assert.rejects(client.now(), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, "NOT_REGISTERED");
      assert.match(e.message, /DATE_PROG v2/);
      assert.equal(e.call?.procedure, 1);
      return true;
    });
    await client.$close();
  });

  test("a resolver that never answers fails the call at its deadline, in phase bind", async () => {
    const resolver: Resolver = { resolve: () => new Promise(() => {}) };
    const client = createClient(DateProgV2, "tcp://127.0.0.1", { resolver });
    await assert.rejects(client.now(null, { timeoutMs: 50 }), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, "TIMEOUT");
      assert.match(e.message, /binding/);
      return true;
    });
    client.$destroy();
  });

  test("UDP servers are balanced too", async () => {
    const addresses = await servers(2, "udp");
    const client = createClient(DateProgV2, "udp://", { resolver: staticResolver(addresses) });
    const seen = new Set<bigint>();
    for (let i = 0; i < 4; i++) seen.add(await client.now());
    assert.deepEqual([...seen].sort(), [0n, 1n]);
    await client.$close();
  });
});

describe("version negotiation", () => {
  async function serve(versions: number[]): Promise<Address> {
    const server = createServer({ logger: silentLogger });
    if (versions.includes(1)) server.addProgram(DateProgV1, { now: () => 1n });
    if (versions.includes(2)) {
      server.addProgram(DateProgV2, { now: () => 2n, format: () => ({ status: 0 as const, text: "" }) });
    }
    started.push(server);
    return server.listen("tcp://127.0.0.1:0");
  }

  test("the highest version both sides know", async () => {
    const both = await createNegotiatedClient([DateProgV1, DateProgV2], await serve([1, 2]));
    assert.equal(both.version, 2);
    assert.equal(await both.client.now(), 2n);
    await both.client.$close();

    const old = await createNegotiatedClient([DateProgV2, DateProgV1], await serve([1]));
    assert.equal(old.version, 1, "PROG_MISMATCH 1..1 from the server chose version 1");
    assert.equal(await old.client.now(), 1n);
    if (old.version === 1) assert.equal("format" in old.client, false);
    await old.client.$close();
  });

  test("no version in common: the server's mismatch, with its range", async () => {
    const address = await serve([2]);
    await assert.rejects(createNegotiatedClient([DateProgV1], address), (e: unknown) => {
      assert.ok(e instanceof ProgramMismatchError);
      assert.equal(e.low, 2);
      assert.equal(e.high, 2);
      return true;
    });
  });
});
