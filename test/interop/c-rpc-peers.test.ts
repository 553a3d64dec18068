/**
 * The C RPC peers against each other: the C client of
 * test/support/c-rpc-peers.ts calls the C server over TCP and UDP, so that
 * the interop tests built on them (TypeScript client to C server, C client
 * to TypeScript server) start from peers known to work, and the output
 * formats they parse are pinned here.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  C_ECHO_JSON,
  type CRpcServer,
  interopPattern,
  interopSum,
  runCRpcClient,
  startCRpcServer,
} from "../support/c-rpc-peers.js";

let server: CRpcServer;

before(async () => {
  server = await startCRpcServer();
});

after(async () => {
  await server?.stop();
});

/** `ok <n> <sum>` of n pattern bytes. */
function okSized(n: number): string {
  return `ok ${n} ${interopSum(interopPattern(n))}\n`;
}

for (const protocol of ["tcp", "udp"] as const) {
  describe(`C client to C server over ${protocol}`, () => {
    const call = (command: string, arg?: string | number, version?: number) =>
      runCRpcClient({
        port: protocol === "tcp" ? server.tcpPort : server.udpPort,
        protocol,
        command,
        arg,
        version,
      });

    test("null, on both versions", async () => {
      for (const version of [1, 2]) {
        const r = await call("null", undefined, version);
        assert.deepEqual([r.code, r.stdout], [0, "ok null\n"], r.stderr);
      }
    });

    test("echo round trips every field and prints it as JSON", async () => {
      const r = await call("echo");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ok \{.*\}\n$/);
      const reply = JSON.parse(r.stdout.slice(3));
      assert.deepEqual(reply, C_ECHO_JSON);
      // The fields that are easiest to get wrong, spelled out.
      assert.equal(reply.items.id, "-9223372036854775808");
      assert.equal(reply.items.next.big, "9007199254740993");
      assert.equal(reply.items.next.name, "βeta ☃ 日本 🚀");
      assert.equal(reply.items.next.origin, null);
      assert.equal(Math.fround(reply.items.next.ratio), Math.fround(-0.001));
      assert.equal(reply.items.next.next.next, null);
      assert.deepEqual(reply.s, { kind: "RED", center: { x: 1, y: -2 } });
      assert.deepEqual(new Uint8Array(Buffer.from(reply.data, "base64")), interopPattern(100));
    });

    test("increment totals grow, shared by versions 1 and 2", async () => {
      const start = await call("increment", 0);
      assert.equal(start.code, 0, start.stderr);
      const total = BigInt(/^ok (\d+)\n$/.exec(start.stdout)?.[1] ?? "x");
      const r1 = await call("increment", 3);
      assert.deepEqual([r1.code, r1.stdout], [0, `ok ${total + 3n}\n`], r1.stderr);
      const r2 = await call("increment", 4, 2);
      assert.deepEqual([r2.code, r2.stdout], [0, `ok ${total + 7n}\n`], r2.stderr);
      const r3 = await call("increment", 0xffff_ffff);
      assert.deepEqual([r3.code, r3.stdout], [0, `ok ${total + 7n + 0xffff_ffffn}\n`], r3.stderr);
    });

    test("sleep answers its milliseconds", async () => {
      const r = await call("sleep", 50);
      assert.deepEqual([r.code, r.stdout], [0, "ok 50\n"], r.stderr);
    });

    test("blob and checksum of 60000 bytes", async () => {
      const blob = await call("blob", 60000);
      assert.deepEqual([blob.code, blob.stdout], [0, okSized(60000)], blob.stderr);
      const sum = await call("checksum", 60000);
      assert.deepEqual([sum.code, sum.stdout], [0, `ok ${interopSum(interopPattern(60000))}\n`], sum.stderr);
      const empty = await call("blob", 0);
      assert.deepEqual([empty.code, empty.stdout], [0, "ok 0 0\n"], empty.stderr);
    });

    test("an unknown procedure gives RPC_PROCUNAVAIL", async () => {
      const r = await call("proc", 99);
      assert.deepEqual([r.code, r.stdout], [2, "error RPC_PROCUNAVAIL\n"]);
      // Version 2 has no procedure 1.
      const v2 = await call("echo", undefined, 2);
      assert.deepEqual([v2.code, v2.stdout], [2, "error RPC_PROCUNAVAIL\n"]);
    });

    test("an unknown version gives RPC_PROGVERSMISMATCH with the versions served", async () => {
      const r = await call("null", undefined, 9);
      assert.deepEqual([r.code, r.stdout], [2, "error RPC_PROGVERSMISMATCH 1 2\n"]);
    });

    test("arguments the server cannot decode give RPC_CANTDECODEARGS", async () => {
      const r = await call("bad-args");
      assert.deepEqual([r.code, r.stdout], [2, "error RPC_CANTDECODEARGS\n"]);
      if (protocol === "tcp") {
        // Over UDP, void arguments are not reliably refused by libtirpc: see below.
        const g = await call("garbage");
        assert.deepEqual([g.code, g.stdout], [2, "error RPC_CANTDECODEARGS\n"]);
      }
    });

    test("usage errors exit 64", async () => {
      const r = await call("increment");
      assert.equal(r.code, 64);
      assert.equal(r.stdout, "");
      const bad = await call("nonsense");
      assert.equal(bad.code, 64);
    });
  });
}

describe("large records over TCP", () => {
  const call = (command: string, arg?: number) =>
    runCRpcClient({ port: server.tcpPort, protocol: "tcp", command, arg });

  test("echo-big of 1 MiB: a record of many fragments each way", async () => {
    const r = await call("echo-big", 1048576);
    assert.deepEqual([r.code, r.stdout], [0, okSized(1048576)], r.stderr);
  });

  test("MAX_BLOB (2 MiB) in both directions, one byte more refused", async () => {
    const echo = await call("echo-big", 2097152);
    assert.deepEqual([echo.code, echo.stdout], [0, okSized(2097152)], echo.stderr);
    const blob = await call("blob", 2097152);
    assert.deepEqual([blob.code, blob.stdout], [0, okSized(2097152)], blob.stderr);
    const tooBig = await call("blob", 2097153);
    assert.deepEqual([tooBig.code, tooBig.stdout], [2, "error RPC_SYSTEMERROR\n"]);
    // The client's own xdr_blob refuses to encode more than MAX_BLOB.
    const tooBigArg = await call("checksum", 2097153);
    assert.deepEqual([tooBigArg.code, tooBigArg.stdout], [2, "error RPC_CANTENCODEARGS\n"]);
  });
});

describe("the limits of UDP with libtirpc", () => {
  const call = (command: string, arg?: number, version?: number) =>
    runCRpcClient({ port: server.udpPort, protocol: "udp", command, arg, version });

  test("a blob reply of 65476 bytes fits (65507 with its header); 65477 does not", async () => {
    const fits = await call("blob", 65476);
    assert.deepEqual([fits.code, fits.stdout], [0, okSized(65476)], fits.stderr);
    const over = await call("blob", 65477);
    assert.deepEqual([over.code, over.stdout], [2, "error RPC_SYSTEMERROR\n"]);
  });

  test("a checksum call of 65460 bytes fits; 65461 cannot be sent", async () => {
    const fits = await call("checksum", 65460);
    assert.deepEqual([fits.code, fits.stdout], [0, `ok ${interopSum(interopPattern(65460))}\n`], fits.stderr);
    const over = await call("checksum", 65461);
    assert.deepEqual([over.code, over.stdout], [2, "error RPC_CANTSEND\n"]);
  });

  test("libtirpc decodes UDP arguments past the datagram's end, from its stale buffer", async () => {
    // An echo to version 2 is refused (PROC_UNAVAIL) with a 24-byte reply, which leaves
    // the call's echo_args in the server's buffer from byte 40, where arguments start ...
    const refused = await call("echo", undefined, 2);
    assert.deepEqual([refused.code, refused.stdout], [2, "error RPC_PROCUNAVAIL\n"]);
    // ... so a call with no arguments at all decodes those and succeeds.
    const stale = await call("garbage");
    assert.deepEqual([stale.code, stale.stdout], [0, "ok garbage\n"], stale.stderr);
  });

  test("echo-big does not fit", async () => {
    const r = await call("echo-big", 1048576);
    assert.deepEqual([r.code, r.stdout], [2, "error RPC_CANTENCODEARGS\n"]);
  });
});

describe("the C server itself", () => {
  test("a port in use is a clear start error carrying the server's stderr", async () => {
    await assert.rejects(startCRpcServer({ tcpPort: server.tcpPort }), /C RPC server exited .*bind/s);
  });

  test("with the UDP reply cache, retransmissions of a slow call are answered from it", async () => {
    const cached = await startCRpcServer({ udpReplyCacheEntries: 64 });
    try {
      // 1200 ms with a retry every 500 ms: the client sends the call three times.
      const slow = await runCRpcClient({
        port: cached.udpPort,
        protocol: "udp",
        command: "sleep",
        arg: 1200,
      });
      assert.deepEqual([slow.code, slow.stdout], [0, "ok 1200\n"], slow.stderr);
      // Without the cache the two queued copies would sleep 2400 ms more before this is read.
      const started = performance.now();
      const next = await runCRpcClient({ port: cached.udpPort, protocol: "udp", command: "null" });
      assert.deepEqual([next.code, next.stdout], [0, "ok null\n"], next.stderr);
      assert.ok(performance.now() - started < 1000, "the retransmissions ran again");
    } finally {
      await cached.stop();
    }
  });

  test("stop() ends the process", async () => {
    const other = await startCRpcServer();
    await other.stop();
    assert.notEqual(other.process.exitCode ?? other.process.signalCode, null);
    await other.stop();
  });
});
