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
import { pathToFileURL } from "node:url";
import { allowedCpus, pin } from "./lib/affinity.js";
import { buildCPeers, type CPeers, runCClient, startCServer } from "./lib/c-peers.js";
import { type CallContender, type CallMeasurement, measureCalls } from "./lib/calls.js";
import { ClientProcess } from "./lib/client-process.js";
import { BULK_BYTES, type Procedure } from "./lib/payloads.js";
import { startNodeServer } from "./lib/servers.js";
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
  /** 1: client and server pinned to one core; 2: to two; 0: not pinned (no taskset, or one CPU). */
  readonly cores: number;
  /** Payload megabytes (10^6 bytes, one way) per second; only for the 64 KiB echo. */
  readonly mbPerSec: number | undefined;
  /** calls/s of this row divided by once-rpc's over TCP in the same scenario. */
  readonly vsOnce: number;
}

/** What `runRpcBench` measured, and the report it printed. */
export interface RpcBenchResult {
  readonly rows: readonly RpcBenchRow[];
  /** Where clients and servers ran. */
  readonly placement: string;
  readonly machine: string;
  readonly table: string;
}

/** Row labels; ONCE_TCP is the row the others are compared with. */
const ONCE_TCP = "once-rpc → once-rpc, TCP";
const ONCE_UDP = "once-rpc → once-rpc, UDP";
const FLOOR = "floor: net echo, 4-byte length prefix";
const ONCE_TO_C = "once-rpc → C server (rpcgen + libtirpc)";
const C_TO_C = "C client → C server (libtirpc)";
const GRPC = "grpc-js → grpc-js (HTTP/2)";

interface Group {
  readonly scenario: string;
  readonly inFlight: number;
  /** One call at a time: client and server on one core; calls in flight: on two (see lib/affinity.ts). */
  readonly cores: 1 | 2;
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
  const timing = quick ? { samples, batchMs: 30, warmupMs: 60 } : { samples, batchMs: 250, warmupMs: 1000 };

  write("RPC benchmark: building the C peers (rpcgen + gcc + libtirpc), starting the servers and clients…\n");
  const peers: CPeers = await buildCPeers();
  const cleanups: Array<() => unknown> = [];
  // Clients on the first CPU this process may use, servers on the first or the second (per scenario).
  // Everything started from here inherits the client's CPU; servers are moved before each scenario.
  const cpus = await allowedCpus();
  const cpu = cpus !== null && cpus.length >= 2 ? { client: cpus[0], server: cpus[1] } : null;
  if (cpu !== null) {
    await pin(process.pid, cpu.client);
    cleanups.push(() => pin(process.pid, cpus?.join(",") ?? ""));
  }
  const placement =
    cpu === null
      ? "not pinned (taskset missing or one CPU): the scheduler placed clients and servers"
      : `clients on CPU ${cpu.client}; servers on CPU ${cpu.client} too (cores 1) or on CPU ${cpu.server} (cores 2)`;
  try {
    const cServer = await startCServer(peers);
    cleanups.push(() => cServer.stop());
    const onceServer = await startNodeServer("once-rpc");
    cleanups.push(() => onceServer.stop());
    const floorServer = await startNodeServer("floor");
    cleanups.push(() => floorServer.stop());
    const grpcServer = await startNodeServer("grpc");
    cleanups.push(() => grpcServer.stop());

    // Each Node client in a process of its own; each checks its echoes before it is timed.
    const both: Procedure[] = ["small", "bulk"];
    const start = async (spec: Parameters<typeof ClientProcess.start>[0]) => {
      const client = await ClientProcess.start(spec);
      cleanups.push(() => client.close());
      return client;
    };
    const onceTcp = await start({ kind: "once-rpc", address: onceServer.tcp, procedures: both });
    const onceUdp = await start({ kind: "once-rpc", address: onceServer.udp, procedures: ["small"] });
    const onceToC = await start({
      kind: "once-rpc",
      address: `tcp://127.0.0.1:${cServer.port}`,
      procedures: both,
    });
    const floor = await start({ kind: "floor", port: floorServer.port, procedures: both });
    const grpc = await start({ kind: "grpc", port: grpcServer.port, procedures: both });
    // The C client compares its first reply with its argument and fails the run when they differ.
    await runCClient(peers, cServer.port, "small", 1, 0);
    await runCClient(peers, cServer.port, "bulk", 1, 0);

    const js = (
      name: string,
      client: ClientProcess,
      procedure: Procedure,
      inFlight: number,
    ): CallContender => ({
      name,
      batch: (calls) => client.batch(procedure, calls, inFlight),
    });
    // The C client is sequential; each sample is one run of it, its own untimed calls first.
    const c = (procedure: Procedure): CallContender => ({
      name: C_TO_C,
      batch: (calls) =>
        runCClient(peers, cServer.port, procedure, calls, Math.min(1000, Math.max(16, calls >> 3))),
    });
    const smallRows = (inFlight: number, withC: boolean): CallContender[] => [
      js(ONCE_TCP, onceTcp, "small", inFlight),
      js(ONCE_UDP, onceUdp, "small", inFlight),
      js(FLOOR, floor, "small", inFlight),
      js(ONCE_TO_C, onceToC, "small", inFlight),
      ...(withC ? [c("small")] : []),
      js(GRPC, grpc, "small", inFlight),
    ];
    const bulkRows = (inFlight: number, withC: boolean): CallContender[] => [
      js(ONCE_TCP, onceTcp, "bulk", inFlight),
      js(FLOOR, floor, "bulk", inFlight),
      js(ONCE_TO_C, onceToC, "bulk", inFlight),
      ...(withC ? [c("bulk")] : []),
      js(GRPC, grpc, "bulk", inFlight),
    ];
    const groups: Group[] = [
      { scenario: "(a) small struct", inFlight: 1, cores: 1, bulk: false, contenders: smallRows(1, true) },
      { scenario: "(b) small struct", inFlight: 64, cores: 2, bulk: false, contenders: smallRows(64, false) },
      { scenario: "(c) 64 KiB opaque", inFlight: 1, cores: 1, bulk: true, contenders: bulkRows(1, true) },
      { scenario: "(c) 64 KiB opaque", inFlight: 16, cores: 2, bulk: true, contenders: bulkRows(16, false) },
    ];

    write(
      `Correctness checks passed. ${samples} samples of ~${timing.batchMs} ms per row, round-robin; ` +
        `each server in a process and each Node client in a process of its own.\n`,
    );
    const rows: RpcBenchRow[] = [];
    const serverPids = [cServer.pid, onceServer.pid, floorServer.pid, grpcServer.pid];
    for (const g of groups) {
      if (cpu !== null) for (const pid of serverPids) await pin(pid, g.cores === 1 ? cpu.client : cpu.server);
      write(
        `  timing ${g.scenario}, ${g.inFlight} in flight, ${g.cores === 1 ? "one core" : "two cores"} (${g.contenders.length} rows)…\n`,
      );
      const measured = await measureCalls(g.contenders, timing);
      const once = measured.find((m) => m.name === ONCE_TCP);
      for (const m of measured) {
        rows.push({
          ...m,
          scenario: g.scenario,
          inFlight: g.inFlight,
          cores: cpu === null ? 0 : g.cores,
          mbPerSec: g.bulk ? (m.callsPerSec * BULK_BYTES) / 1e6 : undefined,
          vsOnce: once ? m.callsPerSec / once.callsPerSec : Number.NaN,
        });
      }
    }

    const machine = machineLine();
    const table = markdownTable(
      [
        "scenario",
        "in flight",
        "cores",
        "client → server",
        "calls/s",
        "samples' range",
        "p50 µs",
        "p99 µs",
        "MB/s",
        "vs once-rpc",
      ],
      rows.map((r) => [
        r.scenario,
        String(r.inFlight),
        r.cores === 0 ? "–" : String(r.cores),
        r.name,
        grouped(r.callsPerSec),
        range(r.samples.map((x) => (x.calls * 1e9) / x.elapsedNs)),
        r.p50Us.toFixed(0),
        r.p99Us.toFixed(0),
        r.mbPerSec === undefined ? "" : r.mbPerSec.toFixed(0),
        ratio(r.vsOnce),
      ]),
      [false, true, true, false, true, true, true, true, true, true],
    );
    write(
      `\n${table}\n\n${machine}\n${placement}\n\n` +
        "calls/s: median over the samples, and the lowest and highest sample; p50/p99: medians of each sample's percentiles, from a call to its reply;\n" +
        "MB/s: 64 KiB payloads echoed per second × 65,536 bytes (one way; each call carries it both ways).\n",
    );
    return { rows, placement, machine, table };
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

/** The lowest and highest of the samples' calls/s, in thousands: `31k–40k`. */
function range(values: readonly number[]): string {
  const k = (x: number) => (x >= 10_000 ? `${Math.round(x / 1000)}k` : `${(x / 1000).toFixed(1)}k`);
  return `${k(Math.min(...values))}–${k(Math.max(...values))}`;
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
