/**
 * Fuzzes every decoder that the generator makes of test/fixtures/everything.x:
 * FUZZ_RUNS × 100,000 inputs each, three in four a mutated valid encoding and
 * one in four random bytes. See harness.ts for the properties checked.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { decode, encode, type XdrCodec } from "../../src/xdr/index.js";
import { loadGenerated } from "../support/load-generated.js";
import { EVERYTHING_VALUES } from "./everything-values.js";
import { fuzzDecoder, randomInput, xdrEqual } from "./harness.js";
import { fuzzRuns, fuzzSeed, Prng, reproduce, streamSeed } from "./prng.js";

const CORPUS_SIZE = 256;
const runs = fuzzRuns();
let module: Record<string, unknown>;

function codecsOf(m: Record<string, unknown>): [string, XdrCodec<unknown>][] {
  return Object.entries(m)
    .filter(([name, v]) => name.endsWith("Codec") && typeof v === "object" && v !== null && "decode" in v)
    .sort(([a], [b]) => a.localeCompare(b, "en"))
    .map(([name, v]) => [name, v as XdrCodec<unknown>]);
}

/** Valid encodings: from a value generator when there is one, else whatever random input happens to decode. */
function corpusFor(name: string, codec: XdrCodec<unknown>, rng: Prng, repro: string): Uint8Array[] {
  const generate = EVERYTHING_VALUES[name];
  const corpus: Uint8Array[] = [];
  if (generate) {
    for (let i = 0; i < CORPUS_SIZE; i++) {
      const value = generate(rng);
      const bytes = encode(codec, value);
      // The generators are a property test of their own: every value round-trips.
      assert.ok(
        xdrEqual(decode(codec, bytes), value),
        `${name}: a generated value does not round-trip; ${repro}`,
      );
      corpus.push(bytes);
    }
    return corpus;
  }
  for (let i = 0; i < 50_000 && corpus.length < CORPUS_SIZE; i++) {
    const input = randomInput(rng);
    try {
      decode(codec, input);
      corpus.push(input);
    } catch {}
  }
  return corpus;
}

before(async () => {
  module = await loadGenerated("test/fixtures/everything.x");
});

test("every codec of everything.x has a value generator", () => {
  const missing = codecsOf(module)
    .map(([name]) => name)
    .filter((name) => !EVERYTHING_VALUES[name]);
  // Not fatal for the fuzzing (it falls back to random inputs that decode), but a new type deserves edges.
  assert.deepEqual(missing, [], "add generators to test/fuzz/everything-values.ts");
  assert.ok(codecsOf(module).length >= 16);
});

test(`decoders of everything.x under ${runs} inputs each (seed ${fuzzSeed})`, async (t) => {
  const codecs = codecsOf(module);
  assert.ok(codecs.length > 0);
  for (const [name, codec] of codecs) {
    await t.test(name, (t2) => {
      const repro = reproduce(name);
      const rng = new Prng(streamSeed(fuzzSeed, name));
      const corpus = corpusFor(name, codec, rng, repro);
      const started = performance.now();
      const stats = fuzzDecoder({ codec, corpus, rng, runs, repro });
      const seconds = (performance.now() - started) / 1000;
      const errors = Object.entries(stats.errors)
        .sort(([, a], [, b]) => b - a)
        .map(([code, n]) => `${code} ${n}`)
        .join(", ");
      t2.diagnostic(
        `${name}: ${stats.runs} inputs in ${seconds.toFixed(1)} s, ${stats.decoded} decoded, ` +
          `slowest ${stats.slowestMs.toFixed(2)} ms; ${errors}`,
      );
      // The mix must reach both outcomes, or the fuzzer is not testing what it claims.
      assert.ok(stats.decoded > 0, `${name}: nothing decoded; ${repro}`);
      assert.ok(stats.decoded < stats.runs, `${name}: nothing failed; ${repro}`);
    });
  }
});
