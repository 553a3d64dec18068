/**
 * `once info`: what a binder has registered, printed as rpcinfo prints it
 * (`rpcinfo HOST`, `rpcinfo -s HOST`, `rpcinfo -p HOST`), so that scripts
 * reading rpcinfo's output read ours. Works against our binder and rpcbind.
 */
import { readFileSync } from "node:fs";
import { PmapProgV2, parseBinderAddress, RpcbprogV3, RpcbprogV4 } from "../binder/index.js";
import { createChannel, createClient } from "../client/index.js";
import { isRpcError, RpcError } from "../rpc/index.js";
import { IPPROTO_TCP, IPPROTO_UDP, type Mapping, type PmaplistPtr } from "../rpc/protocol/pmap_prot.js";
import type { Rpcb, RpcblistPtr } from "../rpc/protocol/rpcb_prot.js";
import { parseCommandLine, UsageError } from "./usage.js";

const HELP = `Usage: once info [-p | -s] [--udp] [--timeout MS] [HOST[:PORT]]

Lists what the binder on HOST (default 127.0.0.1, port 111) has registered,
in rpcinfo's formats: without an option as 'rpcinfo HOST' (rpcbind's DUMP:
program, version, netid, universal address, service, owner), with -s as
'rpcinfo -s HOST' (one line per program), with -p as 'rpcinfo -p HOST' (the
portmapper's DUMP: program, version, protocol, port). Service names come
from /etc/rpc. A binder that knows only an older protocol is asked in it.

Options:
  -p                 the portmapper's view (version 2): TCP and UDP ports
  -s                 one short line per program
      --udp          ask over UDP (default TCP)
      --timeout MS   give up after MS milliseconds (default 10000)
  -h, --help         this text

On failure the exit status is 1 and stderr starts with the error's code.

Examples:
  once info                          # the binder on this host
  once info -s 127.0.0.1
  once info -p 127.0.0.1:1111        # a binder on another port
`;

/** `once info`: prints the binder's registrations; 1 when the binder cannot be asked. */
export async function runInfo(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      p: { type: "boolean", short: "p" },
      s: { type: "boolean", short: "s" },
      udp: { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.p && values.s) throw new UsageError("-p and -s exclude each other");
  if (positionals.length > 1) throw new UsageError("expected at most one HOST[:PORT]");
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError("--timeout needs a positive integer of ms");
  const protocol = values.udp ? "udp" : "tcp";
  let binder: ReturnType<typeof parseBinderAddress>;
  try {
    binder = parseBinderAddress(positionals[0] ?? "127.0.0.1", protocol);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const channel = createChannel(binder, { timeoutMs });
  try {
    const names = readRpcNames();
    if (values.p) {
      process.stdout.write(formatPortmapDump(await createClient(PmapProgV2, channel).dump(), names));
    } else {
      const entries = await rpcbindDump(channel);
      process.stdout.write(values.s ? formatShortDump(entries, names) : formatDump(entries, names));
    }
    return 0;
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 1;
  } finally {
    channel.destroy();
  }
}

/** rpcbind's DUMP in version 3, else 4, else the portmapper's, as rpcinfo falls back. */
async function rpcbindDump(channel: ReturnType<typeof createChannel>): Promise<Rpcb[]> {
  const older = (e: unknown) => isRpcError(e, "PROG_MISMATCH") || isRpcError(e, "PROG_UNAVAIL");
  let list: Rpcb[];
  try {
    list = listOf(await createClient(RpcbprogV3, channel).dump());
  } catch (e) {
    if (!older(e)) throw e;
    try {
      list = listOf(await createClient(RpcbprogV4, channel).dump());
    } catch (e4) {
      if (!older(e4)) throw e4;
      // As rpcinfo converts a portmapper's mappings: owner unknown, address on 0.0.0.0.
      list = mappingsOf(await createClient(PmapProgV2, channel).dump()).map((m) => ({
        r_prog: m.prog,
        r_vers: m.vers,
        r_netid: m.prot === IPPROTO_UDP ? "udp" : m.prot === IPPROTO_TCP ? "tcp" : String(m.prot).padStart(6),
        r_addr: `0.0.0.0.${(m.port >> 8) & 255}.${m.port & 255}`,
        r_owner: "unknown",
      }));
    }
  }
  return list;
}

function listOf(head: RpcblistPtr): Rpcb[] {
  const out: Rpcb[] = [];
  for (let node = head; node !== null; node = node.rpcb_next) out.push(node.rpcb_map);
  return out;
}

function mappingsOf(head: PmaplistPtr): Mapping[] {
  const out: Mapping[] = [];
  for (let node = head; node !== null; node = node.next) out.push(node.map);
  return out;
}

const NONE = "No remote programs registered.\n";

/** `rpcinfo HOST`: one line per registration. */
export function formatDump(entries: readonly Rpcb[], names: ReadonlyMap<number, string>): string {
  if (entries.length === 0) return NONE;
  let out = "   program version netid     address                service    owner\n";
  for (const e of entries) {
    out += `${pad(e.r_prog, 10)}${pad(e.r_vers, 5)}    ${e.r_netid.padEnd(9)} ${e.r_addr.padEnd(22)}`;
    out += ` ${(names.get(e.r_prog) ?? "-").padEnd(10)} ${e.r_owner}\n`;
  }
  return out;
}

/**
 * `rpcinfo -s HOST`: one line per program, with its versions and netids
 * newest-first (rpcinfo prepends each one it has not seen) and the owner of
 * its first registration.
 */
export function formatShortDump(entries: readonly Rpcb[], names: ReadonlyMap<number, string>): string {
  if (entries.length === 0) return NONE;
  const programs = new Map<number, { versions: number[]; netids: string[]; owner: string }>();
  for (const e of entries) {
    let p = programs.get(e.r_prog);
    if (p === undefined) {
      p = { versions: [], netids: [], owner: e.r_owner };
      programs.set(e.r_prog, p);
    }
    if (!p.versions.includes(e.r_vers)) p.versions.unshift(e.r_vers);
    if (!p.netids.includes(e.r_netid)) p.netids.unshift(e.r_netid);
  }
  let out = "   program version(s) netid(s)                         service     owner\n";
  for (const [program, p] of programs) {
    out += `${pad(program, 10)}  ${p.versions.join(",").padEnd(10)}${p.netids.join(",").padEnd(32)}`;
    out += ` ${(names.get(program) ?? "-").padEnd(11)} ${p.owner}\n`;
  }
  return out;
}

/** `rpcinfo -p HOST`: the portmapper's mappings. */
export function formatPortmapDump(head: PmaplistPtr, names: ReadonlyMap<number, string>): string {
  const mappings = mappingsOf(head);
  if (mappings.length === 0) return NONE;
  let out = "   program vers proto   port  service\n";
  for (const m of mappings) {
    const proto = m.prot === IPPROTO_UDP ? "udp" : m.prot === IPPROTO_TCP ? "tcp" : String(m.prot);
    const name = names.get(m.prog);
    out += `${pad(m.prog, 10)}${pad(m.vers, 5)}${proto.padStart(6)}${pad(m.port, 7)}`;
    out += name === undefined ? "\n" : `  ${name}\n`;
  }
  return out;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width);
}

/** Program names from /etc/rpc (`name number aliases…`), as getrpcbynumber reads them; empty without it. */
export function readRpcNames(path = "/etc/rpc"): Map<number, string> {
  const names = new Map<number, string>();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return names;
  }
  for (const line of text.split("\n")) {
    const [name, number] = line.replace(/#.*/, "").trim().split(/\s+/);
    const n = Number(number);
    if (name && Number.isInteger(n) && !names.has(n)) names.set(n, name);
  }
  return names;
}
