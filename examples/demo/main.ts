/**
 * `npm run demo`: the story so far, on embedded defaults (no network, no
 * external service). It compiles examples/date/date.x, marshals values
 * through the generated codecs, makes a call through a program descriptor
 * without a network, and shows how bad input is refused.
 */
import { readFileSync } from "node:fs";
import { generateModule } from "once-rpc/codegen";
import { compileSpecification } from "once-rpc/idl";
import type { ArgsOf, ProcedureDescriptor, ResultOf } from "once-rpc/rpc";
import { decode, encode, XdrError, XdrReader, XdrWriter } from "once-rpc/xdr";
import { repoPath } from "../../test/support/paths.js";
import {
  DATE_PROG,
  DateProgV2,
  type DateReply,
  type DateRequest,
  DateRequestCodec,
  DateStyle,
} from "../date/gen/date.js";

const out = (line = "") => process.stdout.write(line + "\n");
const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString("hex")
    .replace(/(.{8})/g, "$1 ")
    .trim();

out("once-rpc demo: XDR marshalling with stubs generated from a .x file");
out();

// 1. The stub compiler.
const xFile = repoPath("examples/date/date.x");
const started = performance.now();
const resolved = compileSpecification(xFile, { readFile: (p) => readFileSync(p, "utf8") });
const moduleText = generateModule(resolved, { sourceName: "date.x" });
const committed = readFileSync(repoPath("examples/date/gen/date.ts"), "utf8");
out("1. once gen examples/date/date.x -o examples/date/gen");
out(
  `   ${resolved.types.size} types, ${resolved.constants.size} constants, program 0x${DATE_PROG.toString(16)}`,
);
out(
  `   ${moduleText.split("\n").length} lines of TypeScript in ${(performance.now() - started).toFixed(1)} ms`,
);
out(
  `   the committed examples/date/gen/date.ts is ${moduleText === committed ? "current" : "STALE: run once gen again"}`,
);
out();

// 2. Marshalling: a value to XDR bytes and back.
const request: DateRequest = { style: DateStyle.DATE_HUMAN, zone: "Europe/Paris", at: 1_795_000_000_000n };
const bytes = encode(DateRequestCodec, request);
const back = decode(DateRequestCodec, bytes);
out("2. A date_request marshalled by the generated codec (RFC 4506 XDR):");
out(`   value   { style: DATE_HUMAN, zone: "Europe/Paris", at: 1795000000000n }`);
out(`   bytes   ${hex(bytes)}  (${bytes.length} bytes)`);
const styleName = Object.entries(DateStyle).find(([, v]) => v === back.style)?.[0];
out(`   decoded { style: ${styleName}, zone: ${JSON.stringify(back.zone)}, at: ${back.at}n }`);
out();

// 3. A call through the program descriptor, without a network: the same
//    encode/decode steps a client and server make, with a local handler.
function formatDate(req: DateRequest): DateReply {
  const at = new Date(Number(req.at ?? BigInt(Date.now())));
  try {
    const timeZone = req.zone === "" ? "UTC" : req.zone;
    if (req.style === DateStyle.DATE_UNIX)
      return { status: 0, text: String(Math.floor(at.getTime() / 1000)) };
    if (req.style === DateStyle.DATE_ISO) return { status: 0, text: at.toISOString() };
    const text = at.toLocaleString("en-GB", { timeZone, dateStyle: "full", timeStyle: "short" });
    return { status: 0, text };
  } catch (e) {
    return { status: 1, error: e instanceof Error ? e.message : String(e) };
  }
}

function callLocally<P extends ProcedureDescriptor>(
  procedure: P,
  args: ArgsOf<P>,
  handler: (a: ArgsOf<P>) => ResultOf<P>,
): { result: ResultOf<P>; wireBytes: number } {
  const writer = new XdrWriter();
  procedure.args.encode(writer, args);
  const callBytes = writer.bytes();
  const reply = handler(procedure.args.decode(new XdrReader(callBytes)) as ArgsOf<P>);
  writer.reset();
  procedure.result.encode(writer, reply);
  const replyBytes = writer.bytes();
  return {
    result: procedure.result.decode(new XdrReader(replyBytes)) as ResultOf<P>,
    wireBytes: callBytes.length + replyBytes.length,
  };
}

out("3. DATE_FORMAT through DateProgV2's descriptor, with a local handler (the network comes next):");
for (const [style, zone] of [
  [DateStyle.DATE_HUMAN, "Europe/Paris"],
  [DateStyle.DATE_ISO, ""],
  [DateStyle.DATE_HUMAN, "Mars/Olympus_Mons"],
] as const) {
  const { result, wireBytes } = callLocally(
    DateProgV2.procedures.format,
    { style, zone, at: 1_795_000_000_000n },
    formatDate,
  );
  const shown = "text" in result ? result.text : `error: ${result.error}`;
  out(`   ${String(zone || "UTC").padEnd(18)} -> ${shown}  (${wireBytes} bytes on the wire)`);
}
out();

// 4. Bad input is refused with one typed error that says where.
out("4. Bad input gets a clear error (XdrError: code, byte offset, field path):");
const attempts: [string, () => unknown][] = [
  ["a zone over its bound of 64", () => encode(DateRequestCodec, { ...request, zone: "x".repeat(70) })],
  ["an unknown style", () => encode(DateRequestCodec, { ...request, style: 7 as DateStyle })],
  ["truncated bytes", () => decode(DateRequestCodec, bytes.subarray(0, 10))],
  [
    "a hostile length 0xFFFFFFFF",
    () => decode(DateRequestCodec, Uint8Array.of(0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff)),
  ],
];
for (const [what, attempt] of attempts) {
  try {
    attempt();
    out(`   ${what.padEnd(28)} -> accepted (unexpected)`);
  } catch (e) {
    out(`   ${what.padEnd(28)} -> ${e instanceof XdrError ? e.message : `unexpected ${String(e)}`}`);
  }
}
out();
out("Next: npm test runs the suite; once gen --help; docs/ has the guides.");
