/**
 * The XDR benchmark: encode and decode of `struct record` (a 20-character
 * name, a 1 KiB blob) and of a 64 KiB opaque, by once-rpc's generated codecs,
 * a hand-written XDR codec (the limit), @stellar/js-xdr, protobufjs and
 * msgpackr, side by side in one run. See docs/benchmarks.md.
 *
 * Run with `once bench xdr`, or `node bench/dist/xdr.js` after
 * `npm run bench:setup`.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { decode, encode, XdrReader, XdrWriter } from "once-rpc/xdr";
import { PayloadCodec, RecordCodec, type Record as XdrRecord } from "./generated/record.js";
import { decodeOpaque, decodeRecord, HandEncoder } from "./hand-written.js";
import { type Contender, type Measurement, measureGroup } from "./lib/measure.js";
import { grouped, machineLine, markdownTable } from "./lib/table.js";
import { jsXdr, loadProtobuf, msgpackrMaps, msgpackrRecords } from "./xdr-libraries.js";

/** Options of `runXdrBench`. */
export interface XdrBenchOptions {
  /** Timed rounds per contender; the median is reported. Default 15 (5 with `quick`). */
  samples?: number;
  /** Shorter batches and warm-up, for a smoke run. Default false. */
  quick?: boolean;
  /** Where progress and the report go. Default: stdout. */
  write?: (text: string) => void;
}

/** One row of the report. */
export interface XdrBenchRow extends Measurement {
  readonly case: string;
  readonly op: "encode" | "decode";
  /** ops/s of this row divided by the hand-written codec's. */
  readonly vsHand: number;
  /** ops/s of this row divided by @stellar/js-xdr's. */
  readonly vsJsXdr: number;
}

/** What `runXdrBench` measured, and the report it printed. */
export interface XdrBenchResult {
  readonly rows: readonly XdrBenchRow[];
  readonly machine: string;
  readonly table: string;
  /** One line per goal with its figure and whether it is met. */
  readonly goals: readonly string[];
}

const HAND = "hand-written XDR";
const JS_XDR = "@stellar/js-xdr";
/** The rows the goals are judged on: the generated codec with a reused writer or reader. */
const OURS_ENCODE = "once-rpc, reused writer, view()";
const OURS_DECODE = "once-rpc, reused reader";

/** Deterministic bytes, so every run encodes the same data. */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The struct of the issue: a 20-character name, a 1 KiB blob, ten list entries (the bound). */
function sampleRecord(): XdrRecord {
  return {
    id: 1_234_567,
    name: "Ada Lovelace, Byron!",
    score: 98.625_001,
    blob: pseudoRandomBytes(1024, 1),
    list: [0, 1, 127, 128, 65_535, 65_536, 0x7fff_ffff, 0x8000_0000, 0xdead_beef, 0xffff_ffff],
  };
}

/** A record in a form that compares equal whatever byte-array class and string form a library returns. */
function normalize(v: {
  id: number;
  name: string | Uint8Array;
  score: number;
  blob: Uint8Array;
  list: readonly number[];
}) {
  return {
    id: v.id,
    name: typeof v.name === "string" ? v.name : new TextDecoder().decode(v.name),
    score: v.score,
    blob: Uint8Array.from(v.blob),
    list: Array.from(v.list),
  };
}

interface Group {
  readonly case: string;
  readonly op: "encode" | "decode";
  readonly contenders: Contender[];
}

/** Sets up every library for both cases, checks each against the others, and returns the groups to time. */
function prepare(): Group[] {
  const record = sampleRecord();
  const payload = pseudoRandomBytes(64 * 1024, 2);
  const textEncoder = new TextEncoder();

  // once-rpc: a writer reused across calls (its view is valid until the next reset), and
  // `encode()`, which makes a writer and returns a copy. `referenceMinBytes: Infinity` makes the
  // writer copy large opaque data into its buffer, so `view()` needs no copy.
  const writer = new XdrWriter({ referenceMinBytes: Number.POSITIVE_INFINITY });
  const reader = new XdrReader(new Uint8Array(0));
  const hand = new HandEncoder();
  const proto = loadProtobuf();
  const maps = msgpackrMaps();
  const records = msgpackrRecords();
  // js-xdr takes and returns strings as UTF-8 bytes: it gets them ready-made, not timed.
  const jsXdrRecord = { ...record, name: textEncoder.encode(record.name) };

  // One helper per codec, as the hand-written codec has one function per shape. A helper shared by
  // both codecs would see two codecs at its `codec.encode`/`codec.decode` call (polymorphic feedback
  // that V8 shares between closures of one function literal), a cost the hand-written rows do not pay.
  const viewRecord = (v: XdrRecord) => {
    writer.reset();
    RecordCodec.encode(writer, v);
    return writer.view();
  };
  const viewPayload = (v: Uint8Array) => {
    writer.reset();
    PayloadCodec.encode(writer, v);
    return writer.view();
  };
  const readRecord = (bytes: Uint8Array): XdrRecord => {
    reader.reset(bytes);
    const v = RecordCodec.decode(reader);
    reader.expectEnd();
    return v;
  };
  const readPayload = (bytes: Uint8Array): Uint8Array => {
    reader.reset(bytes);
    const v = PayloadCodec.decode(reader);
    reader.expectEnd();
    return v;
  };

  // Encodings, made once: the input of every decode row, and what the correctness checks compare.
  const bytes = {
    record: {
      ours: encode(RecordCodec, record),
      hand: hand.encodeRecord(record).slice(),
      jsXdr: jsXdr.record.encode(jsXdrRecord),
      proto: proto.record.encode(record).finish(),
      maps: maps.pack(record),
      records: records.pack(record),
    },
    payload: {
      ours: encode(PayloadCodec, payload),
      hand: hand.encodeOpaque(payload).slice(),
      jsXdr: jsXdr.payload.encode(payload),
      proto: proto.payload.encode({ data: payload }).finish(),
      maps: maps.pack(payload),
      records: records.pack(payload),
    },
  };

  // All three XDR encoders must agree byte for byte.
  for (const c of ["record", "payload"] as const) {
    const b = bytes[c];
    assert.deepEqual(
      Uint8Array.from(b.hand),
      Uint8Array.from(b.ours),
      `${c}: once-rpc differs from the hand-written XDR`,
    );
    assert.deepEqual(
      Uint8Array.from(b.jsXdr),
      Uint8Array.from(b.ours),
      `${c}: once-rpc differs from @stellar/js-xdr`,
    );
  }
  assert.deepEqual(Uint8Array.from(viewRecord(record)), Uint8Array.from(bytes.record.ours));
  assert.deepEqual(Uint8Array.from(viewPayload(payload)), Uint8Array.from(bytes.payload.ours));

  // Every library decodes its own encoding back to the input.
  const expected = normalize(record);
  assert.deepEqual(normalize(decode(RecordCodec, bytes.record.ours)), expected, "once-rpc decode()");
  assert.deepEqual(normalize(readRecord(bytes.record.ours)), expected, "once-rpc reader");
  assert.deepEqual(normalize(decodeRecord(bytes.record.hand)), expected, "hand-written");
  assert.deepEqual(normalize(jsXdr.record.decode(bytes.record.jsXdr)), expected, "js-xdr");
  assert.deepEqual(
    normalize(proto.record.decode(bytes.record.proto) as unknown as XdrRecord),
    expected,
    "protobufjs",
  );
  assert.deepEqual(normalize(maps.unpack(bytes.record.maps)), expected, "msgpackr maps");
  assert.deepEqual(normalize(records.unpack(bytes.record.records)), expected, "msgpackr records");
  const payloadOf: { [k: string]: Uint8Array } = {
    ours: decode(PayloadCodec, bytes.payload.ours),
    reader: readPayload(bytes.payload.ours),
    hand: decodeOpaque(bytes.payload.hand),
    jsXdr: jsXdr.payload.decode(bytes.payload.jsXdr),
    proto: (proto.payload.decode(bytes.payload.proto) as unknown as { data: Uint8Array }).data,
    maps: maps.unpack(bytes.payload.maps),
    records: records.unpack(bytes.payload.records),
  };
  for (const [who, got] of Object.entries(payloadOf))
    assert.deepEqual(Uint8Array.from(got), payload, `64 KiB opaque: ${who}`);

  const rb = bytes.record;
  const pb = bytes.payload;
  return [
    {
      case: "record",
      op: "encode",
      contenders: [
        { name: HAND, run: () => hand.encodeRecord(record) },
        { name: OURS_ENCODE, run: () => viewRecord(record) },
        { name: "once-rpc, encode() (copy)", run: () => encode(RecordCodec, record) },
        { name: JS_XDR, run: () => jsXdr.record.encode(jsXdrRecord) },
        { name: "protobufjs", run: () => proto.record.encode(record).finish() },
        { name: "msgpackr (maps)", run: () => maps.pack(record) },
        { name: "msgpackr (records)", run: () => records.pack(record) },
      ],
    },
    {
      case: "record",
      op: "decode",
      contenders: [
        { name: HAND, run: () => decodeRecord(rb.hand) },
        { name: OURS_DECODE, run: () => readRecord(rb.ours) },
        { name: "once-rpc, decode()", run: () => decode(RecordCodec, rb.ours) },
        { name: JS_XDR, run: () => jsXdr.record.decode(rb.jsXdr) },
        { name: "protobufjs", run: () => proto.record.decode(rb.proto) },
        { name: "msgpackr (maps)", run: () => maps.unpack(rb.maps) },
        { name: "msgpackr (records)", run: () => records.unpack(rb.records) },
      ],
    },
    {
      case: "64 KiB opaque",
      op: "encode",
      contenders: [
        { name: HAND, run: () => hand.encodeOpaque(payload) },
        { name: OURS_ENCODE, run: () => viewPayload(payload) },
        { name: "once-rpc, encode() (copy)", run: () => encode(PayloadCodec, payload) },
        { name: JS_XDR, run: () => jsXdr.payload.encode(payload) },
        { name: "protobufjs", run: () => proto.payload.encode({ data: payload }).finish() },
        { name: "msgpackr (maps)", run: () => maps.pack(payload) },
        { name: "msgpackr (records)", run: () => records.pack(payload) },
      ],
    },
    {
      case: "64 KiB opaque",
      op: "decode",
      contenders: [
        { name: HAND, run: () => decodeOpaque(pb.hand) },
        { name: OURS_DECODE, run: () => readPayload(pb.ours) },
        { name: "once-rpc, decode()", run: () => decode(PayloadCodec, pb.ours) },
        { name: JS_XDR, run: () => jsXdr.payload.decode(pb.jsXdr) },
        { name: "protobufjs", run: () => proto.payload.decode(pb.proto) },
        { name: "msgpackr (maps)", run: () => maps.unpack(pb.maps) },
        { name: "msgpackr (records)", run: () => records.unpack(pb.records) },
      ],
    },
  ];
}

/** Two decimals, or two significant digits below 0.1 so that small ratios do not read as zero. */
function ratio(x: number): string {
  return `${x < 0.1 ? x.toPrecision(2) : x.toFixed(2)}×`;
}

/** Runs the benchmark, prints a markdown table and the goals, and returns the figures. */
export async function runXdrBench(options: XdrBenchOptions = {}): Promise<XdrBenchResult> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const quick = options.quick ?? false;
  const samples = options.samples ?? (quick ? 5 : 15);
  if (!Number.isInteger(samples) || samples < 1)
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  const timing = quick ? { samples, batchMs: 20, warmupMs: 50 } : { samples, batchMs: 75, warmupMs: 300 };

  const groups = prepare();
  write(
    `XDR benchmark: ${samples} samples of ~${timing.batchMs} ms per row, round-robin; correctness checks passed.\n`,
  );
  const rows: XdrBenchRow[] = [];
  for (const g of groups) {
    write(`  timing ${g.case} ${g.op} (${g.contenders.length} contenders)…\n`);
    const measured = measureGroup(g.contenders, timing);
    const hand = measured.find((m) => m.name === HAND);
    const jsx = measured.find((m) => m.name === JS_XDR);
    for (const m of measured) {
      rows.push({
        ...m,
        case: g.case,
        op: g.op,
        vsHand: hand ? m.opsPerSec / hand.opsPerSec : Number.NaN,
        vsJsXdr: jsx ? m.opsPerSec / jsx.opsPerSec : Number.NaN,
      });
    }
  }

  const machine = machineLine();
  const table = markdownTable(
    ["case", "op", "library", "ops/s", "ns/op", "vs hand-written", "vs js-xdr"],
    rows.map((r) => [
      r.case,
      r.op,
      r.name,
      grouped(r.opsPerSec),
      r.nsPerOp.toFixed(0),
      ratio(r.vsHand),
      ratio(r.vsJsXdr),
    ]),
    [false, false, false, true, true, true, true],
  );
  const goals: string[] = [];
  for (const r of rows) {
    if (r.name !== OURS_ENCODE && r.name !== OURS_DECODE) continue;
    const handOk = r.vsHand >= 0.9;
    const jsOk = r.vsJsXdr >= 3;
    goals.push(
      `${r.case} ${r.op}: ${(r.vsHand * 100).toFixed(0)}% of hand-written (goal ≥ 90%: ${handOk ? "met" : "MISSED"}), ` +
        `${ratio(r.vsJsXdr)} js-xdr (goal ≥ 3×: ${jsOk ? "met" : "MISSED"})`,
    );
  }
  write(`\n${table}\n\n${machine}\n\nGoals (rows "${OURS_ENCODE}" and "${OURS_DECODE}"):\n`);
  for (const line of goals) write(`- ${line}\n`);
  return { rows, machine, table, goals };
}

// Run directly: node bench/dist/xdr.js [--quick] [--samples N]
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--samples");
  await runXdrBench({ quick: args.includes("--quick"), samples: at >= 0 ? Number(args[at + 1]) : undefined });
}
