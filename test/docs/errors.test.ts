/** docs/errors.md lists exactly the error codes the code has. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { RPC_ERROR_CODES } from "once-rpc/rpc";
import { XDR_ERROR_CODES } from "once-rpc/xdr";
import { repoPath } from "../support/paths.js";

function codesInSection(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`## ${heading}`);
  assert.ok(start >= 0, `docs/errors.md has no section '${heading}'`);
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
}

test("docs/errors.md lists every XdrError code and no other", () => {
  const documented = codesInSection(readFileSync(repoPath("docs/errors.md"), "utf8"), "XdrError");
  assert.deepEqual([...documented].sort(), Object.keys(XDR_ERROR_CODES).sort());
});

test("docs/errors.md lists every RpcError code and no other", () => {
  const documented = codesInSection(readFileSync(repoPath("docs/errors.md"), "utf8"), "RpcError");
  assert.deepEqual([...documented].sort(), Object.keys(RPC_ERROR_CODES).sort());
});
