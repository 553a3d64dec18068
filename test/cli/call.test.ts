/** `once call` as a user runs it: JSON in, JSON out, the error code first on stderr. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type Address, createServer, type Server, silentLogger } from "once-rpc";
import { createBinder, registerServer } from "once-rpc/binder";
import { DateProgV2 } from "../../examples/date/gen/date.js";
import { type CRpcServer, INTEROP_X, startCRpcServer } from "../support/c-rpc-peers.js";
import { repoPath } from "../support/paths.js";

const once = repoPath("dist/src/cli/main.js");
const dateX = repoPath("examples/date/date.x");
const execFileAsync = promisify(execFile);

async function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [once, ...args], { encoding: "utf8" });
    return { status: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function portOf(address: Address): string {
  assert.ok(address.protocol !== "unix");
  return String(address.port);
}

let server: Server;
let tcp = "";
let udp = "";
let cServer: CRpcServer;

before(async () => {
  server = createServer({ logger: silentLogger });
  server.addProgram(DateProgV2, {
    now: () => 1_795_000_000_123n,
    format: (req) => ({ status: 0 as const, text: `${req.style}/${req.zone}/${req.at}` }),
  });
  tcp = portOf(await server.listen("tcp://127.0.0.1:0"));
  udp = portOf(await server.listen("udp://127.0.0.1:0"));
  cServer = await startCRpcServer();
});
after(async () => {
  await server.close();
  await cServer.stop();
});

test("a void procedure: the hyper result printed as a decimal string", async () => {
  const r = await run("call", "--x", dateX, "--port", tcp, "DATE_PROG", "DATE_V2", "DATE_NOW");
  assert.equal(r.stderr, "");
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '"1795000000123"\n');
});

test("arguments in JSON, names or numbers, over UDP", async () => {
  const r = await run(
    "call",
    "--x",
    dateX,
    "--port",
    udp,
    "--udp",
    "0x20000099",
    "2",
    "2",
    '{"style":"DATE_HUMAN","zone":"UTC","at":"5"}',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { status: 0, text: "1/UTC/5" });
});

test("a C server built with rpcgen, through the JSON form", async () => {
  const port = String(cServer.tcpPort);
  const r = await run(
    "call",
    "--x",
    INTEROP_X,
    "--port",
    port,
    "INTEROP_PROG",
    "INTEROP_V1",
    "INTEROP_BLOB",
    "5",
  );
  assert.equal(r.status, 0, r.stderr);
  // byte i = (i * 7 + 3) & 255: 03 0a 11 18 1f
  assert.equal(JSON.parse(r.stdout), Buffer.from([3, 10, 17, 24, 31]).toString("base64"));
  const sum = await run(
    "call",
    "--x",
    INTEROP_X,
    "--port",
    port,
    "INTEROP_PROG",
    "1",
    "INTEROP_CHECKSUM",
    '"AQID"',
  );
  assert.equal(sum.stdout, "6\n");
});

test("a version the server lacks: exit 1, PROG_MISMATCH first on stderr", async () => {
  const r = await run("call", "--x", dateX, "--port", tcp, "DATE_PROG", "DATE_V1", "DATE_NOW");
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^PROG_MISMATCH: program 0x20000099 supports versions 2\.\.2, not 1/);
});

test("a value that does not fit its type: exit 1, BAD_ARGS with the path", async () => {
  const r = await run(
    "call",
    "--x",
    dateX,
    "--port",
    tcp,
    "DATE_PROG",
    "2",
    "DATE_FORMAT",
    '{"style":"DATE_MARS","zone":"","at":null}',
  );
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^BAD_ARGS: DATE_PROG v2 DATE_FORMAT: BAD_VALUE: "DATE_MARS" is not a member of enum date_style .* in style/,
  );
});

test("nothing listening: exit 1, CONNECT_FAILED", async () => {
  const r = await run("call", "--x", dateX, "--port", "1", "DATE_PROG", "2", "DATE_NOW");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^CONNECT_FAILED: /);
});

test("without --port, the binder says where the program is (TCP and UDP)", async () => {
  const binder = createBinder({ server: { logger: silentLogger } });
  try {
    const at = await binder.listen("tcp://127.0.0.1:0");
    const port = portOf(at);
    await binder.listen(`udp://127.0.0.1:${port}`);
    const registered = await registerServer(server, { binder: at });
    for (const transport of ["--tcp", "--udp"]) {
      const r = await run(
        "call",
        "--x",
        dateX,
        "--binder",
        `127.0.0.1:${port}`,
        transport,
        "DATE_PROG",
        "2",
        "DATE_NOW",
      );
      assert.equal(r.stderr, "");
      assert.equal(r.stdout, '"1795000000123"\n', transport);
    }
    const missing = await run(
      "call",
      "--x",
      dateX,
      "--binder",
      `127.0.0.1:${port}`,
      "DATE_PROG",
      "1",
      "DATE_NOW",
    );
    assert.equal(missing.status, 1);
    assert.match(
      missing.stderr,
      /^PROG_MISMATCH: /,
      "GETADDR answers version 2's address; the server says 2..2",
    );
    await registered.unregister();
    const gone = await run(
      "call",
      "--x",
      dateX,
      "--binder",
      `127.0.0.1:${port}`,
      "DATE_PROG",
      "2",
      "DATE_NOW",
    );
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^NOT_REGISTERED: DATE_PROG v2 over tcp is not registered/);
  } finally {
    await binder.close();
  }
  const nobody = await run(
    "call",
    "--x",
    dateX,
    "--binder",
    "127.0.0.1:1",
    "--timeout",
    "2000",
    "DATE_PROG",
    "2",
    "DATE_NOW",
  );
  assert.equal(nobody.status, 1);
  assert.match(nobody.stderr, /^BINDER_UNREACHABLE: /);
});

test("command lines that make no sense exit with 2", async () => {
  const both = await run(
    "call",
    "--x",
    dateX,
    "--port",
    tcp,
    "--binder",
    "127.0.0.1",
    "DATE_PROG",
    "2",
    "DATE_NOW",
  );
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--binder finds the port/);
  const badJson = await run("call", "--x", dateX, "--port", tcp, "DATE_PROG", "2", "DATE_FORMAT", "{style:");
  assert.equal(badJson.status, 2);
  assert.match(badJson.stderr, /not JSON/);
  const unknown = await run("call", "--x", dateX, "--port", tcp, "DATE_PROG", "2", "DATE_LATER");
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /DATE_NOW/, "lists what exists");
});

test("--help shows examples", async () => {
  const r = await run("call", "--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Examples:\n {2}once call --x date\.x/);
});
