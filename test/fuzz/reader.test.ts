/**
 * Fuzzes the XdrReader primitives directly, against an oracle built on
 * Node's Buffer: random sequences of reads over random and structured
 * bytes, and random writer sequences read back. Every read must either
 * return what the oracle says the bytes hold, or throw an XdrError at an
 * offset inside the input; nothing else may escape.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { XdrError, XdrReader, type XdrReaderOptions, XdrWriter } from "../../src/xdr/index.js";
import { double, float, int, opaque, string, uint } from "./everything-values.js";
import { randomInput, xdrEqual } from "./harness.js";
import { fuzzRuns, fuzzSeed, Prng, reproduce, streamSeed } from "./prng.js";

const pad = (n: number) => n + ((4 - (n % 4)) % 4);
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const LENGTH_MAXES = [0, 1, 3, 4, 8, 16, 100, 0x7fffffff, 0xffffffff];
const MIN_ELEMENT_BYTES = [0, 1, 4, 8, 12, 24, 1000];
const FIXED_LENGTHS = [
  0, 1, 2, 3, 4, 5, 7, 8, 10, 16, 33, 0x7ffffffd, 0x7fffffff, 0x80000000, 0xfffffffd, 0xffffffff,
];
/** Bytes that ops 0..7 read. */
const FIXED_SIZES = [4, 4, 4, 4, 8, 8, 4, 8];
const RANGES: [number, number][] = [
  [-32768, 32767],
  [0, 65535],
  [-128, 127],
  [0, 255],
  [0, 0],
  [-2147483648, 2147483647],
  [0, 4294967295],
];

function hex(b: Uint8Array): string {
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  return text.length > 300 ? `${text.slice(0, 300)}… (${b.length} bytes)` : text;
}

function readerOptions(rng: Prng): XdrReaderOptions {
  return {
    maxLength: rng.chance(0.7)
      ? undefined
      : rng.pick([0, 1, 4, 16, 64, 0xffffffff, Number.POSITIVE_INFINITY]),
    maxDepth: rng.range(0, 4),
    allowNonZeroPadding: rng.chance(0.3),
    copyOpaque: rng.chance(0.3),
  };
}

test(`XdrReader primitives against a Buffer oracle (${fuzzRuns()} sequences, seed ${fuzzSeed})`, () => {
  const repro = reproduce("reader-primitives");
  const rng = new Prng(streamSeed(fuzzSeed, "reader-primitives"));
  const runs = fuzzRuns();
  let reads = 0;
  let failures = 0;
  for (let run = 0; run < runs; run++) {
    const input = randomInput(rng);
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const options = readerOptions(rng);
    const maxLength = Math.min(options.maxLength ?? 64 * 1024 * 1024, 0xffffffff);
    const r = new XdrReader(input, options);
    let depth = 0;
    const ops = rng.range(1, 24);
    for (let k = 0; k < ops; k++) {
      const before = r.offset;
      const op = rng.int(16);
      const what = () => `op ${op} at ${before} of ${hex(input)} with ${JSON.stringify(options)}; ${repro}`;
      const left = input.length - before;
      try {
        switch (op) {
          case 0:
            assert.equal(r.readInt(), buf.readInt32BE(before), what());
            break;
          case 1:
            assert.equal(r.readUnsignedInt(), buf.readUInt32BE(before), what());
            break;
          case 2: {
            const [min, max] = rng.pick(RANGES);
            const v = r.readIntInRange(min, max);
            const expected = min < 0 ? buf.readInt32BE(before) : buf.readUInt32BE(before);
            assert.equal(v, expected, what());
            assert.ok(v >= min && v <= max, what());
            break;
          }
          case 3: {
            const v = r.readBool();
            assert.equal(v ? 1 : 0, buf.readInt32BE(before), what());
            break;
          }
          case 4:
            assert.equal(r.readHyper(), buf.readBigInt64BE(before), what());
            break;
          case 5:
            assert.equal(r.readUnsignedHyper(), buf.readBigUInt64BE(before), what());
            break;
          case 6:
            assert.ok(Object.is(r.readFloat(), buf.readFloatBE(before)), what());
            break;
          case 7:
            assert.ok(Object.is(r.readDouble(), buf.readDoubleBE(before)), what());
            break;
          case 8: {
            const max = rng.pick(LENGTH_MAXES);
            const min = rng.pick(MIN_ELEMENT_BYTES);
            const n = r.readLength(max, min);
            assert.equal(n, buf.readUInt32BE(before), what());
            assert.ok(n <= max && n <= maxLength && n * min <= left - 4, what());
            break;
          }
          case 9: {
            const n = rng.chance(0.8) ? rng.int(12) : rng.pick(FIXED_LENGTHS);
            const v = r.readFixedOpaque(n);
            assert.equal(v.length, n, what());
            assert.ok(pad(n) <= left, what());
            assert.deepEqual(Buffer.from(v), buf.subarray(before, before + n), what());
            assert.equal(r.offset, before + pad(n), what());
            if (!options.allowNonZeroPadding)
              assert.ok(buf.subarray(before + n, before + pad(n)).every((b) => b === 0));
            assert.equal(v.buffer === input.buffer, !options.copyOpaque, what());
            break;
          }
          case 10: {
            const max = rng.pick(LENGTH_MAXES);
            const v = r.readVariableOpaque(max);
            const n = buf.readUInt32BE(before);
            assert.equal(v.length, n, what());
            assert.ok(n <= max && n <= maxLength, what());
            assert.deepEqual(Buffer.from(v), buf.subarray(before + 4, before + 4 + n), what());
            assert.equal(r.offset, before + 4 + pad(n), what());
            break;
          }
          case 11: {
            const max = rng.pick(LENGTH_MAXES);
            const s = r.readString(max);
            const n = buf.readUInt32BE(before);
            assert.ok(n <= max && n <= maxLength, what());
            assert.equal(s, utf8.decode(input.subarray(before + 4, before + 4 + n)), what());
            assert.equal(r.offset, before + 4 + pad(n), what());
            if (!options.allowNonZeroPadding) {
              assert.ok(
                buf.subarray(before + 4 + n, before + 4 + pad(n)).every((b) => b === 0),
                what(),
              );
            }
            break;
          }
          case 12: {
            r.enter();
            depth++;
            assert.ok(depth <= (options.maxDepth as number), what());
            break;
          }
          case 13:
            if (depth > 0) {
              r.leave();
              depth--;
            }
            break;
          case 14:
            r.expectEnd();
            assert.equal(before, input.length, what());
            break;
          default:
            assert.equal(r.remaining, left, what());
        }
        reads++;
        assert.ok(r.offset >= before && r.offset <= input.length, `offset ${r.offset} after ${what()}`);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        if (!(e instanceof XdrError)) assert.fail(`threw ${String(e)} instead of an XdrError: ${what()}`);
        assert.equal(e.cause, undefined, what());
        assert.ok(e.offset >= before && e.offset <= input.length, `${e.message}: ${what()}`);
        failures++;
        // What the oracle expects to fail, must fail with the right code.
        if (e.code === "DEPTH_LIMIT") {
          assert.equal(depth, options.maxDepth, what());
          break; // The reader's depth after a refused enter() is its own business.
        }
        if (e.code === "TRAILING_BYTES") assert.ok(left > 0, what());
        if (e.code === "SHORT_BUFFER" && op < 8) assert.ok(left < FIXED_SIZES[op], `${e.message}: ${what()}`);
      }
      if (rng.chance(0.02)) {
        r.reset(input);
        depth = 0;
      }
    }
  }
  assert.ok(reads > runs && failures > runs / 10, `${reads} reads, ${failures} failures`);
});

type Op =
  | { kind: "int"; v: number }
  | { kind: "uint"; v: number }
  | { kind: "range"; v: number; min: number; max: number }
  | { kind: "bool"; v: boolean }
  | { kind: "hyper"; v: bigint }
  | { kind: "uhyper"; v: bigint }
  | { kind: "float"; v: number }
  | { kind: "double"; v: number }
  | { kind: "fixed"; v: Uint8Array }
  | { kind: "opaque"; v: Uint8Array; max: number }
  | { kind: "string"; v: string; max: number };

function randomOp(rng: Prng): Op {
  switch (rng.int(11)) {
    case 0:
      return { kind: "int", v: int(rng) };
    case 1:
      return { kind: "uint", v: uint(rng) };
    case 2: {
      const [min, max] = rng.pick(RANGES);
      return {
        kind: "range",
        v: rng.chance(0.5) ? rng.pick([min, max]) : min + rng.int(max - min + 1),
        min,
        max,
      };
    }
    case 3:
      return { kind: "bool", v: rng.chance(0.5) };
    case 4:
      return { kind: "hyper", v: BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32())) };
    case 5:
      return { kind: "uhyper", v: (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()) };
    case 6:
      return { kind: "float", v: float(rng) };
    case 7:
      return { kind: "double", v: double(rng) };
    case 8:
      return { kind: "fixed", v: opaque(rng, rng.chance(0.05) ? 200 : 20) };
    case 9: {
      const v = opaque(rng, rng.chance(0.05) ? 200 : 20);
      return { kind: "opaque", v, max: v.length + rng.int(3) };
    }
    default: {
      const v = string(rng, rng.chance(0.1) ? 120 : 24);
      return { kind: "string", v, max: Buffer.byteLength(v) + rng.int(3) };
    }
  }
}

/** The bytes of one op, written by Buffer, not by the writer under test. */
function oracle(op: Op): Buffer {
  const word = (f: (b: Buffer) => void, n = 4) => {
    const b = Buffer.alloc(n);
    f(b);
    return b;
  };
  const padded = (body: Buffer, withLength: boolean) =>
    Buffer.concat([
      withLength ? word((b) => b.writeUInt32BE(body.length)) : Buffer.alloc(0),
      body,
      Buffer.alloc(pad(body.length) - body.length),
    ]);
  switch (op.kind) {
    case "int":
      return word((b) => b.writeInt32BE(op.v));
    case "uint":
      return word((b) => b.writeUInt32BE(op.v));
    case "range":
      return word((b) => (op.min < 0 ? b.writeInt32BE(op.v) : b.writeUInt32BE(op.v)));
    case "bool":
      return word((b) => b.writeUInt32BE(op.v ? 1 : 0));
    case "hyper":
      return word((b) => b.writeBigInt64BE(op.v), 8);
    case "uhyper":
      return word((b) => b.writeBigUInt64BE(op.v), 8);
    case "float":
      return word((b) => b.writeFloatBE(op.v));
    case "double":
      return word((b) => b.writeDoubleBE(op.v), 8);
    case "fixed":
      return padded(Buffer.from(op.v), false);
    case "opaque":
      return padded(Buffer.from(op.v), true);
    case "string":
      return padded(Buffer.from(op.v, "utf8"), true);
  }
}

function write(w: XdrWriter, op: Op): void {
  switch (op.kind) {
    case "int":
      w.writeInt(op.v);
      break;
    case "uint":
      w.writeUnsignedInt(op.v);
      break;
    case "range":
      w.writeIntInRange(op.v, op.min, op.max);
      break;
    case "bool":
      w.writeBool(op.v);
      break;
    case "hyper":
      w.writeHyper(op.v);
      break;
    case "uhyper":
      w.writeUnsignedHyper(op.v);
      break;
    case "float":
      w.writeFloat(op.v);
      break;
    case "double":
      w.writeDouble(op.v);
      break;
    case "fixed":
      w.writeFixedOpaque(op.v, op.v.length);
      break;
    case "opaque":
      w.writeVariableOpaque(op.v, op.max);
      break;
    case "string":
      w.writeString(op.v, op.max);
      break;
  }
}

function read(r: XdrReader, op: Op): unknown {
  switch (op.kind) {
    case "int":
      return r.readInt();
    case "uint":
      return r.readUnsignedInt();
    case "range":
      return r.readIntInRange(op.min, op.max);
    case "bool":
      return r.readBool();
    case "hyper":
      return r.readHyper();
    case "uhyper":
      return r.readUnsignedHyper();
    case "float":
      return r.readFloat();
    case "double":
      return r.readDouble();
    case "fixed":
      return r.readFixedOpaque(op.v.length);
    case "opaque":
      return r.readVariableOpaque(op.max);
    case "string":
      return r.readString(op.max);
  }
}

test(`XdrWriter sequences match a Buffer oracle and read back (${fuzzRuns()} sequences, seed ${fuzzSeed})`, () => {
  const repro = reproduce("writer-reader");
  const rng = new Prng(streamSeed(fuzzSeed, "writer-reader"));
  const runs = fuzzRuns();
  let writer = new XdrWriter();
  for (let run = 0; run < runs; run++) {
    // A fresh writer with odd settings now and then; otherwise the same one, reset, as a server would use it.
    if (rng.chance(0.1)) {
      writer = new XdrWriter({
        initialBytes: rng.range(0, 64),
        referenceMinBytes: rng.pick([0, 1, 3, 5, 8, 13, 64, Number.POSITIVE_INFINITY, 32 * 1024]),
      });
    }
    writer.reset();
    const ops = Array.from({ length: rng.range(0, 16) }, () => randomOp(rng));
    for (const op of ops) write(writer, op);
    const expected = Buffer.concat(ops.map(oracle));
    const what = () =>
      `ops ${JSON.stringify(ops, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}; ${repro}`;
    assert.equal(writer.length, expected.length, what());
    assert.ok(expected.equals(writer.view()), `view() ${hex(writer.view())} != ${hex(expected)}: ${what()}`);
    assert.ok(expected.equals(writer.bytes()), what());
    assert.ok(expected.equals(Buffer.concat(writer.chunks())), what());

    const r = new XdrReader(writer.bytes());
    for (const op of ops) {
      const v = read(r, op);
      const want = op.kind === "float" ? Math.fround(op.v) : op.v;
      assert.ok(xdrEqual(v, want), `read back ${String(v)} for ${op.kind} ${String(want)}: ${what()}`);
    }
    r.expectEnd();
  }
});
