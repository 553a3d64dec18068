/** A handler may choose its reply by throwing an RpcError that names one. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AuthError,
  AuthStat,
  createClient,
  createServer,
  ProgramMismatchError,
  RpcError,
  silentLogger,
} from "once-rpc";
import { DateProgV2 } from "../../examples/date/gen/date.js";

const call = { program: DateProgV2.program, version: 2, procedure: 2, label: "test" };

test("PROC_UNAVAIL, GARBAGE_ARGS, AUTH_ERROR and PROG_MISMATCH thrown by a handler are sent as such", async () => {
  const thrown: Record<string, Error> = {
    proc: new RpcError("PROC_UNAVAIL", "not today"),
    garbage: new RpcError("GARBAGE_ARGS", "not these"),
    auth: new AuthError(AuthStat.AUTH_TOOWEAK, call),
    versions: new ProgramMismatchError(3, 5, call),
  };
  const server = createServer({ logger: silentLogger }).addProgram(DateProgV2, {
    now: () => 0n,
    format: (req) => {
      throw thrown[req.zone];
    },
  });
  const client = createClient(DateProgV2, server.memoryTransport());
  const format = (zone: string) => client.format({ style: 0, zone, at: null });
  await assert.rejects(format("proc"), { code: "PROC_UNAVAIL" });
  await assert.rejects(format("garbage"), { code: "GARBAGE_ARGS" });
  await assert.rejects(
    format("auth"),
    (e: unknown) => e instanceof AuthError && e.authStat === AuthStat.AUTH_TOOWEAK,
  );
  await assert.rejects(
    format("versions"),
    (e: unknown) => e instanceof ProgramMismatchError && e.low === 3 && e.high === 5,
  );
  await client.$close();
  await server.close();
});
