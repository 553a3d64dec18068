/**
 * XdrWriter: reuse after reset, growth, and large opaque data kept by
 * reference so that chunks() can feed a vectored write.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_WRITER_OPTIONS, XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { expectXdrError, fromHex, toHex } from "./helpers.js";

function concatAll(chunks: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(chunks));
}

describe("XdrWriter reuse", () => {
  test("reset forgets what was written; bytes() is a copy that survives it", () => {
    const w = new XdrWriter();
    w.writeInt(1);
    w.writeString("abc");
    assert.equal(w.length, 12);
    const first = w.bytes();
    assert.equal(toHex(first), "00000001 00000003 61626300".replace(/ /g, ""));
    w.reset();
    assert.equal(w.length, 0);
    assert.equal(w.view().length, 0);
    w.writeUnsignedInt(0xcafebabe);
    assert.equal(toHex(w.view()), "cafebabe");
    assert.equal(w.chunks().length, 1);
    // The copy taken before reset is untouched by later writes into the same buffer.
    assert.equal(toHex(first), "0000000100000003" + "61626300");
  });

  test("view() aliases the writer's buffer; bytes() does not", () => {
    const w = new XdrWriter();
    w.writeInt(7);
    const view = w.view();
    const copy = w.bytes();
    w.reset();
    w.writeInt(9);
    assert.equal(view[3], 9, "the view points into the reused buffer");
    assert.equal(copy[3], 7);
  });

  test("reset after referenced chunks drops them", () => {
    const w = new XdrWriter({ referenceMinBytes: 8 });
    w.writeInt(1);
    w.writeFixedOpaque(new Uint8Array(8).fill(0xaa), 8);
    assert.equal(w.chunks().length, 3);
    w.reset();
    w.writeInt(2);
    assert.deepEqual(w.chunks().map(toHex), ["00000002"]);
    assert.equal(w.length, 4);
  });

  test("many messages through one writer each come out exactly", () => {
    const w = new XdrWriter({ initialBytes: 16 });
    for (let i = 0; i < 200; i++) {
      w.reset();
      const s = "x".repeat(i % 37);
      w.writeInt(i);
      w.writeString(s);
      w.writeHyper(BigInt(-i));
      const r = new XdrReader(w.view());
      assert.equal(r.readInt(), i);
      assert.equal(r.readString(), s);
      assert.equal(r.readHyper(), BigInt(-i));
      r.expectEnd();
    }
  });
});

describe("XdrWriter growth", () => {
  test("from the smallest initial buffer to megabytes, every byte in place", () => {
    const w = new XdrWriter({ initialBytes: 1 });
    const expected: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      switch (i % 4) {
        case 0: {
          w.writeInt(-i);
          const b = Buffer.alloc(4);
          b.writeInt32BE(-i);
          expected.push(b);
          break;
        }
        case 1: {
          const s = "é".repeat(i % 50);
          w.writeString(s);
          const body = Buffer.from(s, "utf8");
          const b = Buffer.alloc(4 + ((body.length + 3) & ~3));
          b.writeUInt32BE(body.length);
          body.copy(b, 4);
          expected.push(b);
          break;
        }
        case 2: {
          const o = Buffer.alloc(i % 23, i & 0xff);
          w.writeVariableOpaque(o);
          const b = Buffer.alloc(4 + ((o.length + 3) & ~3));
          b.writeUInt32BE(o.length);
          o.copy(b, 4);
          expected.push(b);
          break;
        }
        default: {
          w.writeUnsignedHyper(BigInt(i) << 32n);
          const b = Buffer.alloc(8);
          b.writeBigUInt64BE(BigInt(i) << 32n);
          expected.push(b);
        }
      }
    }
    const all = Buffer.concat(expected);
    assert.equal(w.length, all.length);
    assert.ok(Buffer.from(w.view()).equals(all));
    assert.ok(Buffer.from(w.bytes()).equals(all));
    assert.ok(Buffer.concat(w.chunks()).equals(all));
  });

  test("a single string larger than the whole buffer", () => {
    const w = new XdrWriter({ initialBytes: 16 });
    const s = "€".repeat(5000);
    w.writeString(s);
    const r = new XdrReader(w.view());
    assert.equal(r.readString(), s);
    r.expectEnd();
    assert.equal(w.length, 4 + 15000);
  });

  test("growth after referenced chunks keeps the chunks already taken", () => {
    const w = new XdrWriter({ initialBytes: 16, referenceMinBytes: 8 });
    const blob = Uint8Array.from({ length: 9 }, (_, i) => i + 1);
    w.writeInt(0x11111111);
    w.writeVariableOpaque(blob);
    for (let i = 0; i < 100; i++) w.writeInt(i);
    const r = new XdrReader(w.view());
    assert.equal(r.readInt(), 0x11111111);
    assert.deepEqual([...r.readVariableOpaque()], [...blob]);
    for (let i = 0; i < 100; i++) assert.equal(r.readInt(), i);
    r.expectEnd();
    assert.deepEqual(concatAll(w.chunks()), w.view());
  });
});

describe("XdrWriter chunks(): opaque data by reference", () => {
  test("a 100 KiB opaque is its own chunk, the caller's very bytes", () => {
    assert.ok(100 * 1024 >= DEFAULT_WRITER_OPTIONS.referenceMinBytes);
    const big = new Uint8Array(100 * 1024 + 1);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const w = new XdrWriter();
    w.writeInt(7);
    w.writeVariableOpaque(big);
    w.writeInt(9);

    const chunks = w.chunks();
    assert.equal(chunks.length, 3);
    assert.equal(toHex(chunks[0]), "00000007" + (100 * 1024 + 1).toString(16).padStart(8, "0"));
    assert.equal(chunks[1], big, "the opaque is handed out by reference");
    assert.equal(chunks[1].buffer, big.buffer);
    assert.equal(toHex(chunks[2]), "000000" + "00000009", "padding, then the rest");
    assert.equal(w.length, 8 + big.length + 3 + 4);

    const expected = Buffer.concat([fromHex("00000007 00019001"), big, fromHex("000000 00000009")]);
    assert.ok(Buffer.from(w.view()).equals(expected));
    assert.ok(Buffer.from(w.bytes()).equals(expected));
    // view() had to concatenate: it is not the caller's buffer.
    assert.notEqual(w.view().buffer, big.buffer);
  });

  test("a subarray of a larger buffer is kept with its own offset", () => {
    const backing = new Uint8Array(200 * 1024).fill(0xee);
    const slice = backing.subarray(1000, 1000 + 64 * 1024);
    slice.fill(0x5a);
    const w = new XdrWriter();
    w.writeFixedOpaque(slice, slice.length);
    const chunks = w.chunks().filter((c) => c.length > 0);
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0].buffer, backing.buffer);
    assert.equal(chunks[0].byteOffset, 1000);
    assert.equal(w.length, 64 * 1024);
    assert.ok(w.bytes().every((b) => b === 0x5a));
  });

  test("several referenced blobs interleaved with small writes", () => {
    const w = new XdrWriter({ referenceMinBytes: 1024 });
    const a = new Uint8Array(1024).fill(1);
    const b = new Uint8Array(2050).fill(2);
    w.writeString("hi");
    w.writeVariableOpaque(a);
    w.writeVariableOpaque(b);
    w.writeVariableOpaque(new Uint8Array(3).fill(3)); // small: copied
    const chunks = w.chunks();
    assert.ok(chunks.includes(a) && chunks.includes(b));
    const r = new XdrReader(w.view());
    assert.equal(r.readString(), "hi");
    assert.deepEqual(r.readVariableOpaque(), a);
    assert.deepEqual(r.readVariableOpaque(), b);
    assert.deepEqual(r.readVariableOpaque(), new Uint8Array(3).fill(3));
    r.expectEnd();
    assert.deepEqual(concatAll(chunks), w.bytes());
  });

  test("padding stays right after a referenced opaque whose length is not a multiple of four", () => {
    // Regression: padding was computed from the position in the writer's buffer,
    // which a referenced chunk of odd length leaves out of step with the message.
    for (const size of [5, 6, 7, 8]) {
      const w = new XdrWriter({ referenceMinBytes: 5 });
      const blob = new Uint8Array(size).fill(0x11);
      w.writeFixedOpaque(blob, size);
      w.writeString("a");
      w.writeVariableOpaque(Uint8Array.of(0x22));
      w.writeFixedOpaque(Uint8Array.of(1, 2, 3), 3);
      w.writeString("héllo wörld, long enough for the native encoder: ".repeat(2));
      w.writeInt(-1);
      const expected =
        toHex(blob) + "00".repeat(((size + 3) & ~3) - size) + "00000001610000000000000122000000" + "01020300";
      assert.ok(toHex(w.bytes()).startsWith(expected), `size ${size}: ${toHex(w.bytes()).slice(0, 80)}`);
      assert.equal(w.length % 4, 0);
      const r = new XdrReader(w.view());
      r.readFixedOpaque(size);
      assert.equal(r.readString(), "a");
      r.readVariableOpaque();
      r.readFixedOpaque(3);
      r.readString();
      assert.equal(r.readInt(), -1);
      r.expectEnd();
    }
  });

  test("referenceMinBytes Infinity always copies", () => {
    const big = new Uint8Array(100 * 1024).fill(4);
    const w = new XdrWriter({ referenceMinBytes: Number.POSITIVE_INFINITY });
    w.writeVariableOpaque(big);
    const chunks = w.chunks();
    assert.equal(chunks.length, 1);
    assert.notEqual(chunks[0].buffer, big.buffer);
    assert.equal(chunks[0].length, 4 + big.length);
  });

  test("below the threshold opaque data is copied, so later changes to it do not leak in", () => {
    const small = new Uint8Array(100).fill(1);
    const w = new XdrWriter();
    w.writeVariableOpaque(small);
    small.fill(2);
    assert.ok(
      w
        .view()
        .subarray(4)
        .every((x) => x === 1),
    );
  });
});

describe("writeIntArray and writeUnsignedIntArray", () => {
  test("write the count and the elements, growing the buffer once", () => {
    const w = new XdrWriter({ initialBytes: 16 });
    w.writeIntArray([1, -1, -0x8000_0000]);
    w.writeUnsignedIntArray([0xffff_ffff, 0], 2);
    assert.equal(
      toHex(w.bytes()),
      "00000003 00000001 ffffffff 80000000 00000002 ffffffff 00000000".replace(/ /g, ""),
    );
    w.reset();
    w.writeIntArray([]);
    assert.equal(toHex(w.bytes()), "00000000");
  });
  test("refuse more elements than the bound, before writing anything", () => {
    const w = new XdrWriter();
    expectXdrError(() => w.writeUnsignedIntArray([1, 2, 3], 2), { code: "BAD_VALUE", offset: 0 });
    assert.equal(w.length, 0);
  });
  test("refuse a bad element with its index as the path, at the offset where it belongs", () => {
    const w = new XdrWriter();
    w.writeInt(7);
    expectXdrError(() => w.writeIntArray([1, 2, 2 ** 31]), { code: "BAD_VALUE", offset: 16, path: "[2]" });
    w.reset();
    expectXdrError(() => w.writeUnsignedIntArray([1, -1]), { code: "BAD_VALUE", offset: 8, path: "[1]" });
    w.reset();
    const sparse = [1, 2];
    sparse.length = 3;
    expectXdrError(() => w.writeUnsignedIntArray(sparse), { code: "BAD_VALUE", offset: 12, path: "[2]" });
    expectXdrError(() => new XdrWriter().writeIntArray([1.5]), { code: "BAD_VALUE", path: "[0]" });
  });
});
