/**
 * Linked lists (a struct whose last field points to its own type) in the
 * JSON form are nested objects, encoded and decoded by a loop: 100,000
 * elements both ways, byte-exact with the generated codecs, through JSON text
 * and back (stringifyJson, since JSON.stringify overflows the stack there).
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { createJsonCodec, type JsonObject, type JsonValue, stringifyJson } from "../../src/json/index.js";
import { decode, encode, type XdrCodec } from "../../src/xdr/index.js";
import { compileX, generatedCodecs, hex } from "./support.js";

const N = 100_000;
const everything = compileX("test/fixtures/everything.x");
const mount = compileX("/usr/include/rpcsvc/mount.x");
let generated: (name: string) => XdrCodec<unknown>;
let generatedMount: (name: string) => XdrCodec<unknown>;

before(async () => {
  generated = await generatedCodecs("test/fixtures/everything.x");
  generatedMount = await generatedCodecs("/usr/include/rpcsvc/mount.x");
});

/** A list of `n` nodes of struct node (everything.x), built from the tail. */
function nodes(n: number): JsonObject | null {
  let head: JsonObject | null = null;
  for (let i = n - 1; i >= 0; i--) head = { value: i, tag: `t${i % 100}`, next: head };
  return head;
}

/** Walks a decoded list, checking each element; returns its length. */
function walk(list: JsonValue, check: (element: JsonObject, index: number) => void, link = "next"): number {
  let n = 0;
  for (let p = list; p !== null; p = (p as JsonObject)[link]) check(p as JsonObject, n++);
  return n;
}

test(`a list of ${N} nodes, both ways, with the generated codec's bytes`, () => {
  const codec = createJsonCodec(everything, "node");
  const list = nodes(N);
  const bytes = encode(codec, list);
  assert.equal(hex(bytes), hex(encode(generated("node"), list)));
  const back = decode(codec, bytes);
  assert.equal(
    walk(back, (e, i) => {
      assert.equal(e.value, i);
      assert.equal(e.tag, `t${i % 100}`);
    }),
    N,
  );
  // Through JSON text: JSON.parse reads nesting of any depth.
  const text = stringifyJson(back);
  assert.equal(hex(encode(codec, JSON.parse(text))), hex(bytes));
});

test("a list through a typedef of optional data: everything.x node_list, mount.x mountlist", () => {
  const nodeList = createJsonCodec(everything, "node_list");
  assert.equal(hex(encode(nodeList, null)), "00000000");
  const bytes = encode(nodeList, nodes(N));
  assert.equal(hex(bytes), hex(encode(generated("node_list"), nodes(N))));
  assert.equal(
    walk(decode(nodeList, bytes), () => {}),
    N,
  );

  const mountlist = createJsonCodec(mount, "mountlist");
  let head: JsonObject | null = null;
  for (let i = 0; i < N; i++) head = { ml_hostname: `h${i}`, ml_directory: `/d${i}`, ml_next: head };
  const mountBytes = encode(mountlist, head);
  assert.equal(hex(mountBytes), hex(encode(generatedMount("mountlist"), head)));
  assert.equal(
    walk(decode(mountlist, mountBytes), (e, i) => assert.equal(e.ml_hostname, `h${N - 1 - i}`), "ml_next"),
    N,
  );
});

test("an error deep in a long list names the element", () => {
  const codec = createJsonCodec(everything, "node");
  const list = nodes(50_000) as JsonObject;
  let p = list;
  for (let i = 0; i < 41_234; i++) p = p.next as JsonObject;
  p.tag = "x".repeat(17);
  assert.throws(
    () => encode(codec, list),
    (e: Error & { pathString?: string }) => e.pathString === "node.next#41234.tag",
  );
  // Decoding: damage the bool that links element 41,233 to the next.
  p.tag = "ok";
  const bytes = encode(codec, list);
  const offset = 41_233 * 16 + 12; // value, "t.." (length + 4 bytes) per element: 16 bytes with the link
  assert.equal(new DataView(bytes.buffer).getUint32(offset), 1);
  new DataView(bytes.buffer).setUint32(offset, 2);
  assert.throws(
    () => decode(codec, bytes),
    (e: Error & { code?: string; pathString?: string }) =>
      e.code === "BAD_BOOL" && e.pathString === "node.next#41233.next",
  );
});
