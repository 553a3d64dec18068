/**
 * Fuzzing beyond everything.x: the recursive types of test/xdr/fixtures/extra.x
 * (depth limits under hostile input) and the runtime's built-in codecs, with
 * a quarter of the per-decoder runs; and a check that the harness itself
 * catches the failures it claims to.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  decode,
  type XdrCodec,
  XdrError,
  xdrBool,
  xdrDouble,
  xdrFixedArray,
  xdrFixedOpaque,
  xdrFloat,
  xdrHyper,
  xdrInt,
  xdrOptional,
  xdrString,
  xdrUnsignedHyper,
  xdrUnsignedInt,
  xdrVariableArray,
  xdrVariableOpaque,
} from "../../src/xdr/index.js";
import { loadGenerated } from "../support/load-generated.js";
import { fuzzDecoder, randomInput } from "./harness.js";
import { fuzzRuns, fuzzSeed, Prng, reproduce, streamSeed } from "./prng.js";

const runs = fuzzRuns(25_000);

/** Inputs that decode, found among random ones: a corpus for codecs without a value generator. */
function foundCorpus(codec: XdrCodec<unknown>, rng: Prng, seeds: Uint8Array[] = []): Uint8Array[] {
  const corpus = [...seeds];
  for (let i = 0; i < 20_000 && corpus.length < 128; i++) {
    const input = randomInput(rng);
    try {
      // Strict about trailing bytes, so what is kept is exactly one value.
      decode(codec, input);
      corpus.push(input);
    } catch {}
  }
  return corpus;
}

function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setUint32(i * 4, v >>> 0);
  });
  return out;
}

let extra: Record<string, unknown>;
before(async () => {
  extra = await loadGenerated("test/xdr/fixtures/extra.x");
});

test(`recursive decoders of extra.x under ${runs} inputs each (seed ${fuzzSeed})`, async (t) => {
  // Deep seeds: 40 negations, a balanced add, a left-deep tree; mutations then cut, deepen and break them.
  const negations = words(...Array.from({ length: 40 }, () => [1, 1]).flat(), 0, 7);
  const add = words(2, 1, 2, 1, 0, 1, 0, 2, 1, 1, 0, 3);
  const tree = words(1, 1, 1, 0, 0, 1, 0, 2, 0, 3, 1, 0, 0, 4, 5);
  for (const name of [
    "ExprCodec",
    "ExprPairCodec",
    "TreeCodec",
    "StrictChoiceCodec",
    "PartialCodec",
    "LevelCodec",
  ]) {
    await t.test(name, (t2) => {
      const codec = extra[name] as XdrCodec<unknown>;
      const rng = new Prng(streamSeed(fuzzSeed, name));
      const corpus = foundCorpus(codec, rng, [negations, add, tree, words(1, 5), words(2, 7)]);
      const stats = fuzzDecoder({ codec, corpus, rng, runs, repro: reproduce(name) });
      t2.diagnostic(`${name}: ${stats.decoded} of ${stats.runs} decoded; ${JSON.stringify(stats.errors)}`);
      assert.ok(stats.decoded > 0 && stats.decoded < stats.runs);
    });
  }
});

test(`built-in codecs under ${runs} inputs each (seed ${fuzzSeed})`, async (t) => {
  const builtins: XdrCodec<unknown>[] = [
    xdrInt,
    xdrUnsignedInt,
    xdrBool,
    xdrHyper,
    xdrUnsignedHyper,
    xdrFloat,
    xdrDouble,
    xdrString(),
    xdrString(5),
    xdrVariableOpaque(),
    xdrVariableOpaque(6),
    xdrFixedOpaque(5),
    xdrVariableArray(xdrOptional(xdrString(8)), 5),
    xdrVariableArray(xdrVariableArray(xdrUnsignedInt, 3)),
    xdrFixedArray(xdrOptional(xdrHyper), 3),
  ] as XdrCodec<unknown>[];
  for (const codec of builtins) {
    await t.test(codec.name, () => {
      const rng = new Prng(streamSeed(fuzzSeed, `builtin ${codec.name}`));
      const corpus = foundCorpus(codec, rng, [words(3, 1, 1, 0x61000000, 0, 1, 0)]);
      const stats = fuzzDecoder({ codec, corpus, rng, runs, repro: reproduce(`builtin ${codec.name}`) });
      assert.ok(stats.decoded > 0);
    });
  }
});

test("the harness catches what it claims to", () => {
  const rng = new Prng(1);
  const corpus = [words(1), words(7), words(0xffffffff)];
  const fuzz = (codec: XdrCodec<unknown>) => () =>
    fuzzDecoder({ codec, corpus, rng, runs: 5_000, repro: "harness self-test" });

  // A TypeError escaping a decoder.
  const throwsTypeError: XdrCodec<unknown> = {
    name: "leaky",
    encode: (w, v) => w.writeInt(v as number),
    decode: (r) => {
      const v = r.readInt();
      if (v === 7) (null as unknown as { x: number }).x;
      return v;
    },
  };
  // The decode helper turns it into BAD_VALUE with the TypeError as its cause; the harness sees through that.
  assert.throws(fuzz(throwsTypeError), /wraps TypeError: Cannot read properties of null.*harness self-test/s);

  // A foreign exception wrapped as BAD_VALUE by withPath still counts.
  const wrapped: XdrCodec<unknown> = {
    name: "wrapped",
    encode: (w, v) => w.writeInt(v as number),
    decode: (r) => {
      const v = r.readInt();
      if (v === 7) throw new XdrError("BAD_VALUE", "wrapped", 0, { cause: new TypeError("inner") });
      return v;
    },
  };
  assert.throws(fuzz(wrapped), /wraps TypeError: inner/);

  // A value that does not survive a round trip.
  const lossy: XdrCodec<unknown> = {
    name: "lossy",
    encode: (w, v) => w.writeInt(v as number),
    decode: (r) => {
      const v = r.readInt();
      return v === 7 ? 8 : v;
    },
  };
  assert.throws(fuzz(lossy), /re-encoding is not the input|differs/);

  // A decode that is always slow.
  const slow: XdrCodec<unknown> = {
    name: "slow",
    encode: (w, v) => w.writeInt(v as number),
    decode: (r) => {
      const v = r.readInt();
      if (v === 7) {
        const until = performance.now() + 120;
        while (performance.now() < until) {}
      }
      return v;
    },
  };
  assert.throws(fuzz(slow), /decode took/);
});
