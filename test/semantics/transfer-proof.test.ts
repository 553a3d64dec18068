/**
 * The proof of issue 5 for at-least-once and at-most-once: a non-idempotent
 * "transfer 500 from A to B" driven by 10,000 calls through a proxy that
 * drops 30% and duplicates 10% of the messages each way, over UDP and TCP.
 * The server counts how often each call ran. At-least-once: every call ran
 * at least once (and we report how often more); at-most-once: none ran twice;
 * the balances add up. Exactly-once, with a server killed and restarted in
 * the middle, is in exactly-once-proof.test.ts.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  createClient,
  createServer,
  type ProgramVersionDescriptor,
  type Semantics,
  silentLogger,
  type XdrCodec,
  xdrUnsignedInt,
} from "once-rpc";
import { createProxy } from "once-rpc/proxy";

/** transfer_args: the client's number for the call (to count its runs), and the amount. */
interface TransferArgs {
  call: number;
  amount: number;
}
const TransferArgsCodec: XdrCodec<TransferArgs> = {
  name: "transfer_args",
  encode(w, v) {
    w.writeUnsignedInt(v.call);
    w.writeInt(v.amount);
  },
  decode(r) {
    return { call: r.readUnsignedInt(), amount: r.readInt() };
  },
};

/** BANK v1 TRANSFER(transfer_args) = the times this call has run, counting this one. */
const BankV1 = {
  programName: "BANK_PROG",
  program: 0x2000_0e10,
  versionName: "BANK_V1",
  version: 1,
  procedures: {
    transfer: { name: "BANK_TRANSFER", number: 1, args: TransferArgsCodec, result: xdrUnsignedInt },
  },
} as const satisfies ProgramVersionDescriptor;

const CALLS = 10_000;
const IN_FLIGHT = 64;
const AMOUNT = 500;
const START = CALLS * AMOUNT;

const cleanup: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

interface Outcome {
  runs: Uint32Array;
  a: number;
  b: number;
  replies: number;
  failures: unknown[];
  proxy: { dropped: number; duplicated: number };
}

async function drive(protocol: "udp" | "tcp", semantics: Semantics, seed: number): Promise<Outcome> {
  const runs = new Uint32Array(CALLS);
  let a = START;
  let b = 0;
  const server = createServer({ logger: silentLogger }).addProgram(BankV1, {
    transfer: ({ call, amount }) => {
      a -= amount;
      b += amount;
      return ++runs[call];
    },
  });
  cleanup.push(() => server.destroy());
  const target = await server.listen(`${protocol}://127.0.0.1:0`);
  const proxy = await createProxy({ listen: `${protocol}://127.0.0.1:0`, target, drop: 0.3, dup: 0.1, seed });
  cleanup.push(() => proxy.close());
  const client = createClient(BankV1, proxy.address, {
    semantics,
    retransmitInitialMs: 20,
    retransmitMaxMs: 200,
    timeoutMs: 120_000,
  });
  let next = 0;
  let replies = 0;
  const failures: unknown[] = [];
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CALLS) {
        const call = next++;
        try {
          await client.transfer({ call, amount: AMOUNT });
          replies++;
        } catch (error) {
          failures.push(error);
        }
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 300)); // duplicates still in the proxy arrive
  await client.$close();
  const stats = proxy.stats;
  return {
    runs,
    a,
    b,
    replies,
    failures,
    proxy: {
      dropped: stats.request.dropped + stats.reply.dropped,
      duplicated: stats.request.duplicated + stats.reply.duplicated,
    },
  };
}

describe("10,000 transfers through 30% loss and 10% duplication", () => {
  for (const protocol of ["udp", "tcp"] as const) {
    test(`at-least-once over ${protocol}: every call ran at least once`, async (t) => {
      const o = await drive(protocol, "at-least-once", 1);
      assert.deepEqual(o.failures, []);
      assert.equal(o.replies, CALLS);
      let more = 0;
      let extra = 0;
      for (const n of o.runs) {
        assert.ok(n >= 1);
        if (n > 1) {
          more++;
          extra += n - 1;
        }
      }
      assert.equal(o.a + o.b, START, "no money made or lost");
      assert.equal(o.b, AMOUNT * (CALLS + extra), "B got 500 per run, duplicates included");
      assert.ok(o.proxy.dropped > 0 && o.proxy.duplicated > 0, "the proxy did its work");
      t.diagnostic(
        `${protocol}: ${more} of ${CALLS} calls ran more than once (${extra} extra runs); proxy dropped ${o.proxy.dropped}, duplicated ${o.proxy.duplicated}`,
      );
    });

    test(`at-most-once over ${protocol}: no call ran twice, and every one ran`, async (t) => {
      const o = await drive(protocol, "at-most-once", 2);
      assert.deepEqual(o.failures, []);
      assert.equal(o.replies, CALLS);
      for (let i = 0; i < CALLS; i++) assert.equal(o.runs[i], 1, `call ${i}`);
      assert.equal(o.b, AMOUNT * CALLS);
      assert.equal(o.a, START - AMOUNT * CALLS);
      t.diagnostic(`${protocol}: proxy dropped ${o.proxy.dropped}, duplicated ${o.proxy.duplicated}`);
    });
  }
});
