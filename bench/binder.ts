/**
 * The binder benchmark: lookups per second of once-rpc's binder and of
 * Debian's rpcbind, side by side in one run. Both are loaded with the same
 * registrations through real SET calls (1,000 programs, each on tcp and
 * udp), then asked for them in turn: GETADDR (rpcbind version 3) and
 * GETPORT (portmapper version 2), over TCP and UDP, one call at a time and
 * 64 in flight, by once-rpc's client and by a C client (libtirpc's
 * clnt_call one at a time; hand-encoded calls when 64 are in flight, so
 * that the client is not what is measured). See docs/benchmarks.md.
 *
 * rpcbind only listens on port 111: the suite starts it itself and refuses,
 * saying how to free it, when port 111 is taken. Run with
 * `once bench binder`, or `node bench/dist/binder.js` after
 * `npm run bench:setup`; as root.
 */
import { pathToFileURL } from "node:url";
import { createClient } from "once-rpc";
import { RpcbprogV3 } from "once-rpc/binder";
import { allowedCpus, pin } from "./lib/affinity.js";
import { startBinderProcess } from "./lib/binder-process.js";
import { buildCLookupClient, type CLookupMode, runCLookups } from "./lib/c-lookup.js";
import { type CallContender, type CallMeasurement, measureCalls } from "./lib/calls.js";
import {
  LookupClientProcess,
  type LookupSpec,
  type Registrations,
  registeredAddress,
} from "./lib/lookup-client.js";
import { Port111Unavailable, startDebianRpcbind } from "./lib/rpcbind.js";
import { grouped, machineLine, markdownTable } from "./lib/table.js";

/** Options of `runBinderBench`. */
export interface BinderBenchOptions {
  /** Timed rounds per row; the medians are reported. Default 15 (5 with `quick`). */
  samples?: number;
  /** Shorter batches and warm-up, for a smoke run. Default false. */
  quick?: boolean;
  /** Programs registered with each binder (each on tcp and udp). Default 1,000. */
  registrations?: number;
  /** Where progress and the report go. Default: stdout. */
  write?: (text: string) => void;
}

/** One line of the report: one client against both binders in one scenario. */
export interface BinderBenchRow {
  readonly lookup: "GETADDR v3" | "GETPORT v2";
  readonly protocol: "tcp" | "udp";
  readonly inFlight: number;
  /** 1: client and binder pinned to one core; 2: to two; 0: not pinned. */
  readonly cores: number;
  readonly client: string;
  readonly ours: CallMeasurement;
  readonly rpcbind: CallMeasurement;
  /** calls/s of ours divided by rpcbind's. */
  readonly ratio: number;
}

/** What `runBinderBench` measured, and the report it printed; undefined when port 111 was not free. */
export interface BinderBenchResult {
  readonly rows: readonly BinderBenchRow[];
  readonly placement: string;
  readonly machine: string;
  readonly table: string;
}

/** The programs registered: 0x20004000 onwards, version 1, at 127.0.0.1 ports 20000 onwards. */
const PROG_BASE = 0x2000_4000;
const PORT_BASE = 20_000;

const ONCE_CLIENT = "once-rpc";
const TIRPC_CLIENT = "C, libtirpc clnt_call";
const RAW_CLIENT = "C, hand-encoded, pipelined";

interface Scenario {
  readonly procedure: "getaddr" | "getport";
  readonly protocol: "tcp" | "udp";
  readonly inFlight: number;
  readonly cores: 1 | 2;
}

/** Runs the benchmark, prints a markdown table, and returns the figures (undefined if rpcbind could not run). */
export async function runBinderBench(
  options: BinderBenchOptions = {},
): Promise<BinderBenchResult | undefined> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const quick = options.quick ?? false;
  const samples = options.samples ?? (quick ? 5 : 15);
  const count = options.registrations ?? 1000;
  if (!Number.isInteger(samples) || samples < 1)
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  if (!Number.isInteger(count) || count < 1 || PORT_BASE + count > 65_536)
    throw new RangeError(`registrations must be an integer from 1 to ${65_536 - PORT_BASE}, got ${count}`);
  const timing = quick ? { samples, batchMs: 30, warmupMs: 60 } : { samples, batchMs: 200, warmupMs: 800 };
  const registrations: Registrations = { progBase: PROG_BASE, count, portBase: PORT_BASE };

  write(
    "Binder benchmark: building the C client, starting Debian's rpcbind on port 111 and once-rpc's binder…\n",
  );
  const exe = await buildCLookupClient();
  const cleanups: Array<() => unknown> = [];
  let rpcbind: Awaited<ReturnType<typeof startDebianRpcbind>>;
  try {
    rpcbind = await startDebianRpcbind(write);
  } catch (error) {
    if (!(error instanceof Port111Unavailable)) throw error;
    process.stderr.write(`once bench binder: ${error.message}\n`);
    return undefined;
  }
  cleanups.push(() => rpcbind.stop());
  const cpus = await allowedCpus();
  const cpu = cpus !== null && cpus.length >= 2 ? { client: cpus[0], server: cpus[1] } : null;
  if (cpu !== null) {
    await pin(process.pid, cpu.client);
    cleanups.push(() => pin(process.pid, cpus?.join(",") ?? ""));
  }
  const placement =
    cpu === null
      ? "not pinned (taskset missing or one CPU): the scheduler placed clients and binders"
      : `clients on CPU ${cpu.client}; binders on CPU ${cpu.client} too (cores 1) or on CPU ${cpu.server} (cores 2)`;
  try {
    const ours = await startBinderProcess();
    cleanups.push(() => ours.stop());
    const binders = {
      ours: { tcp: ours.tcpPort, udp: ours.udpPort, pid: ours.pid },
      rpcbind: { tcp: 111, udp: 111, pid: rpcbind.pid },
    };
    for (const [name, b] of Object.entries(binders)) {
      const setAll = await register(b.tcp, registrations);
      write(`  ${name}: ${setAll} registrations set over TCP\n`);
    }

    const scenarios: Scenario[] = [];
    for (const procedure of ["getaddr", "getport"] as const)
      for (const [inFlight, cores] of [
        [1, 1],
        [64, 2],
      ] as const)
        for (const protocol of ["tcp", "udp"] as const)
          scenarios.push({ procedure, protocol, inFlight, cores });

    // One once-rpc client process per (binder, procedure, transport); each checks every registration first.
    const onceClients = new Map<string, LookupClientProcess>();
    for (const s of scenarios) {
      for (const which of ["ours", "rpcbind"] as const) {
        const key = `${which} ${s.procedure} ${s.protocol}`;
        if (onceClients.has(key)) continue;
        const client = await LookupClientProcess.start(spec(binders[which][s.protocol], s, registrations));
        cleanups.push(() => client.close());
        onceClients.set(key, client);
      }
    }
    // The C client checks every answer it gets; one run of each kind first, so a wrong binder stops the run now.
    for (const s of scenarios)
      for (const which of ["ours", "rpcbind"] as const)
        await runCLookups(
          exe,
          cMode(s),
          binders[which][s.protocol],
          spec(0, s, registrations),
          count,
          0,
          s.inFlight,
        );

    write(
      `Correctness checks passed. ${samples} samples of ~${timing.batchMs} ms per row, round-robin; ` +
        "each binder and each once-rpc client in a process of its own.\n",
    );
    const rows: BinderBenchRow[] = [];
    for (const s of scenarios) {
      if (cpu !== null)
        for (const b of Object.values(binders)) await pin(b.pid, s.cores === 1 ? cpu.client : cpu.server);
      const contenders: CallContender[] = [];
      for (const which of ["ours", "rpcbind"] as const) {
        const once = onceClients.get(`${which} ${s.procedure} ${s.protocol}`);
        if (once === undefined) throw new Error("no once-rpc client");
        contenders.push({ name: `${ONCE_CLIENT}|${which}`, batch: (calls) => once.batch(calls, s.inFlight) });
        const port = binders[which][s.protocol];
        contenders.push({
          name: `${cClientName(s)}|${which}`,
          // Each sample is one run of the C client, its own untimed calls first.
          batch: (calls) =>
            runCLookups(
              exe,
              cMode(s),
              port,
              spec(0, s, registrations),
              calls,
              Math.min(1000, Math.max(16, calls >> 3)),
              s.inFlight,
            ),
        });
      }
      write(
        `  timing ${lookupName(s)} over ${s.protocol.toUpperCase()}, ${s.inFlight} in flight, ${s.cores === 1 ? "one core" : "two cores"}…\n`,
      );
      const measured = await measureCalls(contenders, timing);
      for (const client of [ONCE_CLIENT, cClientName(s)]) {
        const find = (which: string) => {
          const m = measured.find((x) => x.name === `${client}|${which}`);
          if (m === undefined) throw new Error(`no row ${client}|${which}`);
          return m;
        };
        const o = find("ours");
        const r = find("rpcbind");
        rows.push({
          lookup: lookupName(s),
          protocol: s.protocol,
          inFlight: s.inFlight,
          cores: cpu === null ? 0 : s.cores,
          client,
          ours: o,
          rpcbind: r,
          ratio: o.callsPerSec / r.callsPerSec,
        });
      }
    }

    const machine = machineLine();
    const table = markdownTable(
      [
        "lookup",
        "over",
        "in flight",
        "cores",
        "client",
        "once-rpc binder calls/s",
        "rpcbind calls/s",
        "ours/rpcbind",
        "p50 µs ours",
        "p50 µs rpcbind",
        "p99 µs ours",
        "p99 µs rpcbind",
      ],
      rows.map((r) => [
        r.lookup,
        r.protocol.toUpperCase(),
        String(r.inFlight),
        r.cores === 0 ? "–" : String(r.cores),
        r.client,
        `${grouped(r.ours.callsPerSec)} (${range(r.ours)})`,
        `${grouped(r.rpcbind.callsPerSec)} (${range(r.rpcbind)})`,
        `${r.ratio < 0.1 ? r.ratio.toPrecision(2) : r.ratio.toFixed(2)}×`,
        r.ours.p50Us.toFixed(0),
        r.rpcbind.p50Us.toFixed(0),
        r.ours.p99Us.toFixed(0),
        r.rpcbind.p99Us.toFixed(0),
      ]),
      [false, false, true, true, false, true, true, true, true, true, true, true],
    );
    write(
      `\n${table}\n\n${machine}\n${placement}\n` +
        `${count} programs registered with each binder, each on tcp and udp (${2 * count} SETs); lookups go round them.\n` +
        "calls/s: median over the samples (lowest–highest sample); p50/p99: medians of each sample's percentiles, from a call to its reply.\n",
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

/** SETs every registration on tcp and udp through the binder at 127.0.0.1:port (version 3, over TCP). */
async function register(port: number, r: Registrations): Promise<number> {
  const rpcb = createClient(RpcbprogV3, `tcp://127.0.0.1:${port}`);
  let set = 0;
  try {
    for (let i = 0; i < r.count; i++) {
      for (const netid of ["tcp", "udp"]) {
        const args = {
          r_prog: r.progBase + i,
          r_vers: 1,
          r_netid: netid,
          r_addr: registeredAddress(r, i),
          r_owner: "",
        };
        if (!(await rpcb.set(args)))
          throw new Error(`the binder on port ${port} refused SET of program ${r.progBase + i} on ${netid}`);
        set++;
      }
    }
  } finally {
    await rpcb.$close();
  }
  return set;
}

function spec(port: number, s: Scenario, r: Registrations): LookupSpec {
  return { ...r, port, protocol: s.protocol, procedure: s.procedure };
}

function cMode(s: Scenario): CLookupMode {
  return s.inFlight === 1 ? "tirpc" : "raw";
}

function cClientName(s: Scenario): string {
  return s.inFlight === 1 ? TIRPC_CLIENT : RAW_CLIENT;
}

function lookupName(s: Scenario): "GETADDR v3" | "GETPORT v2" {
  return s.procedure === "getaddr" ? "GETADDR v3" : "GETPORT v2";
}

/** The lowest and highest of the samples' calls/s, in thousands: `31k–40k`. */
function range(m: CallMeasurement): string {
  const values = m.samples.map((x) => (x.calls * 1e9) / x.elapsedNs);
  const k = (x: number) => (x >= 10_000 ? `${Math.round(x / 1000)}k` : `${(x / 1000).toFixed(1)}k`);
  return `${k(Math.min(...values))}–${k(Math.max(...values))}`;
}

// Run directly: node bench/dist/binder.js [--quick] [--samples N]
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--samples");
  const result = await runBinderBench({
    quick: args.includes("--quick"),
    samples: at >= 0 ? Number(args[at + 1]) : undefined,
  });
  if (result === undefined) process.exitCode = 1;
}
