/**
 * The call-semantics benchmark: what each semantics costs a call, side by
 * side with `maybe`, in one run. A non-idempotent counter (ADD of a 4-byte
 * int) served by once-rpc in a process of its own and called by once-rpc in
 * processes of their own, over TCP (and UDP), one call at a time and 64 in
 * flight, under maybe, at-least-once, at-most-once (the session flavor and
 * the server's reply cache) and exactly-once (a durable completion record
 * per call in a SQLite store, synchronous "full" and "normal"); then the
 * store alone, records per second, beside the disk's fdatasync. See
 * docs/benchmarks.md.
 *
 * Run with `once bench semantics`, or `node bench/dist/semantics.js` after
 * `npm run bench:setup`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Semantics } from "once-rpc";
import { createSqliteCompletionStore } from "once-rpc/server";
import { allowedCpus, pin } from "./lib/affinity.js";
import { type CallContender, type CallMeasurement, measureCalls } from "./lib/calls.js";
import type { CounterProcedure } from "./lib/counter.js";
import { SemanticsClientProcess } from "./lib/semantics-client.js";
import { type SemanticsServer, type StoreKind, startSemanticsServer } from "./lib/semantics-server.js";
import { measureStore, STORE_ROWS, type StoreMicroRow } from "./lib/store-micro.js";
import { grouped, machineLine, markdownTable } from "./lib/table.js";

/** Options of `runSemanticsBench`. */
export interface SemanticsBenchOptions {
  /** Timed rounds per row; the medians are reported. Default 15 (5 with `quick`). */
  samples?: number;
  /** Shorter batches and warm-up, for a smoke run. Default false. */
  quick?: boolean;
  /** Where progress and the report go. Default: stdout. */
  write?: (text: string) => void;
}

/** One row of the calls table. */
export interface SemanticsBenchRow extends CallMeasurement {
  readonly transport: "TCP" | "UDP";
  readonly inFlight: number;
  /** 1: client and server pinned to one core; 2: to two; 0: not pinned. */
  readonly cores: number;
  readonly semantics: Semantics;
  /** Microseconds per call at the median rate: 1e6 ÷ calls/s. */
  readonly usPerCall: number;
  /** calls/s of this row divided by maybe's, same transport and calls in flight. */
  readonly vsMaybe: number;
}

/** The cost of one durable completion record: exactly-once against at-most-once, same shape. */
export interface RecordCost {
  readonly inFlight: number;
  readonly atMostOnceUs: number;
  /** µs per call, and its excess over at-most-once, per store setting. */
  readonly full: { readonly us: number; readonly extraUs: number };
  readonly normal: { readonly us: number; readonly extraUs: number };
}

/** What `runSemanticsBench` measured, and the report it printed. */
export interface SemanticsBenchResult {
  readonly rows: readonly SemanticsBenchRow[];
  /** Undefined when the completion store could not be made (better-sqlite3 missing): no exactly-once rows. */
  readonly recordCost: readonly RecordCost[] | undefined;
  readonly store: readonly StoreMicroRow[] | undefined;
  readonly placement: string;
  readonly machine: string;
  readonly table: string;
}

/** A row of the plan: which client calls which server. */
interface Plan {
  readonly label: string;
  readonly semantics: Semantics;
  readonly server: StoreKind;
  readonly procedure: CounterProcedure;
  /** Every call in the session flavor, whatever its semantics needs. */
  readonly session?: boolean;
  readonly transports: readonly ("TCP" | "UDP")[];
  readonly exactlyOnce: boolean;
}

const MAYBE = "maybe";
const MAYBE_SESSION = "maybe, in the session flavor";
const AT_MOST_ONCE = "at-most-once (session + reply cache)";
const EO_FULL = 'exactly-once, SQLite "full"';
const EO_NORMAL = 'exactly-once, SQLite "normal"';
const EO_FULL_EFFECT = 'exactly-once, "full", + effect in ctx.commit';

const PLANS: readonly Plan[] = [
  {
    label: MAYBE,
    semantics: "maybe",
    server: "none",
    procedure: "add",
    transports: ["TCP", "UDP"],
    exactlyOnce: false,
  },
  {
    label: "at-least-once",
    semantics: "at-least-once",
    server: "none",
    procedure: "add",
    transports: ["TCP", "UDP"],
    exactlyOnce: false,
  },
  {
    label: MAYBE_SESSION,
    semantics: "maybe",
    server: "none",
    procedure: "add",
    session: true,
    transports: ["TCP", "UDP"],
    exactlyOnce: false,
  },
  {
    label: AT_MOST_ONCE,
    semantics: "at-most-once",
    server: "none",
    procedure: "add",
    transports: ["TCP", "UDP"],
    exactlyOnce: false,
  },
  {
    label: EO_FULL,
    semantics: "exactly-once",
    server: "full",
    procedure: "add",
    transports: ["TCP"],
    exactlyOnce: true,
  },
  {
    label: EO_NORMAL,
    semantics: "exactly-once",
    server: "normal",
    procedure: "add",
    transports: ["TCP"],
    exactlyOnce: true,
  },
  {
    label: EO_FULL_EFFECT,
    semantics: "exactly-once",
    server: "full",
    procedure: "addDurable",
    transports: ["TCP"],
    exactlyOnce: true,
  },
];

/** The groups timed, in order: one call at a time on one core, 64 in flight on two. */
const GROUPS = [
  { transport: "TCP", inFlight: 1, cores: 1 },
  { transport: "TCP", inFlight: 64, cores: 2 },
  { transport: "UDP", inFlight: 1, cores: 1 },
  { transport: "UDP", inFlight: 64, cores: 2 },
] as const;

/** Whether a SQLite completion store can be made here; the reason when not. */
function storeAvailability(): string | undefined {
  try {
    createSqliteCompletionStore({ path: ":memory:", sweepIntervalMs: 0 }).close();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The file system type of `dir` (`df --output=fstype`), or "unknown". */
async function fileSystemOf(dir: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)("df", ["--output=fstype", dir]);
    return stdout.trim().split("\n").at(-1)?.trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/** Runs the benchmark, prints the tables, and returns the figures. */
export async function runSemanticsBench(options: SemanticsBenchOptions = {}): Promise<SemanticsBenchResult> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const quick = options.quick ?? false;
  const samples = options.samples ?? (quick ? 5 : 15);
  if (!Number.isInteger(samples) || samples < 1)
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  const timing = quick ? { samples, batchMs: 30, warmupMs: 60 } : { samples, batchMs: 250, warmupMs: 1000 };
  const storeTiming = quick
    ? { samples, batchMs: 30, warmupMs: 60 }
    : { samples, batchMs: 200, warmupMs: 400 };

  const unavailable = storeAvailability();
  const plans = PLANS.filter((p) => unavailable === undefined || !p.exactlyOnce);
  const dir = mkdtempSync(join(tmpdir(), "once-bench-semantics-"));
  const fsType = await fileSystemOf(dir);
  write(
    "Semantics benchmark: a counter's ADD (4-byte int) under maybe, at-least-once, at-most-once and exactly-once;\n" +
      `store files in ${dir} (${fsType}).\n`,
  );
  if (unavailable !== undefined)
    write(`exactly-once: store not available, its rows are left out (${unavailable})\n`);

  const cleanups: Array<() => unknown> = [() => rmSync(dir, { recursive: true, force: true })];
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
    // One server process per store setting; each client in a process of its own, checked before it is timed.
    const servers = new Map<StoreKind, SemanticsServer>();
    for (const kind of new Set(plans.map((p) => p.server))) {
      const server = await startSemanticsServer({ store: kind, dir });
      cleanups.push(() => server.stop());
      servers.set(kind, server);
    }
    const clients = new Map<string, SemanticsClientProcess>();
    for (const plan of plans) {
      for (const transport of plan.transports) {
        const server = servers.get(plan.server) as SemanticsServer;
        const client = await SemanticsClientProcess.start({
          address: transport === "TCP" ? server.tcp : server.udp,
          semantics: plan.semantics,
          procedure: plan.procedure,
          session: plan.session ?? false,
        });
        cleanups.push(() => client.close());
        clients.set(`${plan.label} ${transport}`, client);
      }
    }
    write(
      `Checks passed (two calls add up; the probe found the semantics offered). ${samples} samples of ~${timing.batchMs} ms per row, round-robin.\n`,
    );

    const rows: SemanticsBenchRow[] = [];
    for (const g of GROUPS) {
      if (cpu !== null)
        for (const server of servers.values()) await pin(server.pid, g.cores === 1 ? cpu.client : cpu.server);
      const inGroup = plans.filter((p) => p.transports.includes(g.transport));
      const contenders: CallContender[] = inGroup.map((p) => {
        const client = clients.get(`${p.label} ${g.transport}`) as SemanticsClientProcess;
        // At least a full window per batch, so that a slow row still has its calls in flight.
        return { name: p.label, batch: (calls) => client.batch(Math.max(calls, g.inFlight), g.inFlight) };
      });
      write(`  timing ${g.transport}, ${g.inFlight} in flight (${contenders.length} rows)…\n`);
      const measured = await measureCalls(contenders, timing);
      const maybe = measured.find((m) => m.name === MAYBE);
      for (const m of measured) {
        rows.push({
          ...m,
          transport: g.transport,
          inFlight: g.inFlight,
          cores: cpu === null ? 0 : g.cores,
          semantics: (inGroup.find((p) => p.label === m.name) as Plan).semantics,
          usPerCall: 1e6 / m.callsPerSec,
          vsMaybe: maybe ? m.callsPerSec / maybe.callsPerSec : Number.NaN,
        });
      }
    }

    // Every call ran once, except at-least-once's retransmissions: the handler runs against the calls answered.
    const answered = new Map<StoreKind, number>();
    for (const plan of plans)
      for (const transport of plan.transports) {
        const n = await (clients.get(`${plan.label} ${transport}`) as SemanticsClientProcess).answered();
        answered.set(plan.server, (answered.get(plan.server) ?? 0) + n);
      }
    const checks: string[] = [];
    for (const [kind, server] of servers) {
      const s = await server.stats();
      const calls = answered.get(kind) ?? 0;
      const cache = s.replyCache;
      checks.push(
        `server ${kind === "none" ? "without a store" : `with the "${kind}" store`}: ${grouped(s.runs)} handler runs for ${grouped(calls)} calls answered` +
          (cache
            ? `; reply cache: ${grouped(cache.misses)} misses, ${grouped(cache.hits)} hits, ${grouped(cache.evictions)} evictions`
            : "") +
          (s.store ? `; records held: ${grouped(s.store.records)}` : ""),
      );
    }

    let store: StoreMicroRow[] | undefined;
    if (unavailable === undefined) {
      write(`  timing the completion store alone (${Object.keys(STORE_ROWS).length} rows)…\n`);
      store = measureStore(dir, storeTiming);
    }

    const recordCost =
      unavailable === undefined
        ? ([1, 64] as const).map((inFlight): RecordCost => {
            const us = (label: string) =>
              rows.find((r) => r.transport === "TCP" && r.inFlight === inFlight && r.name === label)
                ?.usPerCall ?? Number.NaN;
            const amo = us(AT_MOST_ONCE);
            return {
              inFlight,
              atMostOnceUs: amo,
              full: { us: us(EO_FULL), extraUs: us(EO_FULL) - amo },
              normal: { us: us(EO_NORMAL), extraUs: us(EO_NORMAL) - amo },
            };
          })
        : undefined;

    const machine = machineLine();
    const table = markdownTable(
      [
        "over",
        "in flight",
        "cores",
        "semantics",
        "calls/s",
        "samples' range",
        "p50 µs",
        "p99 µs",
        "µs/call",
        "vs maybe",
      ],
      rows.map((r) => [
        r.transport,
        String(r.inFlight),
        r.cores === 0 ? "–" : String(r.cores),
        r.name,
        grouped(r.callsPerSec),
        range(r.samples.map((x) => (x.calls * 1e9) / x.elapsedNs)),
        r.p50Us.toFixed(0),
        r.p99Us.toFixed(0),
        r.usPerCall.toFixed(1),
        ratio(r.vsMaybe),
      ]),
      [false, true, true, false, true, true, true, true, true, true],
    );
    let report = `\n${table}\n`;
    if (recordCost !== undefined) {
      report += `\nThe cost of one durable completion record per call (TCP; µs/call = 1e6 ÷ calls/s):\n\n${markdownTable(
        [
          "in flight",
          "at-most-once µs",
          'exactly-once "full" µs',
          "record, full",
          'exactly-once "normal" µs',
          "record, normal",
        ],
        recordCost.map((c) => [
          String(c.inFlight),
          c.atMostOnceUs.toFixed(1),
          c.full.us.toFixed(1),
          `+${c.full.extraUs.toFixed(1)}`,
          c.normal.us.toFixed(1),
          `+${c.normal.extraUs.toFixed(1)}`,
        ]),
        [true, true, true, true, true, true],
      )}\n`;
    } else {
      report += "\nexactly-once: store not available, so no record cost was measured.\n";
    }
    if (store !== undefined) {
      report += `\nThe completion store alone (acknowledge + find + record of a 28-byte reply, as the dispatcher does per call), in ${fsType}:\n\n${markdownTable(
        ["what", "µs per record", "records/s"],
        store.map((s) => [s.name, s.usPerRecord.toFixed(1), grouped(s.recordsPerSec)]),
        [false, true, true],
      )}\n`;
    }
    write(
      `${report}\n${checks.join("\n")}\n\n${machine}\n${placement}\n\n` +
        "calls/s: median over the samples, and the lowest and highest sample; p50/p99: medians of each sample's percentiles, from a call to its reply.\n",
    );
    return { rows, recordCost, store, placement, machine, table };
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
  const k = (x: number) =>
    x >= 10_000 ? `${Math.round(x / 1000)}k` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : `${Math.round(x)}`;
  return `${k(Math.min(...values))}–${k(Math.max(...values))}`;
}

/** Two decimals, or two significant digits below 0.1 so that small ratios do not read as zero. */
function ratio(x: number): string {
  return `${x < 0.1 ? x.toPrecision(2) : x.toFixed(2)}×`;
}

// Run directly: node bench/dist/semantics.js [--quick] [--samples N]
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--samples");
  await runSemanticsBench({
    quick: args.includes("--quick"),
    samples: at >= 0 ? Number(args[at + 1]) : undefined,
  });
}
