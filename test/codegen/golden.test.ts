/**
 * Golden files: the generator's output for a few fixtures, committed, so a
 * change to the output is seen in review. The golden modules are also
 * compiled by the project's strict tsconfig, which type-checks them.
 * Regenerate with UPDATE_GOLDEN=1 npm test.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { test } from "node:test";
import { generateModule } from "once-rpc/codegen";
import { compileSpecification } from "once-rpc/idl";
import { repoPath } from "../support/paths.js";

const FIXTURES = [
  repoPath("test/fixtures/everything.x"),
  repoPath("test/fixtures/nested.x"),
  "/usr/include/rpcsvc/mount.x",
  "/usr/include/tirpc/rpc/rpcb_prot.x",
];

for (const file of FIXTURES) {
  test(`golden output for ${basename(file)}`, () => {
    const resolved = compileSpecification(file, { readFile: (p) => readFileSync(p, "utf8") });
    const actual = generateModule(resolved, { sourceName: basename(file) });
    const goldenFile = repoPath("test/golden", basename(file).replace(/\.x$/, ".ts"));
    if (process.env.UPDATE_GOLDEN) writeFileSync(goldenFile, actual);
    const expected = readFileSync(goldenFile, "utf8");
    assert.equal(
      actual,
      expected,
      `${goldenFile} is out of date: run UPDATE_GOLDEN=1 npm test and review the diff`,
    );
  });
}

test("generation is deterministic", () => {
  const file = repoPath("test/fixtures/everything.x");
  const once = () =>
    generateModule(compileSpecification(file, { readFile: (p) => readFileSync(p, "utf8") }), {
      sourceName: "everything.x",
    });
  assert.equal(once(), once());
});

test("the committed example modules are what once gen makes of their .x files", () => {
  for (const [x, ts] of [["examples/date/date.x", "examples/date/gen/date.ts"]]) {
    const resolved = compileSpecification(repoPath(x), { readFile: (p) => readFileSync(p, "utf8") });
    const expected = readFileSync(repoPath(ts), "utf8");
    assert.equal(
      generateModule(resolved, { sourceName: basename(x) }),
      expected,
      `${ts} is stale: run once gen ${x} -o ${ts.replace(/\/[^/]*$/, "")}`,
    );
  }
});
