/**
 * The date service end to end over every transport: a typed client calls a
 * typed server, and each failure comes back as its typed error.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type Address,
  authSys,
  type CallContext,
  createClient,
  createServer,
  ProgramMismatchError,
  RpcError,
  type Server,
  silentLogger,
  TimeoutError,
} from "once-rpc";
import { type DateProgV1, DateProgV2, type DateRequest, DateStyle } from "../../examples/date/gen/date.js";

const FIXED_MS = 1_795_000_000_000n;

function formatDate(req: DateRequest): { status: 0; text: string } | { status: 1; error: string } {
  if (req.zone !== "" && req.zone !== "UTC") return { status: 1, error: `unknown zone ${req.zone}` };
  const ms = req.at ?? FIXED_MS;
  if (req.style === DateStyle.DATE_UNIX) return { status: 0, text: String(ms / 1000n) };
  return { status: 0, text: new Date(Number(ms)).toISOString() };
}

const seen: CallContext[] = [];

function startServer(): Server {
  const server = createServer({ logger: silentLogger });
  server.addProgram(DateProgV2, {
    now: (_args, ctx) => {
      seen.push(ctx);
      return FIXED_MS;
    },
    format: async (req) => formatDate(req),
  });
  return server;
}

describe("the date service", () => {
  let server: Server;
  const addresses: Record<string, Address> = {};
  const socketPath = join(tmpdir(), `once-rpc-date-${process.pid}.sock`);

  before(async () => {
    server = startServer();
    addresses.tcp = await server.listen("tcp://127.0.0.1:0");
    addresses.udp = await server.listen("udp://127.0.0.1:0");
    addresses.unix = await server.listen({ protocol: "unix", path: socketPath });
  });
  after(async () => {
    await server.close();
    rmSync(socketPath, { force: true });
  });

  for (const kind of ["tcp", "udp", "unix", "memory"] as const) {
    test(`answers typed calls over ${kind}`, async () => {
      const target = kind === "memory" ? server.memoryTransport() : addresses[kind];
      const client = createClient(DateProgV2, target);
      try {
        assert.equal(await client.now(), FIXED_MS);
        const reply = await client.format({ style: DateStyle.DATE_ISO, zone: "", at: 0n });
        assert.deepEqual(reply, { status: 0, text: "1970-01-01T00:00:00.000Z" });
        const failed = await client.format({ style: DateStyle.DATE_ISO, zone: "Mars/Olympus", at: null });
        assert.deepEqual(failed, { status: 1, error: "unknown zone Mars/Olympus" });
        // Many calls in flight at once, each matched to its own reply.
        const many = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            client.format({ style: DateStyle.DATE_UNIX, zone: "", at: BigInt(i) * 1000n }),
          ),
        );
        assert.deepEqual(
          many.map((r) => ("text" in r ? r.text : "")),
          Array.from({ length: 200 }, (_, i) => String(i)),
        );
      } finally {
        await client.$close();
      }
    });
  }

  test("a handler sees the peer, credentials and call numbers", async () => {
    const client = createClient(DateProgV2, addresses.tcp, {
      auth: authSys({ machineName: "test-host", uid: 1000, gid: 100, gids: [100, 27] }),
    });
    seen.length = 0;
    await client.now();
    await client.$close();
    const ctx = seen[0];
    assert.equal(ctx.peer.protocol, "tcp");
    assert.equal(ctx.program, DateProgV2.program);
    assert.equal(ctx.version, 2);
    assert.equal(ctx.procedure, 1);
    assert.equal(ctx.procedureName, "DATE_NOW");
    assert.deepEqual(ctx.credentials, {
      flavor: 1,
      sys: {
        stamp: (ctx.credentials as { sys: { stamp: number } }).sys.stamp,
        machinename: "test-host",
        uid: 1000,
        gid: 100,
        gids: [100, 27],
      },
    });
  });

  test("an unknown version fails with PROG_MISMATCH and the served range", async () => {
    const v1: typeof DateProgV1 = {
      ...DateProgV2,
      version: 1,
      versionName: "DATE_V1",
      procedures: { now: DateProgV2.procedures.now },
    };
    const v3 = { ...v1, version: 3, versionName: "DATE_V3" };
    for (const descriptor of [v1, v3]) {
      const client = createClient(descriptor, addresses.tcp);
      await assert.rejects(client.now(), (error: unknown) => {
        assert.ok(error instanceof ProgramMismatchError);
        assert.equal(error.code, "PROG_MISMATCH");
        assert.equal(error.low, 2);
        assert.equal(error.high, 2);
        assert.match(error.message, /^PROG_MISMATCH: program 0x20000099 supports versions 2\.\.2/);
        return true;
      });
      await client.$close();
    }
  });

  test("an unknown program and an unknown procedure fail with their codes", async () => {
    const other = { ...DateProgV2, program: 0x20000999, programName: "OTHER_PROG" };
    const client = createClient(other, addresses.udp);
    await assert.rejects(client.now(), { code: "PROG_UNAVAIL" });
    await client.$close();
    const missing = {
      ...DateProgV2,
      procedures: {
        ...DateProgV2.procedures,
        gone: { ...DateProgV2.procedures.now, name: "DATE_GONE", number: 9 },
      },
    };
    const client2 = createClient(missing, addresses.tcp);
    await assert.rejects(client2.gone(), { code: "PROC_UNAVAIL" });
    // The NULL procedure is answered though the implementation has none.
    const nullProc = { ...DateProgV2, procedures: { ping: { ...DateProgV1Null } } };
    const client3 = createClient(nullProc, client2.$channel);
    assert.equal(await client3.ping(), null);
    await client2.$close();
  });

  test("arguments that do not encode fail locally with BAD_ARGS", async () => {
    const client = createClient(DateProgV2, server.memoryTransport());
    await assert.rejects(client.format({ style: 7 as DateStyle, zone: "", at: null }), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, "BAD_ARGS");
      assert.match(error.message, /date_request\.style|style/);
      return true;
    });
    await client.$close();
  });

  test("a call to a port where nothing listens fails with CONNECT_FAILED", async () => {
    const client = createClient(DateProgV2, "tcp://127.0.0.1:1");
    await assert.rejects(client.now(), { code: "CONNECT_FAILED" });
    client.$destroy();
  });

  test("a timeout says where the time went and how many attempts were made", async () => {
    // A UDP socket that never answers: the client retransmits until its deadline.
    const silent = createServer({ logger: silentLogger });
    const slow = silent.addProgram(DateProgV2, {
      now: () => new Promise<bigint>(() => {}),
      format: () => new Promise(() => {}),
    });
    const udp = await slow.listen("udp://127.0.0.1:0");
    const client = createClient(DateProgV2, udp, { retransmitInitialMs: 20, retransmitMaxMs: 40 });
    await assert.rejects(client.now(undefined, { timeoutMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.phase, "reply");
      // How many depends on the timers of a loaded machine; the exact schedule is tested with mock timers.
      assert.ok(error.attempts >= 1, `attempts ${error.attempts}`);
      assert.match(
        error.message,
        /^TIMEOUT: DATE_PROG v2 DATE_NOW: no reply after \d+ ms, waiting for the reply \(\d+ attempts?/,
      );
      return true;
    });
    client.$destroy();
    await silent.destroy();
  });

  test("an aborted call fails with ABORTED", async () => {
    const controller = new AbortController();
    const hang = createServer({ logger: silentLogger }).addProgram(DateProgV2, {
      now: () => new Promise<bigint>(() => {}),
      format: () => new Promise(() => {}),
    });
    const client = createClient(DateProgV2, hang.memoryTransport());
    const call = client.now(null, { signal: controller.signal });
    controller.abort();
    await assert.rejects(call, { code: "ABORTED" });
    client.$destroy();
    await hang.destroy();
  });
});

const DateProgV1Null = {
  name: "DATE_NULL",
  number: 0,
  args: DateProgV2.procedures.now.args,
  result: DateProgV2.procedures.now.args,
};
