/**
 * The JSON-form codecs against the generated ones, on test/fixtures/everything.x,
 * test/xdr/fixtures/extra.x and real protocol files: for random values of
 * every type, the generated codec's bytes decode to JSON that encodes back to
 * the same bytes, also after a trip through JSON text; and on damaged input
 * both decoders fail the same way (code, offset, path) or both succeed.
 *
 * FC_SEED=<n> replays a run; the seed is in every failure message.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { createJsonCodec } from "../../src/json/index.js";
import { decode, encode, type XdrCodec, XdrError } from "../../src/xdr/index.js";
import { SYSTEM_X_DIRS } from "../support/paths.js";
import { createXdrArbitraries } from "../support/xdr-arbitrary.js";
import { compileX, generatedCodecs, hex } from "./support.js";

const SAMPLES = 120;
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

function systemFile(name: string): string {
  for (const dir of SYSTEM_X_DIRS) {
    const path = `${dir}/${name}`;
    try {
      compileX(path);
      return path;
    } catch {}
  }
  throw new Error(`${name} is in none of ${SYSTEM_X_DIRS.join(", ")}`);
}

const FILES = [
  "test/fixtures/everything.x",
  "test/xdr/fixtures/extra.x",
  systemFile("mount.x"),
  systemFile("nfs_prot.x"),
  systemFile("rpcb_prot.x"),
];

/** What decoding gave: the error's code, offset and path, or the value (null when the input was not one). */
function outcome(codec: XdrCodec<unknown>, bytes: Uint8Array): { error: string | null; value: unknown } {
  try {
    return { error: null, value: decode(codec, bytes) };
  } catch (e) {
    if (!(e instanceof XdrError)) throw e;
    return { error: `${e.code} at ${e.offset} in ${e.pathString}`, value: null };
  }
}

/** True when a decoded value holds a NaN somewhere. */
function hasNaN(value: unknown): boolean {
  if (typeof value === "number") return Number.isNaN(value);
  if (typeof value === "object" && value !== null && !(value instanceof Uint8Array)) {
    return Object.values(value).some(hasNaN);
  }
  return false;
}

/** Damaged copies of a valid encoding: bytes flipped, words set to hostile lengths, the end cut off. */
const damage = (bytes: Uint8Array) =>
  fc.oneof(
    fc
      .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 })
      .map((edits) => {
        const out = bytes.slice();
        for (const [at, xor] of edits) if (out.length > 0) out[at % out.length] ^= xor;
        return out;
      }),
    fc.tuple(fc.nat(), fc.constantFrom(0xffffffff, 0x7fffffff, 0x10000, 17, 2, 1, 0)).map(([at, word]) => {
      const out = bytes.slice();
      if (out.length >= 4) new DataView(out.buffer).setUint32(((at % (out.length >> 2)) << 2) >>> 0, word);
      return out;
    }),
    fc.nat().map((cut) => bytes.subarray(0, bytes.length === 0 ? 0 : cut % bytes.length)),
  );

for (const file of FILES) {
  describe(`JSON form of ${file.split("/").pop()} is byte-exact with the generated codecs (seed ${SEED})`, async () => {
    const spec = compileX(file);
    const generated = await generatedCodecs(file);
    const arbitraries = createXdrArbitraries(spec);
    for (const name of arbitraries.typeNames) {
      test(name, () => {
        const ours = createJsonCodec(spec, name);
        const theirs = generated(name);
        assert.equal(ours.name, theirs.name);
        fc.assert(
          fc.property(arbitraries.forType(name), (value) => {
            const bytes = encode(theirs, value);
            const json = decode(ours, bytes);
            assert.equal(hex(encode(ours, json)), hex(bytes), "JSON form encodes to the same bytes");
            const text = JSON.stringify(json);
            assert.equal(hex(encode(ours, JSON.parse(text))), hex(bytes), `through JSON text: ${text}`);
          }),
          { numRuns: SAMPLES, seed: SEED },
        );
      });
      test(`${name}: damaged input fails the same way`, () => {
        const ours = createJsonCodec(spec, name);
        const theirs = generated(name);
        const damaged = arbitraries.forType(name).chain((value) => damage(encode(theirs, value)));
        fc.assert(
          fc.property(damaged, (bytes) => {
            const a = outcome(ours, bytes);
            const b = outcome(theirs, bytes);
            assert.equal(a.error, b.error);
            if (a.error !== null) return;
            // Whatever decodes comes back as the same bytes: the JSON form loses nothing.
            assert.equal(hex(encode(ours, a.value)), hex(bytes));
            // The generated codec too, except that V8 quiets a signalling NaN (0x7f810000 becomes
            // 0x7fc10000) as it turns a float into a number; the JSON form keeps a NaN's bits.
            if (!hasNaN(b.value)) assert.equal(hex(encode(theirs, b.value)), hex(bytes));
          }),
          { numRuns: SAMPLES, seed: SEED },
        );
      });
    }
  });
}
