/**
 * docs/commands.md is every `once` command's --help, verbatim, so the
 * reference on the web and the one in the terminal never differ. After
 * changing a help text, write the page again with
 *   UPDATE_COMMANDS_DOC=1 node --test dist/test/docs/commands.test.js
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { repoPath } from "../support/paths.js";

const once = repoPath("dist/src/cli/main.js");
const page = repoPath("docs/commands.md");

function help(...args: string[]): string {
  return execFileSync(process.execPath, [once, ...args], { encoding: "utf8" });
}

function expectedPage(): string {
  const top = help("--help");
  const commands = [...top.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
  const sections = commands.map(
    (name) => `## once ${name}\n\`\`\`text\n${help(name, "--help").trimEnd()}\n\`\`\`\n`,
  );
  return [
    "# The `once` command\n",
    "Every command's `--help`, as the command prints it (a test keeps this page in step).",
    "Guides: [README.md](../README.md), [guide.md](guide.md).\n",
    `\`\`\`text\n${top.trimEnd()}\n\`\`\`\n`,
    ...sections,
  ].join("\n");
}

test("docs/commands.md is every command's --help", () => {
  const expected = expectedPage();
  if (process.env.UPDATE_COMMANDS_DOC) writeFileSync(page, expected);
  assert.equal(
    readFileSync(page, "utf8"),
    expected,
    "docs/commands.md is stale: UPDATE_COMMANDS_DOC=1 node --test dist/test/docs/commands.test.js",
  );
  assert.match(expected, /## once gen\n/);
  assert.match(expected, /## once proxy\n/);
});
