/**
 * `npm run demo`: the story so far, on embedded defaults (loopback only, no
 * external service). It compiles examples/date/date.x, marshals values
 * through the generated codecs, serves the date service over TCP and UDP and
 * calls it with typed clients, shows failures as typed errors, finds two
 * instances of the service through a binder and balances between them, and
 * drives a non-idempotent call through a lossy proxy under each semantics.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createClient,
  createServer,
  createSqliteCompletionStore,
  formatAddress,
  type ProgramVersionDescriptor,
  RpcError,
  type Semantics,
  silentLogger,
  xdrInt,
  xdrUnsignedInt,
} from "once-rpc";
import { createBinder, instanceResolver, registerInstance } from "once-rpc/binder";
import { generateModule } from "once-rpc/codegen";
import { compileSpecification } from "once-rpc/idl";
import { createProxy } from "once-rpc/proxy";
import { decode, encode, XdrError } from "once-rpc/xdr";
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

out("once-rpc demo: the date service, from a .x file to calls over the network");
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

// 3. A real server and a typed client over loopback TCP and UDP.
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

const server = createServer({ logger: silentLogger }).addProgram(DateProgV2, {
  now: () => BigInt(Date.now()),
  // A slow answer for the demonstration of a timeout below.
  format: async (req) => {
    if (req.zone === "Slow/Zone") await new Promise((r) => setTimeout(r, 500));
    return formatDate(req);
  },
});
const tcp = await server.listen("tcp://127.0.0.1:0");
const udp = await server.listen("udp://127.0.0.1:0");
out(`3. The date service on ${formatAddress(tcp)} and ${formatAddress(udp)}, called by typed clients:`);
for (const address of [tcp, udp]) {
  const client = createClient(DateProgV2, address);
  for (const [style, zone] of [
    [DateStyle.DATE_HUMAN, "Europe/Paris"],
    [DateStyle.DATE_ISO, ""],
    [DateStyle.DATE_HUMAN, "Mars/Olympus_Mons"],
  ] as const) {
    const result = await client.format({ style, zone, at: 1_795_000_000_000n });
    const shown = "text" in result ? result.text : `error: ${result.error}`;
    out(`   ${address.protocol} ${String(zone || "UTC").padEnd(18)} -> ${shown}`);
  }
  await client.$close();
}
out("   (an unknown zone is application status, data in the reply union: not an exception)");
out();

out("   Failures are typed RpcErrors, their code first:");
const v1 = createClient({ ...DateProgV2, version: 1, versionName: "DATE_V1" }, tcp);
const slow = createClient(DateProgV2, udp, { retransmitInitialMs: 40 });
const nobody = createClient(DateProgV2, "tcp://127.0.0.1:1");
const failures: [string, () => Promise<unknown>][] = [
  ["version 1, which it does not serve", () => v1.now()],
  [
    "a 100 ms deadline on a slow UDP call",
    () => slow.format({ style: 0, zone: "Slow/Zone", at: null }, { timeoutMs: 100 }),
  ],
  ["a port where nothing listens", () => nobody.now()],
];
for (const [what, attempt] of failures) {
  try {
    await attempt();
    out(`   ${what.padEnd(36)} -> answered (unexpected)`);
  } catch (e) {
    out(`   ${what.padEnd(36)} -> ${e instanceof RpcError ? e.message : `unexpected ${String(e)}`}`);
  }
}
for (const client of [v1, slow, nobody]) client.$destroy();
await server.destroy();
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

// 5. Binding: a binder, two instances, a client that finds and balances them.
out("5. A binder and two instances of the date service; the client is given no address, only the binder:");
const binder = createBinder({ healthIntervalMs: 200, server: { logger: silentLogger } });
const binderAddress = await binder.listen("tcp://127.0.0.1:0");
const instances = [];
for (const name of ["first", "second"]) {
  let calls = 0;
  const instance = createServer({ logger: silentLogger }).addProgram(DateProgV2, {
    now: () => {
      calls++;
      return BigInt(Date.now());
    },
    format: (req) => formatDate(req),
  });
  const at = await instance.listen("tcp://127.0.0.1:0");
  const registered = await registerInstance(instance, {
    binder: binderAddress,
    name: "date",
    metadata: { name },
  });
  instances.push({ name, server: instance, at, registered, calls: () => calls });
  out(
    `   ${name} instance on ${formatAddress(at)}, registered as ${registered.instances[0].id.slice(0, 8)}…`,
  );
}
const pool = createClient(DateProgV2, "tcp://", {
  resolver: instanceResolver({ binders: [binderAddress] }),
  balance: "round-robin",
});
for (let i = 0; i < 6; i++) await pool.now();
out(`   6 calls, round-robin: ${instances.map((i) => `${i.name} ran ${i.calls()}`).join(", ")}`);
await instances[0].server.destroy();
out("   the first instance is gone (destroyed); the client leaves it out and binds again:");
let answered = 0;
for (let i = 0; i < 6; i++) {
  try {
    await pool.now(null, { idempotent: true });
    answered++;
  } catch (e) {
    out(`   a call failed: ${e instanceof RpcError ? e.message : String(e)}`);
  }
}
out(`   6 more calls: ${answered} answered, the second instance has now run ${instances[1].calls()}`);
await pool.$close();
await instances[1].registered.close();
await instances[1].server.destroy();
await binder.destroy();
out();

// 6. Semantics: a non-idempotent call through a network that loses and duplicates.
const CALLS = 300;
out(
  `6. "Add 1 to the counter", ${CALLS} times, through a proxy that drops 30% and duplicates 10% of messages:`,
);
const CounterV1 = {
  programName: "COUNTER_PROG",
  program: 0x2000_0e02,
  versionName: "COUNTER_V1",
  version: 1,
  procedures: { add: { name: "COUNTER_ADD", number: 1, args: xdrInt, result: xdrUnsignedInt } },
} as const satisfies ProgramVersionDescriptor;
out(`   (${CALLS} calls under each semantics, a second or two…)`);
out("   semantics       calls answered   times the server added   counter");
const storeDir = mkdtempSync(join(tmpdir(), "once-demo-"));
for (const semantics of ["maybe", "at-least-once", "at-most-once", "exactly-once"] as Semantics[]) {
  let counter = 0;
  let runs = 0;
  // Exactly-once keeps a completion record per call in SQLite (a file here), committed with the effect.
  const completionStore =
    semantics === "exactly-once"
      ? createSqliteCompletionStore({ path: join(storeDir, "counter.db"), synchronous: "normal" })
      : undefined;
  const counterServer = createServer({ logger: silentLogger, completionStore }).addProgram(CounterV1, {
    add: (n, ctx) => {
      const add = () => {
        runs++;
        counter += n;
        return counter;
      };
      return ctx.semantics === "exactly-once" ? ctx.commit(add) : add();
    },
  });
  const target = await counterServer.listen("udp://127.0.0.1:0");
  const proxy = await createProxy({ listen: "udp://127.0.0.1:0", target, drop: 0.3, dup: 0.1, seed: 7 });
  const counterClient = createClient(CounterV1, proxy.address, {
    semantics,
    retransmitInitialMs: 20,
    retransmitMaxMs: 100,
    timeoutMs: semantics === "maybe" ? 100 : 10_000,
  });
  let ok = 0;
  await Promise.all(
    Array.from({ length: CALLS }, () =>
      counterClient.add(1).then(
        () => ok++,
        () => {},
      ),
    ),
  );
  await new Promise((r) => setTimeout(r, 100));
  out(
    `   ${semantics.padEnd(15)} ${String(ok).padStart(14)}   ${String(runs).padStart(22)}   ${String(counter).padStart(7)}`,
  );
  counterClient.$destroy();
  await proxy.close();
  await counterServer.destroy();
  completionStore?.close();
}
rmSync(storeDir, { recursive: true, force: true });
out("   maybe loses calls (and runs some twice when the network duplicates them); at-least-once answers");
out("   every call but runs some twice; at-most-once runs each once (its reply cache answers duplicates);");
out("   exactly-once too, from durable records that also survive a server restart (docs/semantics.md).");
out();
out("Next: npm test runs the suite; once gen --help; docs/ has the guides.");
