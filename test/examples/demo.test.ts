/** `npm run demo` runs to the end and tells its story: calls answered, failures typed. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { repoPath } from "../support/paths.js";

test("the demo runs and shows answered calls and typed failures", async () => {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [repoPath("dist/examples/demo/main.js")],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  assert.equal(stderr, "");
  assert.match(stdout, /the committed examples\/date\/gen\/date\.ts is current/);
  assert.match(stdout, /tcp UTC {16}-> \d{4}-\d\d-\d\dT/);
  assert.match(stdout, /udp Mars\/Olympus_Mons {2}-> error: /);
  assert.match(stdout, /-> PROG_MISMATCH: program 0x20000099 supports versions 2\.\.2, not 1/);
  assert.match(stdout, /-> TIMEOUT: DATE_PROG v2 DATE_FORMAT: no reply after \d+ ms, waiting for the reply/);
  assert.match(stdout, /-> CONNECT_FAILED: cannot connect to tcp:\/\/127\.0\.0\.1:1/);
  assert.match(stdout, /6 calls, round-robin: first ran 3, second ran 3/);
  assert.match(stdout, /6 more calls: 6 answered, the second instance has now run 9/);
  const row = (semantics: string) => {
    const m = new RegExp(`\\n {3}${semantics} +(\\d+) +(\\d+) +(\\d+)\\n`).exec(stdout);
    assert.ok(m, `a row for ${semantics}`);
    return { answered: Number(m[1]), runs: Number(m[2]), counter: Number(m[3]) };
  };
  const maybe = row("maybe");
  const alo = row("at-least-once");
  const amo = row("at-most-once");
  assert.ok(maybe.answered < 300, "maybe loses calls");
  assert.equal(alo.answered, 300);
  assert.ok(alo.runs > 300, "at-least-once runs some calls twice");
  assert.equal(amo.answered, 300);
  assert.equal(amo.runs, 300, "at-most-once runs each call once");
  const eo = row("exactly-once");
  assert.equal(eo.answered, 300);
  assert.equal(eo.runs, 300, "exactly-once runs each call once");
  assert.doesNotMatch(stdout, /unexpected|a call failed/);
});
