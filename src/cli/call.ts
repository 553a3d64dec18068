/**
 * `once call`: one remote call from the command line, its arguments and
 * result in the JSON form of XDR values (docs/json.md), typed at run time
 * by the .x file.
 */

import { hostname } from "node:os";
import { rpcbindResolver } from "../binder/index.js";
import { bindProcedure, createChannel, createResolvingChannel, type Resolver } from "../client/index.js";
import { IdlError } from "../idl/index.js";
import { findJsonProcedure, type JsonValue, stringifyJson } from "../json/index.js";
import { authSys, RpcError } from "../rpc/index.js";
import { parseCommandLine, UsageError } from "./usage.js";
import { compileXFile, X_FILE_OPTIONS } from "./x-options.js";

const HELP = `Usage: once call --x FILE.x [--host H] [--port P | --binder H:P] [--tcp|--udp] PROGRAM VERSION PROCEDURE [JSON]

Calls one procedure and prints its result as JSON on stdout. PROGRAM, VERSION
and PROCEDURE are names from the .x file or numbers (decimal or 0x hex). The
argument is JSON in the form of docs/json.md: hyper as a decimal string, enum
as its name, opaque as base64, a union as {"<discriminant>": …, "<arm>": …};
leave it out for a procedure that takes void.

Options:
      --x FILE.x       the .x file that describes the program (required)
      --host H         the server (default 127.0.0.1)
      --port P         the server's port; without it, the binder on the host says where the
                       program is (rpcbind GETADDR, version 4, then 3, then the portmapper's GETPORT)
      --binder H[:P]   ask this binder instead of the one on the host (port 111 unless given)
      --tcp, --udp     the transport (default tcp)
      --unix PATH      call over a Unix socket instead
      --timeout MS     give up after MS milliseconds (default 10000)
      --auth-sys       send AUTH_SYS credentials (this machine's name, uid and gid) instead of AUTH_NONE
      --pretty         indent the JSON output
  -D, -U, -I           preprocessor options, as for 'once gen'
  -h, --help           this text

On failure the exit status is 1 and stderr starts with the error's code, for
example 'PROG_MISMATCH: program 0x20000099 supports versions 1..2, not 3 …'.
A command line that does not make sense exits with 2.

Examples:
  once call --x date.x --port 4000 DATE_PROG DATE_V2 DATE_NOW
  once call --x date.x --host 127.0.0.1 DATE_PROG DATE_V2 DATE_NOW        # port from the host's binder
  once call --x date.x --binder 127.0.0.1:1111 DATE_PROG 2 DATE_NOW
  once call --x date.x --port 4000 --udp DATE_PROG 2 DATE_FORMAT '{"style":"DATE_ISO","zone":"","at":null}'
  once call --x /usr/include/rpcsvc/mount.x --port 635 MOUNTPROG MOUNTVERS MOUNTPROC_EXPORT
`;

/** `once call`: prints the result, or the error, and returns the exit status. */
export async function runCall(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      x: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      binder: { type: "string" },
      tcp: { type: "boolean" },
      udp: { type: "boolean" },
      unix: { type: "string" },
      timeout: { type: "string" },
      "auth-sys": { type: "boolean" },
      pretty: { type: "boolean" },
      ...X_FILE_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.x === undefined) throw new UsageError("--x FILE.x is required: it describes the program");
  if (positionals.length < 3 || positionals.length > 4) {
    throw new UsageError("expected PROGRAM VERSION PROCEDURE [JSON]");
  }
  if (values.tcp && values.udp) throw new UsageError("--tcp and --udp exclude each other");
  const [programArg, versionArg, procedureArg, jsonArg] = positionals;
  let argument: JsonValue = null;
  if (jsonArg !== undefined) {
    try {
      argument = JSON.parse(jsonArg) as JsonValue;
    } catch (e) {
      throw new UsageError(`the argument is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(`--timeout needs a positive integer of ms`);

  if (values.binder !== undefined && (values.port !== undefined || values.unix !== undefined)) {
    throw new UsageError("--binder finds the port: leave out --port and --unix");
  }
  const protocol = values.udp ? "udp" : "tcp";
  const host = values.host ?? "127.0.0.1";
  let address: string | undefined;
  if (values.unix !== undefined) {
    address = `unix://${values.unix}`;
  } else if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new UsageError(`--port needs 1..65535, got '${values.port}'`);
    address = `${protocol}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }
  let resolver: Resolver | undefined;
  if (address === undefined) {
    try {
      resolver = rpcbindResolver({ binders: [values.binder ?? host], timeoutMs: Math.min(timeoutMs, 5_000) });
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
  }

  let match: ReturnType<typeof findJsonProcedure>;
  try {
    match = findJsonProcedure(compileXFile(values.x, values), programArg, versionArg, procedureArg);
  } catch (e) {
    if (e instanceof IdlError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    // Not in the .x file: the command line names something that does not exist.
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }

  const auth = values["auth-sys"]
    ? authSys({
        machineName: hostname().slice(0, 255),
        uid: process.getuid?.() ?? 0,
        gid: process.getgid?.() ?? 0,
      })
    : undefined;
  const channel =
    address !== undefined
      ? createChannel(address, { auth, timeoutMs })
      : createResolvingChannel(match.descriptor, { protocol, host }, { auth, timeoutMs, resolver });
  try {
    const result = await channel.call(bindProcedure(match.descriptor, match.procedure), argument);
    process.stdout.write(`${stringifyJson(result, values.pretty ? 2 : undefined)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 1;
  } finally {
    channel.destroy();
    await resolver?.close?.();
  }
}
