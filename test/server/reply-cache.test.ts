/** The at-most-once reply cache on its own: lookups, waiters, and its bounds on entries, bytes and age. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ServerConnection } from "once-rpc";
import { CacheLookup, ReplyCache } from "../../src/server/reply-cache.js";

/** A connection that records what was sent on it. */
function connection(kind: "stream" | "datagram" = "stream") {
  const sent: Uint8Array[] = [];
  const conn = {
    kind,
    headroomBytes: kind === "stream" ? 4 : 0,
    send(chunks: Uint8Array[]) {
      sent.push(chunks[0]);
    },
  } as unknown as ServerConnection;
  return { conn, sent };
}

const reply = (n: number, bytes = 8) => new Uint8Array(bytes).fill(n);

test("a new call runs; a duplicate of a finished one gets its reply; a duplicate of a running one waits", () => {
  const cache = new ReplyCache();
  const a = connection();
  const b = connection();
  assert.equal(cache.begin("k", a.conn), CacheLookup.RUN);
  assert.equal(cache.begin("k", b.conn), CacheLookup.ANSWERED, "running: b waits");
  assert.equal(b.sent.length, 0);
  cache.complete("k", reply(7));
  assert.equal(b.sent.length, 1, "the waiter got the reply when it completed");
  assert.deepEqual(b.sent[0].subarray(4), reply(7), "after room for the record mark");
  const c = connection("datagram");
  assert.equal(cache.begin("k", c.conn), CacheLookup.ANSWERED);
  assert.deepEqual(c.sent[0], reply(7));
  assert.deepEqual(cache.stats, { hits: 1, inProgress: 1, misses: 1, evictions: 0, entries: 1, bytes: 8 });
  cache.abandon("k"); // only a running call is abandoned
  assert.equal(cache.stats.entries, 1);
  assert.equal(cache.begin("j", a.conn), CacheLookup.RUN);
  cache.abandon("j");
  assert.equal(cache.begin("j", a.conn), CacheLookup.RUN, "an abandoned call runs again");
});

test("past maxEntries the oldest finished replies go first, over many turns of the queue", () => {
  const cache = new ReplyCache({ maxEntries: 100 });
  const { conn } = connection();
  for (let i = 0; i < 5000; i++) {
    assert.equal(cache.begin(`k${i}`, conn), CacheLookup.RUN);
    cache.complete(`k${i}`, reply(i & 255));
  }
  assert.equal(cache.stats.entries, 100);
  assert.equal(cache.stats.evictions, 4900);
  assert.equal(cache.stats.bytes, 800);
  assert.equal(cache.begin("k4999", conn), CacheLookup.ANSWERED, "the newest are kept");
  assert.equal(cache.begin("k4900", conn), CacheLookup.ANSWERED);
  assert.equal(cache.begin("k4899", conn), CacheLookup.RUN, "the older are gone");
});

test("a running call is not evicted for room; the finished ones around it are", () => {
  const cache = new ReplyCache({ maxEntries: 3 });
  const { conn } = connection();
  cache.begin("running", conn);
  for (let i = 0; i < 10; i++) {
    cache.begin(`k${i}`, conn);
    cache.complete(`k${i}`, reply(i));
  }
  assert.equal(cache.begin("running", conn), CacheLookup.ANSWERED, "still there, still running");
  cache.complete("running", reply(99));
  assert.equal(cache.stats.entries, 3);
});

test("maxBytes bounds the replies kept; maxAgeMs forgets old ones", () => {
  let now = 1_000;
  const cache = new ReplyCache({ maxBytes: 100, maxAgeMs: 50 }, () => now);
  const { conn } = connection();
  for (let i = 0; i < 5; i++) {
    cache.begin(`k${i}`, conn);
    cache.complete(`k${i}`, reply(i, 40));
  }
  assert.ok(cache.stats.bytes <= 100);
  assert.equal(cache.stats.entries, 2);
  now += 51;
  assert.equal(cache.begin("k4", conn), CacheLookup.RUN, "too old: runs again");
  assert.equal(cache.stats.entries, 1, "the old ones went with it");
});
