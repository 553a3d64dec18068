/**
 * What a server does with input no well-behaved client sends: the right RPC
 * error reply when there is a call to answer, otherwise that one connection
 * closed (or that one datagram dropped), and never the server.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import {
  AcceptStat,
  type Address,
  AuthError,
  AuthStat,
  authSys,
  createClient,
  createServer,
  type Logger,
  RpcError,
  type Server,
  serverAuthNone,
  serverAuthSys,
} from "once-rpc";
import { DATE_PROG, DateProgV2 } from "../../examples/date/gen/date.js";
import { encodeRawCall, frame, RawStreamPeer, words } from "../support/raw-rpc.js";

function portOf(address: Address): number {
  assert.ok(address.protocol !== "unix");
  return address.port;
}

class TestLogger implements Logger {
  readonly lines: { level: string; message: string; details?: Record<string, unknown> }[] = [];
  warn(message: string, details?: Record<string, unknown>): void {
    this.lines.push({ level: "warn", message, details });
  }
  error(message: string, details?: Record<string, unknown>): void {
    this.lines.push({ level: "error", message, details });
  }
}

describe("a server given hostile input", () => {
  const logger = new TestLogger();
  let server: Server;
  let tcpPort = 0;
  let udpPort = 0;

  before(async () => {
    server = createServer({
      logger,
      maxRecordBytes: 4096,
      auth: [
        serverAuthNone,
        serverAuthSys({ check: (p) => (p.uid === 0 ? AuthStat.AUTH_TOOWEAK : undefined) }),
      ],
    });
    server.addProgram(DateProgV2, {
      now: () => 42n,
      format: (req) => {
        if (req.zone === "throw") throw new Error("secret internal detail");
        return { status: 0 as const, text: req.zone };
      },
    });
    tcpPort = portOf(await server.listen("tcp://127.0.0.1:0"));
    udpPort = portOf(await server.listen("udp://127.0.0.1:0"));
  });
  after(() => server.destroy());

  async function stillServes(): Promise<void> {
    const client = createClient(DateProgV2, { protocol: "tcp", host: "127.0.0.1", port: tcpPort });
    assert.equal(await client.now(), 42n);
    await client.$close();
  }

  test("an ONC RPC version other than 2 gets RPC_MISMATCH 2..2", async () => {
    const peer = await RawStreamPeer.open(tcpPort);
    peer.write(frame(encodeRawCall({ xid: 7, rpcVersion: 3, program: DATE_PROG, version: 2, procedure: 1 })));
    await peer.waitFor(1);
    // xid, REPLY, MSG_DENIED, RPC_MISMATCH, low, high
    assert.deepEqual(words(peer.records[0]), [7, 1, 1, 0, 2, 2]);
    peer.destroy();
  });

  test("an unknown credential flavor gets AUTH_ERROR AUTH_REJECTEDCRED", async () => {
    const peer = await RawStreamPeer.open(tcpPort);
    peer.write(
      frame(encodeRawCall({ xid: 8, program: DATE_PROG, version: 2, procedure: 1, credFlavor: 390003 })),
    );
    await peer.waitFor(1);
    assert.deepEqual(words(peer.records[0]), [8, 1, 1, 1, AuthStat.AUTH_REJECTEDCRED]);
    peer.destroy();
  });

  test("an AUTH_SYS credential that does not decode gets AUTH_BADCRED; one the server refuses gets its auth_stat", async () => {
    const peer = await RawStreamPeer.open(tcpPort);
    peer.write(
      frame(
        encodeRawCall({
          xid: 9,
          program: DATE_PROG,
          version: 2,
          procedure: 1,
          credFlavor: 1,
          credBody: new Uint8Array(8),
        }),
      ),
    );
    await peer.waitFor(1);
    assert.deepEqual(words(peer.records[0]), [9, 1, 1, 1, AuthStat.AUTH_BADCRED]);
    peer.destroy();
    const root = createClient(
      DateProgV2,
      { protocol: "tcp", host: "127.0.0.1", port: tcpPort },
      {
        auth: authSys({ machineName: "m", uid: 0, gid: 0 }),
      },
    );
    await assert.rejects(root.now(), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.authStat, AuthStat.AUTH_TOOWEAK);
      assert.match(error.message, /^AUTH_ERROR: AUTH_TOOWEAK/);
      return true;
    });
    await root.$close();
  });

  test("arguments that do not decode get GARBAGE_ARGS", async () => {
    const peer = await RawStreamPeer.open(tcpPort);
    // date_request: style 9 is not a date_style.
    const args = Uint8Array.of(0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0);
    peer.write(frame(encodeRawCall({ xid: 10, program: DATE_PROG, version: 2, procedure: 2, args })));
    await peer.waitFor(1);
    assert.deepEqual(words(peer.records[0]), [10, 1, 0, 0, 0, AcceptStat.GARBAGE_ARGS]);
    peer.destroy();
  });

  test("a handler's exception becomes SYSTEM_ERR, is logged, and is not sent", async () => {
    const client = createClient(DateProgV2, server.memoryTransport());
    await assert.rejects(client.format({ style: 0, zone: "throw", at: null }), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, "SYSTEM_ERR");
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
    const logged = logger.lines.find((l) => l.level === "error" && l.message.includes("DATE_FORMAT"));
    assert.ok(logged, "the exception was logged");
    assert.match(String(logged.details?.error), /secret internal detail/);
    await client.$close();
  });

  test("a record over maxRecordBytes closes that connection only", async () => {
    const peer = await RawStreamPeer.open(tcpPort);
    const big = Buffer.alloc(4);
    big.writeUInt32BE((0x8000_0000 | 1_000_000) >>> 0);
    peer.write(big);
    await peer.waitClosed();
    assert.ok(logger.lines.some((l) => l.message.includes("maxRecordBytes")));
    await stillServes();
  });

  test("a message that is not a call header closes that connection only", async () => {
    const peer = await RawStreamPeer.open(tcpPort);
    peer.write(frame(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0, 0, 0)));
    await peer.waitClosed();
    await stillServes();
  });

  test("a malformed datagram is dropped; the next one is answered", async () => {
    const socket = createSocket("udp4");
    const replies: Buffer[] = [];
    socket.on("message", (m) => replies.push(m));
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const send = (bytes: Uint8Array) =>
      new Promise((resolve) => socket.send(bytes, udpPort, "127.0.0.1", resolve));
    await send(Uint8Array.of(1, 2, 3));
    await send(encodeRawCall({ xid: 11, program: DATE_PROG, version: 2, procedure: 1 }));
    for (let i = 0; i < 100 && replies.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    socket.close();
    assert.equal(replies.length, 1);
    assert.deepEqual(words(replies[0]).slice(0, 6), [11, 1, 0, 0, 0, 0]);
  });

  test("fuzz: random records never stop the server", async () => {
    const samples = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 120 }), { numRuns: 300, seed: 42 });
    // Half of them start as a valid call header would, so they reach deeper checks.
    const header = encodeRawCall({ xid: 1, program: DATE_PROG, version: 2, procedure: 2 });
    const peers: RawStreamPeer[] = [];
    for (let i = 0; i < samples.length; i += 30) {
      const peer = await RawStreamPeer.open(tcpPort);
      peers.push(peer);
      for (const sample of samples.slice(i, i + 30)) {
        const body = i % 60 === 0 ? Buffer.concat([header.subarray(0, 24), sample]) : sample;
        peer.write(frame(body));
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const peer of peers) peer.destroy();
    await stillServes();
  });
});
