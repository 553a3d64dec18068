/**
 * The service of the semantics benchmark: a counter whose ADD is not
 * idempotent (running it twice adds twice), with a 4-byte argument and a
 * 4-byte result. Written as a descriptor by hand, as the semantics tests
 * write theirs: two int procedures need no .x file.
 *
 * - ADD (1): adds n to a total kept in the server's memory and answers it.
 * - ADD_DURABLE (2): the same, and under exactly-once it also adds n to a
 *   row of the completion store's own SQLite file inside `ctx.commit`, so the
 *   effect and the completion record commit in one transaction (the way a
 *   real exactly-once handler writes).
 */
import { type ProgramVersionDescriptor, xdrInt } from "once-rpc";

/** COUNTER_PROG version 1 (0x20000e02: transient range, RFC 5531 §7.3). */
export const CounterV1 = {
  programName: "COUNTER_PROG",
  program: 0x2000_0e02,
  versionName: "COUNTER_V1",
  version: 1,
  procedures: {
    add: { name: "COUNTER_ADD", number: 1, args: xdrInt, result: xdrInt },
    addDurable: { name: "COUNTER_ADD_DURABLE", number: 2, args: xdrInt, result: xdrInt },
  },
} as const satisfies ProgramVersionDescriptor;

/** The procedures a client of the benchmark may call. */
export type CounterProcedure = keyof (typeof CounterV1)["procedures"];
