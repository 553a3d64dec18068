/**
 * The RPC benchmark: calls per second and call latency over TCP on
 * 127.0.0.1, once-rpc's client and server side by side, in one run, with a
 * floor (raw `net` echo with a length prefix), libtirpc (a C server built
 * with rpcgen, called by once-rpc and by a C client) and grpc-js. Echo of a
 * 104-byte struct one call at a time and 64 in flight, and of 64 KiB one at a
 * time and 16 in flight; once-rpc over UDP too for the struct. See
 * docs/benchmarks.md.
 *
 * Run with `once bench rpc`, or `node bench/dist/rpc.js` after
 * `npm run bench:setup`.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { authNone, createClient, writeCallHeader, type XdrCodec, XdrWriter } from "once-rpc";
import {
  BulkCodec,
  ECHO_BULK,
  ECHO_PROG,
  ECHO_SMALL,
  ECHO_V1,
  EchoProgV1,
  type Small,
  SmallCodec,
} from "./generated/echo.js";
import { buildCPeers, type CPeers, runCClient, startCServer } from "./lib/c-peers.js";
import { type CallContender, type CallMeasurement, driveCalls, measureCalls } from "./lib/calls.js";
import { FloorClient } from "./lib/floor.js";
import { connectGrpc, type GrpcSmall } from "./lib/grpc.js";
import { startNodeServers } from "./lib/servers.js";
import { grouped, machineLine, markdownTable } from "./lib/table.js";

/** Options of `runRpcBench`. */
export interface RpcBenchOptions {
  /** Timed rounds per row; the medians are reported. Default 15 (5 with `quick`). */
  samples?: number;
  /** Shorter batches and warm-up, for a smoke run. Default false. */
  quick?: boolean;
  /** Where progress and the report go. Default: stdout. */
  write?: (text: string) => void;
}

/** One row of the report. */
export interface RpcBenchRow extends CallMeasurement {
  readonly scenario: string;
  readonly inFlight: number;
  /** Payload megabytes (10^6 bytes, one way) per second; only for the 64 KiB echo. */
  readonly mbPerSec: number | undefined;
  /** calls/s of this row divided by once-rpc's over TCP in the same scenario. */
  readonly vsOnce: number;
}

/** What `runRpcBench` measured, and the report it printed. */
export interface RpcBenchResult {
  readonly rows: readonly RpcBenchRow[];
  readonly machine: string;
  readonly table: string;
}

/** The row the others are compared with. */
const ONCE_TCP = "once-rpc → once-rpc, TCP";
const ONCE_UDP = "once-rpc → once-rpc, UDP";
const FLOOR = "floor: net echo, 4-byte length prefix";
const ONCE_TO_C = "once-rpc → C server (rpcgen + libtirpc)";
const C_TO_C = "C client → C server (libtirpc)";
const GRPC = "grpc-js → grpc-js (HTTP/2)";

const BULK_BYTES = 64 * 1024;

/** The struct of the small echo: a 20-character name and sixteen ints (the C client sends the same). */
function sampleSmall(): Small {
  return {
    id: 1_234_567,
    name: "Ada Lovelace, Byron!",
    score: 98.625_001,
    list: [
      0, 1, -1, 127, 128, -128, 65_535, 65_536, -65_536, 0x7fff_ffff, -0x8000_0000, 12_345_678, -12_345_678,
      42, 7, 99,
    ],
  };
}

/** 64 KiB of byte i = (i * 7 + 3) & 255, as the C client sends. */
function sampleBulk(): Uint8Array {
  const bytes = new Uint8Array(BULK_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 255;
  return bytes;
}

/**
 * The floor's message: a 4-byte length, then the bytes of the RPC call
 * once-rpc sends for the same arguments (header with AUTH_NONE, then the
 * arguments in XDR), so that the floor carries as many bytes as the RPC rows.
 */
function floorFrame<T>(procedure: number, codec: XdrCodec<T>, value: T): Uint8Array {
  const writer = new XdrWriter();
  writer.writeUnsignedInt(0); // the length, set below
  writeCallHeader(writer, { xid: 1, program: ECHO_PROG, version: ECHO_V1, procedure }, authNone);
  codec.encode(writer, value);
  const frame = writer.bytes();
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(0, frame.length - 4);
  return frame;
}

interface Group {
  readonly scenario: string;
  readonly inFlight: number;
  readonly bulk: boolean;
  readonly contenders: CallContender[];
}

/** Runs the benchmark, prints a markdown table, and returns the figures. */
export async function runRpcBench(options: RpcBenchOptions = {}): Promise<RpcBenchResult> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const quick = options.quick ?? false;
  const samples = options.samples ?? (quick ? 5 : 15);
  if (!Number.isInteger(samples) || samples < 1)
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  const timing = quick ? { samples, batchMs: 30, warmupMs: 60 } : { samples, batchMs: 250, warmupMs: 500 };

  write("RPC benchmark: building the C peers (rpcgen + gcc + libtirpc) and starting the servers…\n");
  const peers: CPeers = await buildCPeers();
  const cServer = await startCServer(peers);
  const servers = await startNodeServers();
  const cleanups: Array<() => unknown> = [() => servers.stop(), () => cServer.stop()];
  try {
    const onceTcp = createClient(EchoProgV1, servers.onceTcp);
    const onceUdp = createClient(EchoProgV1, servers.onceUdp);
    const onceToC = createClient(EchoProgV1, `tcp://127.0.0.1:${cServer.port}`);
    cleanups.push(
      () => onceTcp.$close(),
      () => onceUdp.$close(),
      () => onceToC.$close(),
    );
    const floor = await FloorClient.connect(servers.floorPort);
    cleanups.push(() => floor.close());
    const grpc = await connectGrpc(servers.grpcPort);
    cleanups.push(() => grpc.close());

    const small = sampleSmall();
    const bulk = sampleBulk();
    const grpcBulk = { data: bulk };
    const smallFrame = floorFrame(ECHO_SMALL, SmallCodec, small);
    const bulkFrame = floorFrame(ECHO_BULK, BulkCodec, bulk);

    // Correctness first: every contender answers what it was sent.
    for (const [who, client] of [
      ["once-rpc TCP", onceTcp],
      ["once-rpc UDP", onceUdp],
      ["C server", onceToC],
    ] as const) {
      assert.deepEqual(await client.small(small), small, `${who}: small echo`);
      if (client !== onceUdp)
        assert.deepEqual(Uint8Array.from(await client.bulk(bulk)), bulk, `${who}: 64 KiB echo`);
    }
    assert.deepEqual(Uint8Array.from(await floor.call(smallFrame)), smallFrame, "floor: small frame");
    assert.deepEqual(Uint8Array.from(await floor.call(bulkFrame)), bulkFrame, "floor: 64 KiB frame");
    const grpcSmall: GrpcSmall = await grpc.small(small);
    assert.deepEqual({ ...grpcSmall, list: [...grpcSmall.list] }, small, "grpc-js: small echo");
    assert.deepEqual(Uint8Array.from((await grpc.bulk(grpcBulk)).data), bulk, "grpc-js: 64 KiB echo");
    // The C client compares its first reply with its argument and fails the run when they differ.
    await runCClient(peers, cServer.port, "small", 1, 0);
    await runCClient(peers, cServer.port, "bulk", 1, 0);

    const js = (name: string, inFlight: number, call: () => Promise<unknown>): CallContender => ({
      name,
      batch: (calls) => driveCalls(call, calls, inFlight),
    });
    // The C client is sequential; each sample is one run of it, its own untimed calls first.
    const c = (procedure: "small" | "bulk"): CallContender => ({
      name: C_TO_C,
      batch: (calls) =>
        runCClient(peers, cServer.port, procedure, calls, Math.min(1000, Math.max(16, calls >> 3))),
    });
    const smallRows = (inFlight: number, withC: boolean): CallContender[] => [
      js(ONCE_TCP, inFlight, () => onceTcp.small(small)),
      js(ONCE_UDP, inFlight, () => onceUdp.small(small)),
      js(FLOOR, inFlight, () => floor.call(smallFrame)),
      js(ONCE_TO_C, inFlight, () => onceToC.small(small)),
      ...(withC ? [c("small")] : []),
      js(GRPC, inFlight, () => grpc.small(small)),
    ];
    const bulkRows = (inFlight: number, withC: boolean): CallContender[] => [
      js(ONCE_TCP, inFlight, () => onceTcp.bulk(bulk)),
      js(FLOOR, inFlight, () => floor.call(bulkFrame)),
      js(ONCE_TO_C, inFlight, () => onceToC.bulk(bulk)),
      ...(withC ? [c("bulk")] : []),
      js(GRPC, inFlight, () => grpc.bulk(grpcBulk)),
    ];
    const groups: Group[] = [
      { scenario: "(a) small struct", inFlight: 1, bulk: false, contenders: smallRows(1, true) },
      { scenario: "(b) small struct", inFlight: 64, bulk: false, contenders: smallRows(64, false) },
      { scenario: "(c) 64 KiB opaque", inFlight: 1, bulk: true, contenders: bulkRows(1, true) },
      { scenario: "(c) 64 KiB opaque", inFlight: 16, bulk: true, contenders: bulkRows(16, false) },
    ];

    write(
      `Correctness checks passed. ${samples} samples of ~${timing.batchMs} ms per row, round-robin; ` +
        `each server in a process of its own.\n`,
    );
    const rows: RpcBenchRow[] = [];
    for (const g of groups) {
      write(`  timing ${g.scenario}, ${g.inFlight} in flight (${g.contenders.length} rows)…\n`);
      const measured = await measureCalls(g.contenders, timing);
      const once = measured.find((m) => m.name === ONCE_TCP);
      for (const m of measured) {
        rows.push({
          ...m,
          scenario: g.scenario,
          inFlight: g.inFlight,
          mbPerSec: g.bulk ? (m.callsPerSec * BULK_BYTES) / 1e6 : undefined,
          vsOnce: once ? m.callsPerSec / once.callsPerSec : Number.NaN,
        });
      }
    }

    const machine = machineLine();
    const table = markdownTable(
      ["scenario", "in flight", "client → server", "calls/s", "p50 µs", "p99 µs", "MB/s", "vs once-rpc"],
      rows.map((r) => [
        r.scenario,
        String(r.inFlight),
        r.name,
        grouped(r.callsPerSec),
        r.p50Us.toFixed(0),
        r.p99Us.toFixed(0),
        r.mbPerSec === undefined ? "" : r.mbPerSec.toFixed(0),
        ratio(r.vsOnce),
      ]),
      [false, true, false, true, true, true, true, true],
    );
    write(
      `\n${table}\n\n${machine}\n\n` +
        "calls/s: median over the samples; p50/p99: medians of each sample's percentiles, from a call to its reply;\n" +
        "MB/s: 64 KiB payloads echoed per second × 65,536 bytes (one way; each call carries it both ways).\n",
    );
    return { rows, machine, table };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Closing what is left is best effort; the figures (or the error) are what matter.
      }
    }
  }
}

/** Two decimals, or two significant digits below 0.1 so that small ratios do not read as zero. */
function ratio(x: number): string {
  return `${x < 0.1 ? x.toPrecision(2) : x.toFixed(2)}×`;
}

// Run directly: node bench/dist/rpc.js [--quick] [--samples N]
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--samples");
  await runRpcBench({ quick: args.includes("--quick"), samples: at >= 0 ? Number(args[at + 1]) : undefined });
}
