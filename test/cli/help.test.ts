/**
 * `once --help` and `once <command> --help`: every command the top-level
 * help lists has a help of its own that exits 0, shows its usage and gives
 * examples that use only options the help describes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { repoPath } from "../support/paths.js";

const once = repoPath("dist/src/cli/main.js");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [once, ...args], { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The lines under `Examples…:` up to the next blank line. */
function examples(help: string): string[] {
  const m = /^Examples[^\n]*:\n((?: {2}\S[^\n]*\n)+)/m.exec(help);
  return m ? m[1].trimEnd().split("\n") : [];
}

/** The commands `once --help` lists: the indented words under `Commands:`. */
function listedCommands(help: string): string[] {
  const m = /^Commands:\n((?: {2}\S[^\n]*\n)+)/m.exec(help);
  assert.ok(m, "once --help has a Commands: section");
  return m[1]
    .trimEnd()
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0]);
}

const top = run("--help");

test("once --help lists the commands with examples and exits 0", () => {
  assert.equal(top.status, 0, top.stderr);
  assert.equal(top.stderr, "");
  assert.match(top.stdout, /^once: /);
  assert.match(top.stdout, /^Usage: once <command>/m);
  const commands = listedCommands(top.stdout);
  for (const name of ["gen", "call", "bench", "binder"]) assert.ok(commands.includes(name), `lists ${name}`);
  const lines = examples(top.stdout);
  assert.ok(lines.length >= 3, "at least three examples");
  for (const line of lines) {
    const used = /^ {2}once (\S+)/.exec(line)?.[1];
    assert.ok(used && commands.includes(used), `example '${line.trim()}' uses a listed command`);
  }
  assert.equal(run("-h").stdout, top.stdout);
  assert.equal(run("help").stdout, top.stdout);
});

test("once without a command prints the help and exits 2; an unknown command exits 2", () => {
  const bare = run();
  assert.equal(bare.status, 2);
  assert.equal(bare.stdout, top.stdout);
  for (const name of ["frobnicate", "constructor", "toString"]) {
    const r = run(name);
    assert.equal(r.status, 2, `once ${name}`);
    assert.match(r.stderr, new RegExp(`^once: unknown command '${name}'`));
  }
});

for (const name of listedCommands(top.stdout)) {
  test(`once ${name} --help shows its usage and examples and exits 0`, () => {
    const r = run(name, "--help");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, new RegExp(`^Usage: once ${name}\\b`));
    const lines = examples(r.stdout);
    const own = lines.filter((l) => l.startsWith(`  once ${name}`));
    assert.ok(own.length >= 2, `at least two examples of once ${name}:\n${r.stdout}`);
    // Every option an example uses is described in the help above the examples.
    const described = r.stdout.slice(0, r.stdout.indexOf("\nExamples"));
    for (const line of own) {
      for (const option of line.replace(/#.*/, "").match(/(?<=\s)--?[a-zA-Z][\w-]*/g) ?? []) {
        assert.ok(
          new RegExp(`(^|[\\s,])${option}(?![\\w-])`).test(described),
          `'${line.trim()}' uses ${option}, which the help does not describe`,
        );
      }
    }
    assert.equal(run(name, "-h").stdout, r.stdout, `once ${name} -h`);
    assert.equal(run("help", name).stdout, r.stdout, `once help ${name}`);
  });
}
