/**
 * Side-by-side timing of remote calls: the asynchronous counterpart of
 * measure.ts. Every contender of a group is warmed up and given a batch of
 * calls that takes about `batchMs`; then each round times one batch of every
 * contender, in an order that rotates from round to round, so that drift
 * (GC, frequency, a noisy neighbour) falls on all of them alike. Figures are
 * medians over the rounds: calls/s from each batch's elapsed time, and each
 * batch's own p50 and p99 call latency.
 */
import { performance } from "node:perf_hooks";

/** What one timed batch of calls gave. */
export interface CallSample {
  /** Calls timed. */
  readonly calls: number;
  /** From the first call made to the last reply, in nanoseconds. */
  readonly elapsedNs: number;
  /** Median time from a call to its reply, in nanoseconds. */
  readonly p50Ns: number;
  /** 99th percentile (nearest rank) of the same. */
  readonly p99Ns: number;
}

/** One row: something that can run a batch of `calls` calls and time it. */
export interface CallContender {
  /** Row label in the table. */
  readonly name: string;
  /** Runs and times `calls` calls. */
  batch(calls: number): Promise<CallSample>;
}

/** How long and how often to measure. */
export interface CallMeasureOptions {
  /** Rounds of timed batches per contender; the medians are reported. */
  readonly samples: number;
  /** Target duration of one batch, in milliseconds. */
  readonly batchMs: number;
  /** Minimum warm-up time per contender, in milliseconds. */
  readonly warmupMs: number;
}

/** The timing of one contender: medians over the samples. */
export interface CallMeasurement {
  readonly name: string;
  readonly callsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Calls in one timed batch. */
  readonly batch: number;
  readonly samples: readonly CallSample[];
}

/** Results land here so that no reply is dead code. */
let sink: unknown;

/** Read after a run, so the sink is observable. */
export function callSinkValue(): unknown {
  return sink;
}

/** Nearest rank on sorted values: the smallest with at least `p` of the values at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1];
}

/**
 * Makes `calls` calls of `call`, with `inFlight` of them outstanding at any
 * time (each lane makes its next call when its reply comes), and times each
 * from the call to its reply.
 */
export async function driveCalls(
  call: () => Promise<unknown>,
  calls: number,
  inFlight: number,
): Promise<CallSample> {
  const latencies = new Float64Array(calls);
  let next = 0;
  let last: unknown;
  const lane = async () => {
    while (next < calls) {
      const i = next++;
      const t = performance.now();
      last = await call();
      latencies[i] = performance.now() - t;
    }
  };
  const lanes: Promise<void>[] = [];
  const t0 = performance.now();
  for (let k = 0; k < Math.min(inFlight, calls); k++) lanes.push(lane());
  await Promise.all(lanes);
  const elapsedMs = performance.now() - t0;
  sink = last;
  latencies.sort();
  return {
    calls,
    elapsedNs: elapsedMs * 1e6,
    p50Ns: percentile(latencies, 0.5) * 1e6,
    p99Ns: percentile(latencies, 0.99) * 1e6,
  };
}

/** Runs growing batches for at least `warmupMs`, and returns a batch size of about `batchMs`. */
async function warmUp(contender: CallContender, warmupMs: number, batchMs: number): Promise<number> {
  let calls = 16;
  let spentNs = 0;
  let last: CallSample = await contender.batch(calls);
  while (spentNs < warmupMs * 1e6 || last.elapsedNs < Math.min(batchMs, 20) * 1e6) {
    last = await contender.batch(calls);
    spentNs += last.elapsedNs;
    if (last.elapsedNs < batchMs * 1e6) calls *= 2;
  }
  const nsPerCall = last.elapsedNs / last.calls;
  return Math.max(16, Math.round((batchMs * 1e6) / nsPerCall));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Measures a group of contenders side by side, round-robin. */
export async function measureCalls(
  contenders: readonly CallContender[],
  options: CallMeasureOptions,
): Promise<CallMeasurement[]> {
  const batches: number[] = [];
  for (const c of contenders) batches.push(await warmUp(c, options.warmupMs, options.batchMs));
  const samples: CallSample[][] = contenders.map(() => []);
  for (let round = 0; round < options.samples; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (round + k) % contenders.length;
      samples[index].push(await contenders[index].batch(batches[index]));
    }
  }
  return contenders.map((c, index) => {
    const s = samples[index];
    return {
      name: c.name,
      callsPerSec: median(s.map((x) => (x.calls * 1e9) / x.elapsedNs)),
      p50Us: median(s.map((x) => x.p50Ns / 1e3)),
      p99Us: median(s.map((x) => x.p99Ns / 1e3)),
      batch: batches[index],
      samples: s,
    };
  });
}
