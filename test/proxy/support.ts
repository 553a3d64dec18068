/**
 * What the proxy tests stand behind and in front of the proxy: the date
 * service with a count of the calls its handlers see, and raw sinks that
 * record every message (TCP records, UDP datagrams) as it arrives.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { type Address, createServer, type Server, silentLogger } from "once-rpc";
import { frameRecord, RECORD_MARK_BYTES, RecordDecoder } from "once-rpc/transport";
import { DateProgV2, type DateReply, DateStyle } from "../../examples/date/gen/date.js";

export { DateProgV2, DateStyle };

/** The date service with counters: `now` answers after `nowDelayMs` when it is set. */
export interface CountingDateServer {
  readonly server: Server;
  readonly tcp: Address;
  readonly udp: Address;
  /** Calls each handler has seen. */
  readonly calls: { now: number; format: number };
  /** Arguments of format calls seen, in order. */
  readonly formats: bigint[];
  nowDelayMs: number;
}

/** Starts the counting date service on loopback TCP and UDP. */
export async function startDateServer(): Promise<CountingDateServer> {
  const server = createServer({ logger: silentLogger });
  const state = {
    server,
    tcp: undefined as unknown as Address,
    udp: undefined as unknown as Address,
    calls: { now: 0, format: 0 },
    formats: [] as bigint[],
    nowDelayMs: 0,
  };
  server.addProgram(DateProgV2, {
    now: async () => {
      state.calls.now++;
      if (state.nowDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.nowDelayMs));
      return 42n;
    },
    format: (req): DateReply => {
      state.calls.format++;
      state.formats.push(req.at ?? -1n);
      return { status: 0, text: `${req.style}:${req.zone}:${req.at}` };
    },
  });
  state.tcp = await server.listen("tcp://127.0.0.1:0");
  state.udp = await server.listen("udp://127.0.0.1:0");
  return state;
}

/** Arguments of a DATE_FORMAT call numbered `i`: the call's number travels in `at`. */
export function formatArgs(i: number) {
  return { style: DateStyle.DATE_UNIX, zone: "", at: BigInt(i) };
}

/** A TCP server that records every record it receives, per connection, and answers nothing. */
export interface RecordSink {
  readonly port: number;
  /** Records in arrival order (copies), over all connections. */
  readonly records: Uint8Array[];
  /** Connections accepted so far, and the open ones. */
  readonly sockets: Socket[];
  /** Resolves once `n` records have arrived. */
  waitFor(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a RecordSink on loopback. */
export async function startRecordSink(): Promise<RecordSink> {
  const records: Uint8Array[] = [];
  const sockets: Socket[] = [];
  let waiters: Waiter[] = [];
  const server: NetServer = createNetServer((socket) => {
    sockets.push(socket);
    const decoder = new RecordDecoder(1 << 24, (record) => {
      records.push(record.slice());
      waiters = settle(waiters, records.length);
    });
    socket.on("data", (chunk: Buffer) => decoder.push(new Uint8Array(chunk)));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    records,
    sockets,
    waitFor: (n) =>
      records.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A UDP socket that records every datagram it receives. */
export interface DatagramSink {
  readonly port: number;
  readonly socket: UdpSocket;
  readonly datagrams: Uint8Array[];
  waitFor(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a DatagramSink on loopback. */
export async function startDatagramSink(): Promise<DatagramSink> {
  const datagrams: Uint8Array[] = [];
  let waiters: Waiter[] = [];
  const socket = createSocket("udp4");
  socket.on("message", (bytes: Buffer) => {
    datagrams.push(new Uint8Array(bytes));
    waiters = settle(waiters, datagrams.length);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    socket,
    datagrams,
    waitFor: (n) =>
      datagrams.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

type Waiter = { n: number; resolve: () => void };

/** Resolves the waiters whose count has come; returns the others. */
function settle(waiters: Waiter[], count: number): Waiter[] {
  const waiting: Waiter[] = [];
  for (const w of waiters) {
    if (count >= w.n) w.resolve();
    else waiting.push(w);
  }
  return waiting;
}

/** A message of `length` bytes (≥ 4) whose first four bytes hold `i`, the rest a pattern of it. */
export function numbered(i: number, length = 16): Uint8Array {
  const out = new Uint8Array(length);
  new DataView(out.buffer).setUint32(0, i);
  for (let p = 4; p < length; p++) out[p] = (i * 31 + p) & 0xff;
  return out;
}

/** The number a `numbered` message carries. */
export function numberOf(message: Uint8Array): number {
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0);
}

/** Connects to a TCP port on loopback. */
export function connectTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Writes messages as records (single fragments), all in one write. */
export function writeRecords(socket: Socket, messages: readonly Uint8Array[]): void {
  const parts: Uint8Array[] = [];
  for (const m of messages) {
    const framed = frameRecord(
      [new Uint8Array(RECORD_MARK_BYTES), m],
      RECORD_MARK_BYTES + m.length,
      0x7fffffff,
    );
    parts.push(...framed);
  }
  socket.write(Buffer.concat(parts));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
