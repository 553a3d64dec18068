/**
 * Interop with rpcinfo (Debian's rpcbind package, /usr/sbin/rpcinfo): its
 * NULL-procedure pings (RFC 5531 §12.1) of our TypeScript server of
 * interop.x over TCP and UDP, with no rpcbind daemon, and the same output
 * as for the rpcgen + libtirpc server of test/support/c-rpc-peers.ts.
 *
 * rpcinfo 1.2.6 ignores `-n PORT` for `-t` and `-u`: ip_ping() never passes
 * the port on, and the address always comes from rpcbind on port 111 (the
 * last test pins this). So the pings name the server's address itself, as a
 * universal address (RFC 5665 §5.2.3.3): `rpcinfo -a 127.0.0.1.P1.P2 -T tcp`.
 * A missing rpcinfo fails these tests; it is installed by .ci/run.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { type CRpcServer, INTEROP_PROG, startCRpcServer } from "../support/c-rpc-peers.js";
import { acquirePort111 } from "../support/port-111.js";
import { type InteropService, startInteropService } from "./interop-service.js";

const RPCINFO = "/usr/sbin/rpcinfo";
/** rpcinfo waits up to 10 s for a UDP reply (more with retries); a hung run fails well before the test runner's limit. */
const RPCINFO_TIMEOUT_MS = 30_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs rpcinfo; resolves with its exit code and output, rejects if it cannot start (not installed) or hangs. */
function rpcinfo(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(RPCINFO, args, { timeout: RPCINFO_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") {
        reject(new Error(`${RPCINFO} ${args.join(" ")} did not run: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

/** The universal address of 127.0.0.1:port (RFC 5665 §5.2.3.3: the port as two more decimal octets). */
function uaddr(port: number): string {
  return `127.0.0.1.${port >> 8}.${port & 255}`;
}

const PROG = String(INTEROP_PROG); // rpcinfo takes the number in decimal: 536871169
const OTHER_PROG = String(INTEROP_PROG + 1);

let ours: InteropService;
let theirs: CRpcServer;

before(async () => {
  [ours, theirs] = await Promise.all([startInteropService(), startCRpcServer()]);
});

after(async () => {
  await Promise.all([ours?.server.close(), theirs?.stop()]);
});

for (const protocol of ["tcp", "udp"] as const) {
  describe(`rpcinfo -T ${protocol} against our server`, () => {
    /** rpcinfo -a ADDRESS -T PROTOCOL ARGS… against our server, or the C server. */
    const ping = (args: string[], server: "ours" | "theirs" = "ours") => {
      const port =
        server === "ours" ? ours[protocol].port : protocol === "tcp" ? theirs.tcpPort : theirs.udpPort;
      return rpcinfo(["-a", uaddr(port), "-T", protocol, ...args]);
    };

    test("versions 1 and 2 are ready and waiting", async () => {
      for (const version of ["1", "2"]) {
        const r = await ping([PROG, version]);
        assert.deepEqual(r, {
          code: 0,
          stdout: `program ${PROG} version ${version} ready and waiting\n`,
          stderr: "",
        });
      }
    });

    test("without a version, rpcinfo learns 1..2 from a PROG_MISMATCH and pings each", async () => {
      const r = await ping([PROG]);
      assert.deepEqual(r, {
        code: 0,
        stdout: `program ${PROG} version 1 ready and waiting\nprogram ${PROG} version 2 ready and waiting\n`,
        stderr: "",
      });
    });

    test("a version we do not serve: the mismatch and the range served", async () => {
      const r = await ping([PROG, "3"]);
      assert.deepEqual(r, {
        code: 1,
        stdout: `program ${PROG} version 3 is not available\n`,
        stderr: "rpcinfo: RPC: Program/version mismatch; low version = 1, high version = 2\n",
      });
    });

    test("a program we do not serve: Program unavailable", async () => {
      const r = await ping([OTHER_PROG, "1"]);
      assert.deepEqual(r, {
        code: 1,
        stdout: `program ${OTHER_PROG} version 1 is not available\n`,
        stderr: "rpcinfo: RPC: Program unavailable\n",
      });
    });

    test("every answer is the one rpcinfo gets from the libtirpc server", async () => {
      for (const args of [
        [PROG, "1"],
        [PROG, "2"],
        [PROG],
        [PROG, "0"],
        [PROG, "3"],
        [OTHER_PROG, "1"],
        [OTHER_PROG],
      ]) {
        const [fromOurs, fromTheirs] = await Promise.all([ping(args), ping(args, "theirs")]);
        assert.deepEqual(fromOurs, fromTheirs, `rpcinfo … ${args.join(" ")}`);
      }
    });
  });
}

test("rpcinfo -n PORT -t does not use PORT: it asks rpcbind on port 111 for the address", async () => {
  // A listener on the port given: rpcinfo 1.2.6 never connects to it. If it ever does,
  // rpcinfo honours -n, and the pings above can use it as well. What rpcinfo finds on
  // port 111 instead depends on who holds it: the binder tests hold it under this lock.
  const release = await acquirePort111();
  const listener = createNetServer();
  let connections = 0;
  listener.on("connection", (socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  try {
    const port = (listener.address() as { port: number }).port;
    const r = await rpcinfo(["-n", String(port), "-t", "127.0.0.1", PROG, "1"]);
    assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /ready and waiting/);
    assert.equal(connections, 0);
  } finally {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    release();
  }
});
