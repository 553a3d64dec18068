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
  assert.doesNotMatch(stdout, /unexpected/);
});
