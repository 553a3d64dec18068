/**
 * The decoders of once_binder.x under mutated and random input: the binder
 * decodes REGISTER, RENEW, UNREGISTER and LIST arguments from anyone, and
 * clients decode its answers. No decoder may throw anything but XdrError,
 * hang, or decode a value that does not encode back to its bytes (the
 * harness of test/fuzz checks all three). FUZZ_RUNS and FUZZ_SEED as there.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { onceBinderProt } from "once-rpc/binder";
import { encode, type XdrCodec } from "once-rpc/xdr";
import { fuzzDecoder } from "../fuzz/harness.js";
import { fuzzRuns, fuzzSeed, Prng, reproduce, streamSeed } from "../fuzz/prng.js";

const runs = fuzzRuns(5_000);
const p = onceBinderProt;

const args: onceBinderProt.RegisterArgs = {
  name: "date",
  prog: 0x2000_0099,
  vers: 2,
  netid: "tcp",
  addr: "127.0.0.1.4.1",
  metadata: [
    { key: "zone", value: "eu-1" },
    { key: "w", value: "" },
  ],
  lease_ms: 30_000,
};
const info: onceBinderProt.InstanceInfo = {
  id: "0f0e0d0c-0b0a-4908-8706-050403020100",
  name: "date",
  prog: 0x2000_0099,
  vers: 2,
  netid: "udp",
  addr: "127.0.0.1.4.2",
  metadata: [{ key: "zone", value: "eu-1" }],
  state: p.InstanceState.INSTANCE_SUSPECT,
  misses: 1,
  last_seen_age_ms: 120,
  lease_ms: 30_000,
  lease_remaining_ms: 29_000,
};

/** Each decoder with a few valid encodings to mutate. */
const CASES: Array<[string, XdrCodec<unknown>, Uint8Array[]]> = [
  [
    "register_args",
    p.RegisterArgsCodec as XdrCodec<unknown>,
    [encode(p.RegisterArgsCodec, args), encode(p.RegisterArgsCodec, { ...args, metadata: [], name: "x" })],
  ],
  [
    "register_res",
    p.RegisterResCodec as XdrCodec<unknown>,
    [
      encode(p.RegisterResCodec, {
        status: p.InstanceStatus.INSTANCE_OK,
        instance: { id: info.id, lease_ms: 1000 },
      }),
      encode(p.RegisterResCodec, { status: p.InstanceStatus.INSTANCE_TABLE_FULL }),
    ],
  ],
  ["instance_id", p.InstanceIdCodec as XdrCodec<unknown>, [encode(p.InstanceIdCodec, info.id)]],
  [
    "instance_status",
    p.InstanceStatusCodec as XdrCodec<unknown>,
    [encode(p.InstanceStatusCodec, p.InstanceStatus.INSTANCE_NOT_OWNER)],
  ],
  [
    "list_args",
    p.ListArgsCodec as XdrCodec<unknown>,
    [encode(p.ListArgsCodec, { prog: 1, vers: 2, name: "date", netid: "" })],
  ],
  [
    "list_res",
    p.ListResCodec as XdrCodec<unknown>,
    [
      encode(p.ListResCodec, { instances: [info, { ...info, metadata: [] }], truncated: false }),
      encode(p.ListResCodec, { instances: [], truncated: true }),
    ],
  ],
];

test(`once_binder.x decoders under ${runs} inputs each (seed ${fuzzSeed})`, async (t) => {
  for (const [name, codec, corpus] of CASES) {
    await t.test(name, () => {
      const rng = new Prng(streamSeed(fuzzSeed, `once_binder ${name}`));
      const stats = fuzzDecoder({ codec, corpus, rng, runs, repro: reproduce(`once_binder ${name}`) });
      assert.ok(stats.decoded > 0, `${name}: nothing decoded`);
    });
  }
});
