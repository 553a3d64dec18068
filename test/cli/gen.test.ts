/** `once gen` as a user runs it: files in, modules out, located errors and exit statuses. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { repoPath } from "../support/paths.js";

const once = repoPath("dist/src/cli/main.js");
const work = mkdtempSync(join(tmpdir(), "once-gen-"));
after(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [once, ...args], { cwd: work, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("writes one module per .x file into -o DIR", () => {
  const r = run("gen", repoPath("examples/date/date.x"), "/usr/include/rpcsvc/mount.x", "-o", "out");
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(join(work, "out/date.ts"), "utf8"), /export const DateProgV2 = \{/);
  assert.match(readFileSync(join(work, "out/mount.ts"), "utf8"), /export const MountprogV1 = \{/);
});

test("prints file:line:col: message for every error and exits with 1", () => {
  const bad = join(work, "bad.x");
  writeFileSync(bad, "struct a {\n  int x;\n  fhandel h;\n};\nconst B = C;\nstruct q { quadruple z; };\n");
  const r = run("gen", bad, "-o", "out2");
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split("\n");
  assert.ok(
    lines.some((l) => l.startsWith(`${bad}:3:3: `) && l.includes("fhandel")),
    r.stderr,
  );
  assert.ok(
    lines.some((l) => l.startsWith(`${bad}:5:`) && l.includes("'C'")),
    r.stderr,
  );
  assert.ok(
    lines.some((l) => l.startsWith(`${bad}:6:`) && /quadruple is not supported/.test(l)),
    r.stderr,
  );
  assert.equal(existsSync(join(work, "out2/bad.ts")), false, "no module is written for a file with errors");
});

test("a syntax error names what was expected", () => {
  const bad = join(work, "syntax.x");
  writeFileSync(bad, "struct a {\n  int x\n  int y;\n};\n");
  const r = run("gen", bad, "--stdout");
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^${bad.replace(/[.]/g, "\\.")}:3:\\d+: .*expected ';'`));
});

test("-D defines a preprocessor symbol; --stdout prints the module", () => {
  const x = join(work, "cond.x");
  writeFileSync(x, "#ifdef WIDE\nconst SIZE = 64;\n#else\nconst SIZE = 8;\n#endif\n");
  assert.match(run("gen", x, "--stdout").stdout, /export const SIZE = 8;/);
  assert.match(run("gen", x, "--stdout", "-D", "WIDE").stdout, /export const SIZE = 64;/);
});

test("usage errors exit with 2 and point to --help; --help exits with 0", () => {
  const none = run("gen");
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no \.x file given/);
  assert.match(none.stderr, /once gen --help/);
  assert.equal(run("gen", "--bogus", "x.x").status, 2);
  const help = run("gen", "--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples:/);
  assert.equal(run("frobnicate").status, 2);
  assert.equal(run("--help").status, 0);
});

test("a file that does not exist is reported, not a crash", () => {
  const r = run("gen", "missing.x");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing\.x.*cannot read/);
});
