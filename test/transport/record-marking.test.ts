/** Record marking (RFC 5531 §11): wire vectors, any chunking, limits, and framing that round-trips. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { frameRecord, RECORD_MARK_BYTES, RecordDecoder, RpcError } from "once-rpc";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function decodeAll(chunks: Uint8Array[], maxRecordBytes = 1 << 20): string[] {
  const records: string[] = [];
  const decoder = new RecordDecoder(maxRecordBytes, (r) => records.push(hex(r)));
  for (const chunk of chunks) decoder.push(chunk);
  assert.ok(decoder.idle, "nothing left half-read");
  return records;
}

test("a one-fragment record: the mark's top bit and a 31-bit length", () => {
  const wire = Buffer.from("80000008" + "0102030405060708", "hex");
  assert.deepEqual(decodeAll([wire]), ["0102030405060708"]);
});

test("a record of three fragments, one of them empty, is joined", () => {
  const wire = Buffer.from("00000002" + "aabb" + "00000000" + "80000003" + "ccddee", "hex");
  assert.deepEqual(decodeAll([wire]), ["aabbccddee"]);
});

test("an empty record", () => {
  assert.deepEqual(decodeAll([Buffer.from("80000000", "hex")]), [""]);
});

test("a one-fragment record inside one chunk is a view, not a copy", () => {
  const wire = Buffer.from("80000004" + "deadbeef", "hex");
  let record: Uint8Array | undefined;
  new RecordDecoder(100, (r) => (record = r)).push(wire);
  assert.equal(record?.buffer, wire.buffer);
});

test("records split at every byte boundary decode the same", () => {
  const wire = Buffer.from("80000003" + "010203" + "00000001" + "04" + "80000002" + "0506", "hex");
  for (let cut = 0; cut <= wire.length; cut++) {
    assert.deepEqual(
      decodeAll([wire.subarray(0, cut), wire.subarray(cut)]),
      ["010203", "040506"],
      `cut at ${cut}`,
    );
  }
  assert.deepEqual(decodeAll([...wire].map((b) => Uint8Array.of(b))), ["010203", "040506"]);
});

test("a record over maxRecordBytes fails before it is buffered, fragment by fragment too", () => {
  const tooLong = new RecordDecoder(8, () => assert.fail("no record"));
  assert.throws(
    () => tooLong.push(Buffer.from("80000009", "hex")),
    (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, "MESSAGE_TOO_LARGE");
      assert.match(e.message, /exceeds maxRecordBytes 8/);
      return true;
    },
  );
  // Fragments that each fit but together do not.
  const fragments = new RecordDecoder(8, () => assert.fail("no record"));
  fragments.push(Buffer.from("00000005" + "0102030405", "hex"));
  assert.throws(() => fragments.push(Buffer.from("80000004", "hex")), { code: "MESSAGE_TOO_LARGE" });
  // A 2 GiB claim is refused from its mark alone.
  assert.throws(() => new RecordDecoder(1 << 20, () => {}).push(Buffer.from("ffffffff", "hex")), {
    code: "MESSAGE_TOO_LARGE",
  });
});

function message(body: Uint8Array[]): { chunks: Uint8Array[]; length: number } {
  const chunks = [new Uint8Array(RECORD_MARK_BYTES), ...body];
  return { chunks, length: chunks.reduce((n, c) => n + c.length, 0) };
}

test("frameRecord: one fragment by default, the mark written into the headroom", () => {
  const head = Uint8Array.of(0, 0, 0, 0, 1, 2);
  const framed = frameRecord([head, Uint8Array.of(3)], 7, 0x7fffffff);
  assert.equal(hex(Buffer.concat(framed)), "80000003010203");
});

test("frameRecord cuts long messages into fragments of the given size", () => {
  const { chunks, length } = message([Uint8Array.of(1, 2, 3, 4, 5), Uint8Array.of(6, 7)]);
  const framed = Buffer.concat(frameRecord(chunks, length, 3));
  assert.equal(hex(framed), "00000003010203" + "00000003040506" + "8000000107");
});

test("property: any messages, framed with any fragment size and cut anywhere, come back", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (messages, fragmentBytes, cuts) => {
        const wire = Buffer.concat(
          messages.flatMap((body) => {
            const { chunks, length } = message(body.map((b) => b.slice()));
            return frameRecord(chunks, length, fragmentBytes);
          }),
        );
        const pieces: Uint8Array[] = [];
        let p = 0;
        for (let i = 0; p < wire.length; i++) {
          const n = cuts[i % cuts.length];
          pieces.push(wire.subarray(p, p + n));
          p += n;
        }
        assert.deepEqual(
          decodeAll(pieces),
          messages.map((body) => hex(Buffer.concat(body))),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test("fuzz: random bytes either decode or fail with MESSAGE_TOO_LARGE, never anything else", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 64 }), (bytes, max) => {
      const decoder = new RecordDecoder(max, (r) => assert.ok(r.length <= max));
      try {
        decoder.push(bytes);
      } catch (e) {
        assert.ok(e instanceof RpcError && e.code === "MESSAGE_TOO_LARGE", String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
