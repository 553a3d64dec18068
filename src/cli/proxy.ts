/**
 * `once proxy`: a seeded fault-injecting proxy between RPC clients and a
 * server, until SIGINT or SIGTERM; its counts are printed at exit.
 */
import {
  createProxy,
  type FaultProxy,
  type FaultSettings,
  PROXY_DEFAULTS,
  type ProxyStats,
} from "../proxy/index.js";
import { type Address, formatAddress, parseAddress } from "../transport/index.js";
import { parseCommandLine, UsageError } from "./usage.js";

const HELP = `Usage: once proxy --listen H:P --target H:P [--udp] [--drop R] [--dup R] [--reorder R]
                  [--delay MS] [--jitter MS] [--corrupt R] [--direction both|request|reply]
                  [--reorder-timeout MS] [--seed N]

Relays ONC RPC traffic from --listen to --target and injects network faults
into it, message by message: over TCP a message is one record (RFC 5531 §11),
reassembled from its fragments and sent on as one; over UDP it is a datagram.
A dropped record is simply never sent, and the connection stays up. The same
seed makes the same decisions for the same order of messages. It runs until
SIGINT or SIGTERM, printing 'proxying LISTEN -> TARGET (seed N)' at start and
its counts at exit.

Options:
      --listen H:P         where clients connect (port 0: any free port, printed)
      --target H:P         the server; a TCP proxy may also reach unix:///PATH
      --udp                relay UDP datagrams (default: TCP connections)
      --drop R             lose a message with probability R (0..1, or a percentage: 30%)
      --dup R              send a message twice
      --reorder R          hold a message back until the next one has passed
      --reorder-timeout MS send a held message after MS anyway (default ${PROXY_DEFAULTS.reorderTimeoutMs})
      --delay MS           add MS of latency to every message
      --jitter MS          and up to MS more, drawn per message (messages may then overtake)
      --corrupt R          XOR one byte of a message (never a record mark) with 1..255
      --direction D        the rates apply to requests, replies or both (default both)
      --seed N             seed the decisions, 0..4294967295 (default: random, printed)
  -h, --help               this text

H:P is HOST:PORT or [IPV6]:PORT; tcp://, udp:// and unix:// addresses work too.
Faults are drawn per direction from the seed: the n-th request's fate depends only
on the seed, n and the rates. Details: docs/proxy.md.

Examples:
  once proxy --listen 127.0.0.1:5000 --target 127.0.0.1:4000 --drop 0.3 --dup 0.1 --seed 7
  once proxy --udp --listen 127.0.0.1:5000 --target 127.0.0.1:4000 --drop 30% --direction reply
  once proxy --listen 127.0.0.1:5000 --target 127.0.0.1:4000 --delay 50 --jitter 20 --reorder 0.05
  once call --x date.x --port 5000 DATE_PROG DATE_V2 DATE_NOW     # through the proxy
`;

/** `once proxy`: runs until a signal; exit status 1 when it cannot listen. */
export async function runProxy(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      listen: { type: "string" },
      target: { type: "string" },
      udp: { type: "boolean" },
      drop: { type: "string" },
      dup: { type: "string" },
      reorder: { type: "string" },
      "reorder-timeout": { type: "string" },
      delay: { type: "string" },
      jitter: { type: "string" },
      corrupt: { type: "string" },
      direction: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.listen === undefined) throw new UsageError("--listen is required");
  if (values.target === undefined) throw new UsageError("--target is required");
  const protocol = values.udp ? "udp" : "tcp";
  const listen = address("--listen", values.listen, protocol);
  const target = address("--target", values.target, protocol);
  const direction = values.direction;
  if (direction !== undefined && direction !== "both" && direction !== "request" && direction !== "reply") {
    throw new UsageError(`--direction ${direction}: not both, request or reply`);
  }
  const faults: FaultSettings = {
    drop: rate("--drop", values.drop),
    dup: rate("--dup", values.dup),
    reorder: rate("--reorder", values.reorder),
    corrupt: rate("--corrupt", values.corrupt),
    delayMs: ms("--delay", values.delay),
    jitterMs: ms("--jitter", values.jitter),
    direction,
  };
  const seed = values.seed === undefined ? undefined : seedOf(values.seed);
  const reorderTimeoutMs = ms("--reorder-timeout", values["reorder-timeout"]);
  if (reorderTimeoutMs === 0) throw new UsageError("--reorder-timeout must be at least 1 ms");
  let proxy: FaultProxy;
  try {
    proxy = await createProxy({ listen, target, seed, reorderTimeoutMs, ...faults });
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message);
    process.stderr.write(`once proxy: cannot listen on ${formatAddress(listen)}: ${explain(error)}\n`);
    return 1;
  }
  process.stdout.write(`proxying ${formatAddress(proxy.address)} -> ${proxy.target} (seed ${proxy.seed})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  const stats = proxy.stats;
  await proxy.close();
  process.stdout.write(formatStats(stats, proxy.seed));
  return 0;
}

/** The counts as `once proxy` prints them at exit. */
export function formatStats(stats: ProxyStats, seed: number): string {
  const line = (name: string, s: ProxyStats["request"]) =>
    `${name} seen ${s.seen}, forwarded ${s.forwarded}, dropped ${s.dropped}, duplicated ${s.duplicated}, ` +
    `reordered ${s.reordered}, corrupted ${s.corrupted}, discarded ${s.discarded}\n`;
  return (
    line("requests:", stats.request) +
    line("replies: ", stats.reply) +
    `flows: ${stats.flows} opened; seed ${seed}\n`
  );
}

/** H:P with the protocol of the proxy, or a full address. */
function address(flag: string, text: string, protocol: "tcp" | "udp"): Address {
  let parsed: Address;
  try {
    if (text.includes("://")) parsed = parseAddress(text);
    else {
      if (!/^(\[[^\]]+\]|[^:]+):\d+$/.test(text)) throw new TypeError("not HOST:PORT or an address");
      parsed = parseAddress(`${protocol}://${text}`);
    }
  } catch (error) {
    throw new UsageError(`${flag} ${text}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const stream = parsed.protocol !== "udp";
  if (stream === (protocol === "udp")) {
    throw new UsageError(
      `${flag} ${text}: a ${protocol === "udp" ? "UDP" : "TCP"} proxy (${protocol === "udp" ? "--udp given" : "no --udp"}) needs a ${protocol} address`,
    );
  }
  return parsed;
}

/** A probability: 0..1, or a percentage 0%..100%. */
function rate(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d*)?|\.\d+)(%?)$/.exec(text);
  const value = m === null ? Number.NaN : Number(m[1]) / (m[2] === "%" ? 100 : 1);
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${flag} ${text}: not a rate in 0..1 (or 0%..100%)`);
  return value;
}

function ms(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} ${text}: not a whole number of ms`);
  return Number(text);
}

function seedOf(text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value <= 0xffffffff)) throw new UsageError(`--seed ${text}: not an integer in 0..4294967295`);
  return value;
}

function explain(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "EADDRINUSE") return "the address is in use";
  if (code === "EACCES") return "permission denied (ports below 1024 need root)";
  return error instanceof Error ? error.message : String(error);
}
