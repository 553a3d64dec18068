/** A handler that throws or rejects with NoReply sends nothing; the server serves on. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  createClient,
  createServer,
  type InetAddress,
  isNoReply,
  isRpcError,
  type Logger,
  NoReply,
  type ProgramVersionDescriptor,
  type Server,
  xdrInt,
} from "once-rpc";
import { encodeRawCall, frame, RawStreamPeer, words } from "../support/raw-rpc.js";

/** ADD(n) = n + 1, except 0 (NoReply thrown) and 1 (a promise rejected with NoReply). */
const AddV1 = {
  programName: "ADD_PROG",
  program: 0x2000_0c01,
  versionName: "ADD_V1",
  version: 1,
  procedures: { add: { name: "ADD", number: 1, args: xdrInt, result: xdrInt } },
} as const satisfies ProgramVersionDescriptor;

const SILENT = 0;
const SILENT_LATER = 1;

const logged: string[] = [];
const logger: Logger = {
  warn: (message) => void logged.push(message),
  error: (message) => void logged.push(message),
};

let server: Server;
let tcp: InetAddress;
let udp: InetAddress;

before(async () => {
  // Two calls in flight per connection at most: silent calls must not hold their places.
  server = createServer({ logger, maxCallsInFlightPerConnection: 2 });
  server.addProgram(AddV1, {
    add: (n) => {
      if (n === SILENT) throw new NoReply("not answering 0");
      if (n === SILENT_LATER) return Promise.reject(new NoReply());
      return n + 1;
    },
  });
  tcp = (await server.listen("tcp://127.0.0.1:0")) as InetAddress;
  udp = (await server.listen("udp://127.0.0.1:0")) as InetAddress;
});

after(async () => {
  await server?.close();
});

const int = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const call = (xid: number, n: number) =>
  frame(encodeRawCall({ xid, program: AddV1.program, version: 1, procedure: 1, args: int(n) }));

test("over TCP: nothing is sent for the silent calls, the connection serves on, nothing is logged", async () => {
  const peer = await RawStreamPeer.open(tcp.port);
  try {
    // Five silent calls of each kind, then one that is answered: with two calls in flight at most,
    // a silent call that kept its place would stop the connection before the last one.
    for (let xid = 1; xid <= 10; xid++) peer.write(call(xid, xid % 2 === 0 ? SILENT : SILENT_LATER));
    peer.write(call(11, 41));
    await peer.waitFor(1);
    // Long enough for a late reply to the silent calls to show.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(peer.closed, false);
    assert.equal(peer.records.length, 1, "one reply only");
    const reply = words(peer.records[0]);
    assert.equal(reply[0], 11, "the reply is the answered call's");
    assert.deepEqual(reply.slice(1), [1, 0, 0, 0, 0, 42], "REPLY, MSG_ACCEPTED, AUTH_NONE, SUCCESS, 42");
  } finally {
    peer.destroy();
  }
  assert.deepEqual(logged, []);
});

test("over UDP: the caller times out; the next call is answered", async () => {
  const client = createClient(AddV1, `udp://127.0.0.1:${udp.port}`, { timeoutMs: 300 });
  try {
    for (const n of [SILENT, SILENT_LATER]) {
      await assert.rejects(client.add(n), (e: unknown) => isRpcError(e) && e.code === "TIMEOUT");
    }
    assert.equal(await client.add(9), 10);
  } finally {
    client.$destroy();
  }
  assert.deepEqual(logged, []);
});

test("isNoReply tells NoReply from other errors", () => {
  assert.equal(isNoReply(new NoReply()), true);
  assert.equal(isNoReply(new Error("no")), false);
  assert.equal(new NoReply("why").message, "why");
});
