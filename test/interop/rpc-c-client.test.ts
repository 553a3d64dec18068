/**
 * Interop, C client to TypeScript server: the rpcgen + libtirpc client of
 * test/support/c-rpc-peers.ts calls interop.x v1 and v2 served by
 * createServer (test/interop/interop-service.ts) over TCP and UDP. The C
 * client checks each reply against what it sent, bit for bit, and prints
 * libtirpc's view of every failure (its clnt_stat), so these tests see our
 * replies as a C program sees them.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MAX_BLOB } from "../fixtures/interop/gen/interop.js";
import {
  C_ECHO_JSON,
  type CRpcClientResult,
  interopPattern,
  interopSum,
  runCRpcClient,
} from "../support/c-rpc-peers.js";
import { type InteropService, startInteropService } from "./interop-service.js";

let service: InteropService;

before(async () => {
  service = await startInteropService();
});

after(async () => {
  await service?.server.close();
});

/** `ok <n> <sum>` of n pattern bytes. */
function okSized(n: number): string {
  return `ok ${n} ${interopSum(interopPattern(n))}\n`;
}

/** Asserts the client's exit code and output, showing its stderr when they differ. */
function assertRun(r: CRpcClientResult, code: number, stdout: string): void {
  assert.deepEqual([r.code, r.stdout], [code, stdout], `stderr of the C client:\n${r.stderr}`);
}

for (const protocol of ["tcp", "udp"] as const) {
  describe(`C client to TypeScript server over ${protocol}`, () => {
    const call = (command: string, arg?: string | number, version?: number) =>
      runCRpcClient({
        port: protocol === "tcp" ? service.tcp.port : service.udp.port,
        protocol,
        command,
        arg,
        version,
      });

    test("null, on both versions (answered by the server itself)", async () => {
      for (const version of [1, 2]) assertRun(await call("null", undefined, version), 0, "ok null\n");
    });

    test("echo: C reads back exactly what it sent", async () => {
      service.contexts.length = 0;
      const r = await call("echo");
      assert.equal(r.code, 0, r.stderr); // 3 would mean C saw a field differ
      assert.match(r.stdout, /^ok \{.*\}\n$/);
      assert.deepEqual(JSON.parse(r.stdout.slice(3)), C_ECHO_JSON);
      // The handler saw a libtirpc caller: AUTH_NONE, over this protocol, from loopback.
      const [ctx] = service.contexts;
      const peer = ctx.peer;
      assert.ok(peer.protocol !== "unix");
      assert.deepEqual([peer.protocol, peer.host], [protocol, "127.0.0.1"]);
      assert.equal(ctx.credentials.flavor, 0);
      assert.deepEqual([ctx.program, ctx.version, ctx.procedure], [0x2000_0101, 1, 1]);
      assert.equal(ctx.procedureName, "INTEROP_ECHO");
    });

    test("increment totals grow, shared by versions 1 and 2", async () => {
      const start = await call("increment", 0);
      assert.equal(start.code, 0, start.stderr);
      const total = BigInt(/^ok (\d+)\n$/.exec(start.stdout)?.[1] ?? "x");
      assertRun(await call("increment", 3), 0, `ok ${total + 3n}\n`);
      assertRun(await call("increment", 4, 2), 0, `ok ${total + 7n}\n`);
      assertRun(await call("increment", 0xffff_ffff), 0, `ok ${total + 7n + 0xffff_ffffn}\n`);
    });

    test("sleep answers its milliseconds", async () => {
      assertRun(await call("sleep", 50), 0, "ok 50\n");
    });

    test("blob and checksum", async () => {
      for (const n of [0, 1, 3, 60000]) {
        assertRun(await call("blob", n), 0, okSized(n));
        assertRun(await call("checksum", n), 0, `ok ${interopSum(interopPattern(n))}\n`);
      }
    });

    test("an unknown procedure gives RPC_PROCUNAVAIL", async () => {
      assertRun(await call("proc", 99), 2, "error RPC_PROCUNAVAIL\n");
      // Version 2 has no procedure 1.
      assertRun(await call("echo", undefined, 2), 2, "error RPC_PROCUNAVAIL\n");
    });

    test("an unknown version gives RPC_PROGVERSMISMATCH with the versions served", async () => {
      assertRun(await call("null", undefined, 9), 2, "error RPC_PROGVERSMISMATCH 1 2\n");
      assertRun(await call("increment", 1, 3), 2, "error RPC_PROGVERSMISMATCH 1 2\n");
    });

    test("arguments that do not decode give RPC_CANTDECODEARGS", async () => {
      assertRun(await call("bad-args"), 2, "error RPC_CANTDECODEARGS\n");
      // Unlike libtirpc's UDP server, ours decodes only the datagram it got, so void
      // arguments to ECHO are refused over UDP as well.
      assertRun(await call("garbage"), 2, "error RPC_CANTDECODEARGS\n");
    });

    test("a handler that throws: C sees RPC_SYSTEMERROR, the logger the exception, and serving goes on", async () => {
      service.logs.length = 0;
      assertRun(await call("blob", MAX_BLOB + 1), 2, "error RPC_SYSTEMERROR\n");
      assert.equal(service.logs.length, 1, JSON.stringify(service.logs));
      const [entry] = service.logs;
      assert.equal(entry.level, "error");
      assert.match(entry.message, /INTEROP_PROG v1 INTEROP_BLOB: the handler threw; replied SYSTEM_ERR/);
      const error = entry.details?.error;
      assert.ok(error instanceof RangeError, String(error));
      assert.match(error.message, /2097153 bytes is longer than MAX_BLOB/);
      assertRun(await call("null"), 0, "ok null\n");
      assertRun(await call("blob", 10), 0, okSized(10));
    });
  });
}

test("twenty C clients at once, over both transports", async () => {
  const runs = await Promise.all(
    Array.from({ length: 20 }, (_, i) => {
      const protocol = i % 2 === 0 ? "tcp" : "udp";
      const port = protocol === "tcp" ? service.tcp.port : service.udp.port;
      return runCRpcClient({
        port,
        protocol,
        command: i % 4 < 2 ? "echo" : "checksum",
        arg: i % 4 < 2 ? undefined : 1000 + i,
      });
    }),
  );
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, `client ${i}: ${r.stdout}${r.stderr}`);
    if (i % 4 < 2) assert.deepEqual(JSON.parse(r.stdout.slice(3)), C_ECHO_JSON);
    else assert.equal(r.stdout, `ok ${interopSum(interopPattern(1000 + i))}\n`);
  });
});

describe("large records over TCP", () => {
  const call = (command: string, arg?: number) =>
    runCRpcClient({ port: service.tcp.port, protocol: "tcp", command, arg });

  test("echo-big of 1 MiB: C's 65532-byte fragments reassembled by our server", async () => {
    assertRun(await call("echo-big", 1048576), 0, okSized(1048576));
  });

  test("MAX_BLOB (2 MiB) in both directions", async () => {
    assertRun(await call("echo-big", MAX_BLOB), 0, okSized(MAX_BLOB));
    assertRun(await call("blob", MAX_BLOB), 0, okSized(MAX_BLOB));
    assertRun(await call("checksum", MAX_BLOB), 0, `ok ${interopSum(interopPattern(MAX_BLOB))}\n`);
  });

  test("replies in fragments of 65532 bytes, as libtirpc writes them, read by libtirpc", async () => {
    const fragmenting = await startInteropService({ maxFragmentBytes: 65532 });
    try {
      const r = await runCRpcClient({ port: fragmenting.tcp.port, protocol: "tcp", command: "echo-big" });
      assertRun(r, 0, okSized(1048576));
      const blob = await runCRpcClient({
        port: fragmenting.tcp.port,
        protocol: "tcp",
        command: "blob",
        arg: MAX_BLOB,
      });
      assertRun(blob, 0, okSized(MAX_BLOB));
    } finally {
      await fragmenting.server.close();
    }
  });
});

test("a record over the server's maxRecordBytes: the connection closes, C cannot finish the call, a warning is logged", async () => {
  const strict = await startInteropService({ maxRecordBytes: 100_000 });
  try {
    const r = await runCRpcClient({
      port: strict.tcp.port,
      protocol: "tcp",
      command: "echo-big",
      arg: 1048576,
    });
    // EPIPE while C still writes, or the reset when it reads: which depends on timing.
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^error RPC_CANT(SEND|RECV)\n$/);
    assert.equal(strict.logs.length, 1, JSON.stringify(strict.logs));
    assert.equal(strict.logs[0].level, "warn");
    assert.match(
      strict.logs[0].message,
      /closed the connection .*MESSAGE_TOO_LARGE.* exceeds maxRecordBytes 100000/,
    );
    // Records within the limit still get through, on new connections.
    const echo = await runCRpcClient({ port: strict.tcp.port, protocol: "tcp", command: "echo" });
    assert.equal(echo.code, 0, echo.stderr);
    assert.deepEqual(JSON.parse(echo.stdout.slice(3)), C_ECHO_JSON);
  } finally {
    await strict.server.close();
  }
});

describe("the limits of a datagram", () => {
  const call = (command: string, arg?: number) =>
    runCRpcClient({ port: service.udp.port, protocol: "udp", command, arg });

  test("a blob reply of 65476 bytes fits; 65477 gives RPC_SYSTEMERROR, logged", async () => {
    assertRun(await call("blob", 65476), 0, okSized(65476));
    service.logs.length = 0;
    assertRun(await call("blob", 65477), 2, "error RPC_SYSTEMERROR\n");
    assert.equal(service.logs.length, 1, JSON.stringify(service.logs));
    assert.match(
      service.logs[0].message,
      /a 65508-byte reply exceeds the transport's 65507; replied SYSTEM_ERR/,
    );
  });

  test("a checksum call of 65460 bytes, the most a datagram carries", async () => {
    assertRun(await call("checksum", 65460), 0, `ok ${interopSum(interopPattern(65460))}\n`);
  });
});
