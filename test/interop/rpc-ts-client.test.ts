/**
 * Interop, TypeScript client to C server: a client made by createClient from
 * the generated descriptors of interop.x calls the rpcgen + libtirpc server
 * of test/support/c-rpc-peers.ts over TCP and over UDP (RFC 5531; records
 * over TCP per §11, one datagram per message over UDP). Every value the C
 * server echoes was decoded into C structures and encoded again by rpcgen's
 * XDR routines, so an equal reply means both sides agree on every byte.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type Client,
  createClient,
  ProgramMismatchError,
  type ProgramVersionDescriptor,
  RpcError,
  TimeoutError,
  xdrVoid,
} from "once-rpc";
import {
  Color,
  type EchoArgs,
  InteropProgV1,
  InteropProgV2,
  type Item,
  MAX_BLOB,
} from "../fixtures/interop/gen/interop.js";
import { type CRpcServer, interopPattern, interopSum, startCRpcServer } from "../support/c-rpc-peers.js";
import { show, xdrDifference } from "../support/xdr-equal.js";

/** Procedure 0 of a version, void to void (RFC 5531 §12.1); the generated descriptors leave it out. */
function withNull<D extends ProgramVersionDescriptor>(descriptor: D) {
  return {
    ...descriptor,
    procedures: { ping: { name: "NULLPROC", number: 0, args: xdrVoid, result: xdrVoid } },
  } as const;
}

/** Version 1 with a procedure the server does not have. */
const WithProc99 = {
  ...InteropProgV1,
  procedures: { proc99: { name: "INTEROP_PROC_99", number: 99, args: xdrVoid, result: xdrVoid } },
} as const;

/** Version 2 asked for INTEROP_ECHO, which only version 1 has. */
const EchoOnV2 = { ...InteropProgV2, procedures: { echo: InteropProgV1.procedures.echo } } as const;

/** A version the server does not serve. */
const Version3 = { ...withNull(InteropProgV1), version: 3, versionName: "INTEROP_V3" } as const;

/** A program the server does not serve. */
const OtherProgram = { ...withNull(InteropProgV1), program: 0x2000_0102, programName: "OTHER_PROG" } as const;

/** An item with every field set; `over` replaces some. */
function item(over: Partial<Item> = {}): Item {
  return {
    name: "item",
    id: 0n,
    big: 0n,
    weight: 0,
    ratio: 0,
    ok: false,
    tint: Color.RED,
    tag: new Uint8Array([1, 2, 3, 4]),
    scores: [],
    origin: null,
    next: null,
    ...over,
  };
}

/** Items linked through `next`, in order. */
function list(items: Item[]): Item | null {
  for (let i = items.length - 2; i >= 0; i--) items[i].next = items[i + 1];
  return items[0] ?? null;
}

/** The edges of every field: 64-bit extremes and values beyond 2^53, UTF-8, NaN, ±0, ±∞, subnormals. */
function richArgs(): EchoArgs {
  return {
    items: list([
      item({
        name: "",
        id: -(2n ** 63n),
        big: 2n ** 64n - 1n,
        weight: -0,
        ratio: -0,
        ok: true,
        tint: Color.RED,
        tag: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
        scores: [1, -2, 2147483647, -2147483648],
        origin: { x: -2147483648, y: 2147483647 },
      }),
      item({
        name: "βeta ☃ 日本 🚀",
        id: -(2n ** 53n) - 1n,
        big: 2n ** 53n + 1n,
        weight: Number.NaN,
        ratio: Number.NaN,
        tint: Color.BLUE,
        tag: new Uint8Array([0, 0, 0, 0]),
      }),
      item({
        // 16 four-byte characters: exactly MAX_NAME (64) bytes, the bound both sides count in bytes.
        name: "🚀".repeat(16),
        id: 2n ** 63n - 1n,
        big: 2n ** 63n,
        weight: Number.POSITIVE_INFINITY,
        ratio: Number.NEGATIVE_INFINITY,
        ok: true,
        tint: Color.GREEN,
        tag: new Uint8Array([0xff, 0xff, 0xff, 0xff]),
        scores: Array.from({ length: 1000 }, (_, i) => (i * 2654435761) | 0),
        origin: { x: 0, y: 0 },
      }),
      item({
        name: 'say "hi"\t\\ \u0001\u007f\n',
        id: -1n,
        big: 1n,
        weight: Number.MIN_VALUE, // the smallest subnormal double
        ratio: Math.fround(1.4e-45), // the smallest subnormal float
      }),
      item({
        name: "max",
        weight: -Number.MAX_VALUE,
        ratio: Math.fround(3.4028234663852886e38), // the largest float
      }),
    ]),
    s: { kind: Color.RED, center: { x: 1, y: -2 } },
    data: interopPattern(100),
  };
}

/** Echo arguments that each reach another arm, padding or optional case. */
function variedArgs(): EchoArgs[] {
  return [
    { items: null, s: { kind: Color.BLUE }, data: new Uint8Array(0) },
    { items: null, s: { kind: Color.GREEN, radius: -0 }, data: interopPattern(1) },
    { items: null, s: { kind: Color.GREEN, radius: Number.NaN }, data: interopPattern(2) },
    { items: item(), s: { kind: Color.GREEN, radius: Math.E }, data: interopPattern(3) },
    {
      items: item({ origin: { x: 5, y: 6 } }),
      s: { kind: Color.RED, center: { x: 0, y: 0 } },
      data: interopPattern(5),
    },
  ];
}

/** A list of `n` items (rpcgen's C decodes it recursively; ours by loop). */
function longList(n: number): EchoArgs {
  return {
    items: list(
      Array.from({ length: n }, (_, i) =>
        item({ name: `n${i}`, id: BigInt(i) - 2n ** 40n, big: BigInt(i) * 3n, scores: [i] }),
      ),
    ),
    s: { kind: Color.BLUE },
    data: interopPattern(7),
  };
}

/*
 * Teardown is by $destroy(): every call has settled by then. (It once also worked
 * around $close() not keeping its socket referenced; the test below covers that.)
 */

function assertSame(actual: unknown, expected: unknown): void {
  const difference = xdrDifference(actual, expected);
  assert.equal(difference, null, `${difference}\nactual: ${show(actual, 400)}`);
}

let server: CRpcServer;

before(async () => {
  server = await startCRpcServer();
});

after(async () => {
  await server?.stop();
});

for (const protocol of ["tcp", "udp"] as const) {
  describe(`TypeScript client to C server over ${protocol}`, () => {
    const address = () => `${protocol}://127.0.0.1:${protocol === "tcp" ? server.tcpPort : server.udpPort}`;
    // No retransmission before the deadline: INTEROP_INCREMENT is not idempotent, and
    // libtirpc's UDP server (no reply cache) would run a retransmitted call again.
    const options = { timeoutMs: 10_000, retransmitInitialMs: 10_000 };
    let v1: Client<typeof InteropProgV1>;
    let v2: Client<typeof InteropProgV2>;
    /** A client on v1's connection, closed with it. */
    function on<D extends ProgramVersionDescriptor>(descriptor: D): Client<D> {
      return createClient(descriptor, v1.$channel);
    }

    before(() => {
      v1 = createClient(InteropProgV1, address(), options);
      v2 = createClient(InteropProgV2, address(), options);
    });
    after(async () => {
      v1?.$destroy();
      v2?.$destroy();
    });

    test("the NULL procedure of both versions", async () => {
      assert.equal(await on(withNull(InteropProgV1)).ping(), null);
      assert.equal(await createClient(withNull(InteropProgV2), v2.$channel).ping(), null);
    });

    test("echo of a rich value comes back equal, field by field", async () => {
      const args = richArgs();
      const reply = await v1.echo(args);
      assertSame(reply, args);
      // The values easiest to get wrong, spelled out.
      const first = reply.items as Item;
      assert.equal(first.id, -(2n ** 63n));
      assert.equal(first.big, 2n ** 64n - 1n);
      assert.ok(Object.is(first.weight, -0) && Object.is(first.ratio, -0));
      const second = first.next as Item;
      assert.equal(second.big, 9007199254740993n);
      assert.equal(second.name, "βeta ☃ 日本 🚀");
      assert.ok(Number.isNaN(second.weight) && Number.isNaN(second.ratio));
      assert.equal(second.origin, null);
      assert.equal((second.next as Item).name, "🚀".repeat(16));
    });

    test("echo of every union arm, optional case and padding length", async () => {
      for (const args of variedArgs()) assertSame(await v1.echo(args), args);
    });

    test("echo of a long linked list", async () => {
      // 60 bytes an item: 300 fit in a datagram; over TCP, rpcgen's recursive C decoder takes 2000.
      const args = longList(protocol === "tcp" ? 2000 : 300);
      assertSame(await v1.echo(args), args);
    });

    test("a name one byte over MAX_NAME is refused locally with BAD_ARGS", async () => {
      const args = {
        items: item({ name: "🚀".repeat(16) + "x" }),
        s: { kind: Color.BLUE },
        data: new Uint8Array(0),
      };
      await assert.rejects(v1.echo(args), { code: "BAD_ARGS" });
    });

    test("increment: totals grow by exactly what was sent, on both versions", async () => {
      const start = await v1.increment(0);
      assert.equal(typeof start, "bigint");
      assert.equal(await v1.increment(3), start + 3n);
      assert.equal(await v2.increment(4), start + 7n);
      assert.equal(await v1.increment(0xffff_ffff), start + 7n + 0xffff_ffffn);
      assert.equal(await v2.increment(0), start + 7n + 0xffff_ffffn);
    });

    test("sleep answers its milliseconds", async () => {
      assert.equal(await v1.sleep(20), 20);
    });

    test("blob and checksum: empty and odd lengths (padding)", async () => {
      for (const n of [0, 1, 2, 3, 4, 5, 4095]) {
        const blob = await v1.blob(n);
        assertSame(blob, interopPattern(n));
        assert.equal(await v1.checksum(interopPattern(n)), interopSum(interopPattern(n)));
      }
    });

    test("errors: unknown procedure, version and program", async () => {
      await assert.rejects(on(WithProc99).proc99(), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.code, "PROC_UNAVAIL");
        return true;
      });
      // Version 2 has no procedure 1.
      await assert.rejects(on(EchoOnV2).echo(richArgs()), { code: "PROC_UNAVAIL" });
      await assert.rejects(on(Version3).ping(), (e: unknown) => {
        assert.ok(e instanceof ProgramMismatchError, String(e));
        assert.equal(e.code, "PROG_MISMATCH");
        assert.deepEqual([e.low, e.high], [1, 2]);
        assert.match(e.message, /^PROG_MISMATCH: program 0x20000101 supports versions 1\.\.2, not 3/);
        return true;
      });
      await assert.rejects(on(OtherProgram).ping(), { code: "PROG_UNAVAIL" });
      // The connection survives every refusal.
      assert.equal(await v1.sleep(1), 1);
    });

    test("many calls in flight at once, each matched to its reply", async () => {
      const count = 100;
      const settled: number[] = [];
      const calls = Array.from({ length: count }, (_, i) => {
        const call =
          i % 3 === 0
            ? v1.echo({
                items: item({ name: `call ${i}`, id: BigInt(i) }),
                s: { kind: Color.BLUE },
                data: interopPattern(i),
              })
            : i % 3 === 1
              ? v1.blob(i * 10)
              : v1.checksum(interopPattern(i * 10));
        return call.then((value) => {
          settled.push(i);
          return value;
        });
      });
      const replies = await Promise.all(calls);
      replies.forEach((reply, i) => {
        if (i % 3 === 0) {
          const echoed = reply as EchoArgs;
          assert.equal(echoed.items?.name, `call ${i}`);
          assertSame(echoed.data, interopPattern(i));
        } else if (i % 3 === 1) assertSame(reply, interopPattern(i * 10));
        else assert.equal(reply, interopSum(interopPattern(i * 10)));
      });
      if (protocol === "tcp") {
        // One connection to a single-threaded server: libtirpc answers in the order it was called.
        assert.deepEqual(
          settled,
          Array.from({ length: count }, (_, i) => i),
        );
      }
    });
  });
}

describe("large records over TCP", () => {
  let client: Client<typeof InteropProgV1>;
  let fragmented: Client<typeof InteropProgV1>;
  before(() => {
    const address = `tcp://127.0.0.1:${server.tcpPort}`;
    client = createClient(InteropProgV1, address, { timeoutMs: 15_000 });
    // Calls written as fragments of 65532 bytes, as libtirpc writes its own.
    fragmented = createClient(InteropProgV1, address, { timeoutMs: 15_000, maxFragmentBytes: 65532 });
  });
  after(async () => {
    client?.$destroy();
    fragmented?.$destroy();
  });

  test("blob of MAX_BLOB (2 MiB): a reply of 33 fragments from libtirpc", async () => {
    const blob = await client.blob(MAX_BLOB);
    assert.equal(blob.length, MAX_BLOB);
    assertSame(blob, interopPattern(MAX_BLOB));
  });

  test("checksum of MAX_BLOB, sent as one fragment and as 33", async () => {
    const data = interopPattern(MAX_BLOB);
    assert.equal(await client.checksum(data), interopSum(data));
    assert.equal(await fragmented.checksum(data), interopSum(data));
  });

  test("echo of MAX_BLOB bytes of data, both ways in many fragments", async () => {
    const args = { ...richArgs(), data: interopPattern(MAX_BLOB) };
    assertSame(await fragmented.echo(args), args);
  });

  test("a reply over the client's maxRecordBytes: MESSAGE_TOO_LARGE, and the next call reconnects", async () => {
    const strict = createClient(InteropProgV1, `tcp://127.0.0.1:${server.tcpPort}`, {
      timeoutMs: 15_000,
      maxRecordBytes: 100_000,
    });
    try {
      await assert.rejects(strict.blob(MAX_BLOB), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.code, "MESSAGE_TOO_LARGE");
        // Refused as soon as the second 65532-byte fragment says the record is too long.
        assert.match(e.message, /a record of at least \d+ bytes exceeds maxRecordBytes 100000/);
        return true;
      });
      assertSame(await strict.blob(10), interopPattern(10));
    } finally {
      strict.$destroy();
    }
  });

  test("past MAX_BLOB: the server's SYSTEM_ERR, and our own BAD_ARGS", async () => {
    await assert.rejects(client.blob(MAX_BLOB + 1), { code: "SYSTEM_ERR" });
    await assert.rejects(client.checksum(interopPattern(MAX_BLOB + 1)), { code: "BAD_ARGS" });
    assert.equal(await client.sleep(1), 1);
  });
});

describe("the limits of a datagram", () => {
  let client: Client<typeof InteropProgV1>;
  before(() => {
    client = createClient(InteropProgV1, `udp://127.0.0.1:${server.udpPort}`, { timeoutMs: 10_000 });
  });
  after(async () => {
    client?.$destroy();
  });

  test("a blob reply of 65476 bytes fits in 65507; one byte more and libtirpc answers SYSTEM_ERR", async () => {
    assertSame(await client.blob(65476), interopPattern(65476));
    await assert.rejects(client.blob(65477), { code: "SYSTEM_ERR" });
  });

  test("a checksum call of 65460 bytes fits; 65461 fails locally with MESSAGE_TOO_LARGE", async () => {
    assert.equal(await client.checksum(interopPattern(65460)), interopSum(interopPattern(65460)));
    await assert.rejects(client.checksum(interopPattern(65461)), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, "MESSAGE_TOO_LARGE");
      assert.match(e.message, /65508-byte call exceeds .* 65507/);
      return true;
    });
  });
});

describe("timeouts against a slow C server", () => {
  // A server of its own: INTEROP_SLEEP blocks the single-threaded server, and each UDP
  // retransmission runs again. It is killed in `after`, sleeping or not.
  let slow: CRpcServer;
  before(async () => {
    slow = await startCRpcServer();
  });
  after(async () => {
    await slow?.stop();
  });

  test("over TCP: TIMEOUT in phase reply after one attempt; the late reply is dropped", async () => {
    const client = createClient(withNull(InteropProgV1), `tcp://127.0.0.1:${slow.tcpPort}`);
    const sleeper = createClient(InteropProgV1, client.$channel);
    try {
      await client.ping(null, { timeoutMs: 5000 }); // connected first, so the time is all the reply's
      await assert.rejects(sleeper.sleep(400, { timeoutMs: 100 }), (e: unknown) => {
        assert.ok(e instanceof TimeoutError, String(e));
        assert.equal(e.code, "TIMEOUT");
        assert.equal(e.phase, "reply");
        assert.equal(e.attempts, 1);
        return true;
      });
      // The sleep's reply comes first on the connection and matches no call: this one waits for its own.
      assert.equal(await client.ping(null, { timeoutMs: 5000 }), null);
      assert.equal(await sleeper.sleep(2, { timeoutMs: 5000 }), 2);
    } finally {
      client.$destroy();
    }
  });

  test("over UDP: TIMEOUT in phase reply after several attempts", async () => {
    const client = createClient(InteropProgV1, `udp://127.0.0.1:${slow.udpPort}`, {
      retransmitInitialMs: 50,
      retransmitMaxMs: 100,
    });
    try {
      await assert.rejects(client.sleep(5000, { timeoutMs: 600 }), (e: unknown) => {
        assert.ok(e instanceof TimeoutError, String(e));
        assert.equal(e.phase, "reply");
        assert.ok(e.attempts > 1, `attempts ${e.attempts}`);
        assert.match(e.message, /^TIMEOUT: INTEROP_PROG v1 INTEROP_SLEEP: no reply after \d+ ms/);
        return true;
      });
    } finally {
      client.$destroy();
    }
  });
});

describe("a C server that goes away", () => {
  test("a call in flight fails with CONNECTION_CLOSED, the next with CONNECT_FAILED", async () => {
    const doomed = await startCRpcServer();
    const tcp = createClient(InteropProgV1, `tcp://127.0.0.1:${doomed.tcpPort}`, { timeoutMs: 10_000 });
    const udp = createClient(InteropProgV1, `udp://127.0.0.1:${doomed.udpPort}`, { timeoutMs: 10_000 });
    try {
      assert.equal(await tcp.sleep(1), 1);
      const sleeping = assert.rejects(tcp.sleep(5000), { code: "CONNECTION_CLOSED" });
      // Whether or not the server has read the call yet, it was sent: the connection's loss fails it.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await doomed.stop();
      await sleeping;
      await assert.rejects(tcp.sleep(1), { code: "CONNECT_FAILED" });
      // Over UDP, the port unreachable that loopback reports comes back as CONNECT_FAILED too.
      await assert.rejects(udp.sleep(1), { code: "CONNECT_FAILED" });
    } finally {
      tcp.$destroy();
      udp.$destroy();
      await doomed.stop();
    }
  });
});

test("$close() of an idle TCP client settles with only a child process at the other end", async () => {
  const server = await startCRpcServer();
  try {
    const client = createClient(InteropProgV1, `tcp://127.0.0.1:${server.tcpPort}`);
    assert.equal(await client.sleep(1), 1);
    await client.$close();
  } finally {
    await server.stop();
  }
});
