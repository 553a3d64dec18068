/**
 * The session file of exactly-once clients (src/client/session-file.ts):
 * identity and epochs across opens, reserved sequences, unfinished calls
 * kept outstanding, a torn last line ignored, a corrupt file refused, and
 * compaction once every logged call has ended.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSession } from "once-rpc";

const dir = mkdtempSync(join(tmpdir(), "once-session-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const call = { program: 0x2000_0e30, version: 1, procedure: 1 };

test("the client id is kept, the epoch counts up, and sequences never repeat across opens", () => {
  const path = join(dir, "ids.session");
  const a = openSession(path, { reserveSequences: 10 });
  assert.equal(a.identity.epoch, 1n);
  const used = [a.begin(call), a.begin(call), a.begin(call)];
  a.close();
  const b = openSession(path, { reserveSequences: 10 });
  assert.deepEqual(b.identity.clientId, a.identity.clientId);
  assert.equal(b.identity.epoch, 2n);
  const next = b.begin(call);
  assert.ok(
    used.every((s) => s < next),
    `${next} is past ${used}`,
  );
  // Past the reserved block, a new reservation is written before the sequence is used.
  for (let i = 0; i < 25; i++) b.begin(call);
  const last = b.begin(call);
  b.close();
  const c = openSession(path, { reserveSequences: 10 });
  assert.ok(c.begin(call) > last);
  assert.equal(c.identity.epoch, 3n);
  c.close();
});

test("unfinished calls come back with their arguments and hold first_incomplete until resumed or ended", () => {
  const path = join(dir, "unfinished.session");
  const a = openSession(path);
  const s1 = a.begin(call);
  a.prepared({ sequence: s1, ...call, args: new Uint8Array([0, 0, 0, 1]) });
  const s2 = a.begin(call);
  a.prepared({ sequence: s2, ...call, args: new Uint8Array([0, 0, 0, 2]) });
  a.end(s1);
  // The process dies here: no close.
  const b = openSession(path);
  const unfinished = b.unfinished();
  assert.equal(unfinished.length, 1);
  assert.equal(unfinished[0].sequence, s2);
  assert.deepEqual([...unfinished[0].args], [0, 0, 0, 2]);
  assert.equal(b.firstIncomplete, s2, "the server must keep the record of the unfinished call");
  const s3 = b.begin(call);
  b.end(s3);
  assert.equal(b.firstIncomplete, s2);
  b.end(s2);
  assert.equal(b.unfinished().length, 0);
  assert.ok(b.firstIncomplete > s3);
  b.close();
  assert.equal(openSession(path).unfinished().length, 0, "its end was written");
});

test("a torn last line is ignored; a corrupt line refuses the file", () => {
  const path = join(dir, "torn.session");
  const a = openSession(path);
  const s = a.begin(call);
  a.prepared({ sequence: s, ...call, args: new Uint8Array(4) });
  a.close();
  appendFileSync(path, `E ${s}`); // no newline: the process died while writing it
  assert.equal(openSession(path).unfinished().length, 1, "the torn end does not count");
  const bad = join(dir, "corrupt.session");
  writeFileSync(bad, `${readFileSync(path, "utf8")}X what\n`);
  assert.throws(() => openSession(bad), /SESSION_FILE_CORRUPT: .*unknown record/);
  writeFileSync(bad, "not a session\n");
  assert.throws(() => openSession(bad), /SESSION_FILE_CORRUPT/);
});

test("once every logged call has ended, a file past maxBytes is rewritten small", () => {
  const path = join(dir, "compact.session");
  const a = openSession(path, { maxBytes: 2_000 });
  const args = new Uint8Array(64);
  for (let i = 0; i < 100; i++) {
    const s = a.begin(call);
    a.prepared({ sequence: s, ...call, args });
    a.end(s);
  }
  assert.ok(a.fileBytes < 2_000, `${a.fileBytes} bytes`);
  a.close();
  const text = readFileSync(path, "utf8");
  const starts = text.match(/^S /gm)?.length ?? 0;
  assert.ok(starts < 100, "the lines of ended calls before the last rewrite are gone");
  assert.equal(text.match(/^E /gm)?.length ?? 0, starts, "what is left has ended");
  const b = openSession(path);
  assert.equal(b.identity.epoch, 2n);
  assert.ok(b.begin(call) > 100n);
  b.close();
});
