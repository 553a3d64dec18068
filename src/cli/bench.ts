import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseCommandLine, UsageError } from "./usage.js";

const HELP = `Usage: once bench [SUITE] [--samples N] [--quick]

Runs a benchmark suite and prints a markdown table of the contenders side by
side, measured in one run.

Suites:
  xdr   encode and decode of a struct (20-character name, 1 KiB blob) and of
        a 64 KiB opaque: once-rpc's generated codecs against a hand-written
        XDR codec, @stellar/js-xdr, protobufjs and msgpackr (default)
  rpc   calls/s and latency over TCP on 127.0.0.1: once-rpc's client and
        server against a raw net echo (the floor), a C server and client
        built with rpcgen and libtirpc at run time (needs gcc, rpcgen and
        libtirpc's headers), and grpc-js; a 104-byte struct one call at a
        time and 64 in flight (once-rpc over UDP too), 64 KiB one at a time
        and 16 in flight
  binder
        GETADDR (rpcbind v3) and GETPORT (portmapper v2) lookups per second
        over TCP and UDP, one at a time and 64 in flight, of once-rpc's
        binder and of Debian's rpcbind, each loaded with 1,000 programs;
        once-rpc's client and a C client (libtirpc; hand-encoded calls when
        in flight). Runs rpcbind on port 111 itself: needs root, rpcbind,
        gcc and libtirpc's headers, and port 111 free
  semantics
        calls/s, p50 and p99 of a non-idempotent counter (4-byte ADD) under
        maybe, at-least-once, at-most-once (session + reply cache) and
        exactly-once (a SQLite completion record per call, synchronous full
        and normal), each against maybe, over TCP (and UDP), one call at a
        time and 64 in flight; then the completion store alone, records/s,
        beside the disk's fdatasync (exactly-once needs better-sqlite3)

Options:
      --samples N   timed rounds per row; the median is reported (default 15, 5 with --quick)
      --quick       short batches and warm-up: a smoke run, not figures to quote
  -h, --help        this text

The benchmarks are their own package in bench/ with their own dependencies,
so they run from a checkout of once-rpc, not from an installed package.

Examples (in a checkout):
  npm run bench:setup        install and build bench/ (after npm run build)
  npm run bench              build, set up and run 'once bench xdr'
  once bench rpc --quick     a smoke run of the RPC suite (under 10 s)
  once bench semantics --quick  a smoke run of the call-semantics suite (under 15 s)
  once bench xdr --samples 30

What is measured, and how: docs/benchmarks.md.
`;

/** The options every suite takes. */
interface SuiteOptions {
  samples?: number;
  quick?: boolean;
}

/** The suites: the module in bench/dist/ and the function it exports. */
const SUITES = {
  xdr: { file: "xdr.js", run: "runXdrBench" },
  rpc: { file: "rpc.js", run: "runRpcBench" },
  binder: { file: "binder.js", run: "runBinderBench" },
  semantics: { file: "semantics.js", run: "runSemanticsBench" },
} as const;

type SuiteName = keyof typeof SUITES;

function isSuiteName(name: string): name is SuiteName {
  return Object.hasOwn(SUITES, name);
}

/** Where the built benchmark package is, relative to this file in dist/src/cli. */
const BENCH_DIST = new URL("../../../bench/dist/", import.meta.url);

/** `once bench`: load the built benchmark package and run a suite. */
export async function runBench(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      samples: { type: "string" },
      quick: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`one suite at a time, got ${positionals.join(" ")}`);
  const suite = positionals[0] ?? "xdr";
  if (!isSuiteName(suite))
    throw new UsageError(`no benchmark suite '${suite}' (there are: ${Object.keys(SUITES).join(", ")})`);
  let samples: number | undefined;
  if (values.samples !== undefined) {
    samples = Number(values.samples);
    if (!Number.isInteger(samples) || samples < 1)
      throw new UsageError(`--samples needs a positive integer, got '${values.samples}'`);
  }

  const entry = new URL(SUITES[suite].file, BENCH_DIST);
  const depsDir = fileURLToPath(new URL("../node_modules/", BENCH_DIST));
  if (!existsSync(fileURLToPath(entry)) || !existsSync(depsDir)) {
    process.stderr.write(
      `once bench: the benchmark package is not set up (${fileURLToPath(entry)} or its node_modules is missing).\n` +
        "From the once-rpc checkout, run: npm run bench:setup\n",
    );
    return 1;
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(entry.href)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND") {
      process.stderr.write(
        `once bench: ${(e as Error).message}\nThe benchmark dependencies are not installed; run: npm run bench:setup\n`,
      );
      return 1;
    }
    throw e;
  }
  const run = module[SUITES[suite].run];
  if (typeof run !== "function") {
    process.stderr.write(
      `once bench: ${fileURLToPath(entry)} has no ${SUITES[suite].run}; it is out of date. Run: npm run bench:setup\n`,
    );
    return 1;
  }
  // A suite resolves undefined when it could not run (the binder suite when port 111 is taken); it said why on stderr.
  const result = await (run as (options: SuiteOptions) => Promise<unknown>)({
    samples,
    quick: values.quick ?? false,
  });
  return result === undefined ? 1 : 0;
}
