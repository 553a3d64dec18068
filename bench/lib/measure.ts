/**
 * Side-by-side timing: every contender of a group is warmed up, given a batch
 * size that takes about `batchMs`, then timed in rounds. Each round times one
 * batch of every contender, in an order that rotates from round to round, so
 * that drift (thermal, GC, a noisy neighbour) falls on all of them alike. The
 * figure reported is the median of the rounds.
 */
import { performance } from "node:perf_hooks";

/** One thing to time: a function that does one operation and returns its result. */
export interface Contender {
  /** Row label in the table. */
  readonly name: string;
  /** One operation. The result is kept alive so the work cannot be optimized away. */
  readonly run: () => unknown;
}

/** How long and how often to measure. */
export interface MeasureOptions {
  /** Rounds of timed batches per contender; the median is reported. */
  samples: number;
  /** Target duration of one batch, in milliseconds. */
  batchMs: number;
  /** Minimum warm-up time per contender, in milliseconds. */
  warmupMs: number;
}

/** The timing of one contender. */
export interface Measurement {
  readonly name: string;
  /** Median nanoseconds per operation over the samples. */
  readonly nsPerOp: number;
  /** Operations per second at the median. */
  readonly opsPerSec: number;
  /** Iterations in one timed batch. */
  readonly batch: number;
  /** Every sample, in nanoseconds per operation. */
  readonly samplesNs: readonly number[];
}

/** Results land here so that no call is dead code. */
let sink: unknown;

/** Read after a run, so the sink is observable and the optimizer cannot drop the writes. */
export function sinkValue(): unknown {
  return sink;
}

function timeBatch(run: () => unknown, iterations: number): number {
  let last: unknown;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) last = run();
  const t1 = performance.now();
  sink = last;
  return (t1 - t0) * 1e6;
}

/** Runs `run` for at least `ms`, doubling the batch, and returns an iteration count for a batch of about `batchMs`. */
function warmUp(run: () => unknown, warmupMs: number, batchMs: number): number {
  let iterations = 16;
  let spentNs = 0;
  let lastNs = 0;
  let lastIterations = iterations;
  while (spentNs < warmupMs * 1e6 || lastNs < 5e6) {
    lastNs = timeBatch(run, iterations);
    lastIterations = iterations;
    spentNs += lastNs;
    if (lastNs < batchMs * 1e6) iterations *= 2;
  }
  const nsPerOp = lastNs / lastIterations;
  return Math.max(1, Math.round((batchMs * 1e6) / nsPerOp));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Measures a group of contenders side by side, round-robin. */
export function measureGroup(contenders: readonly Contender[], options: MeasureOptions): Measurement[] {
  const batches = contenders.map((c) => warmUp(c.run, options.warmupMs, options.batchMs));
  const samples: number[][] = contenders.map(() => []);
  for (let round = 0; round < options.samples; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (round + k) % contenders.length;
      samples[index].push(timeBatch(contenders[index].run, batches[index]) / batches[index]);
    }
  }
  return contenders.map((c, index) => {
    const nsPerOp = median(samples[index]);
    return {
      name: c.name,
      nsPerOp,
      opsPerSec: 1e9 / nsPerOp,
      batch: batches[index],
      samplesNs: samples[index],
    };
  });
}
