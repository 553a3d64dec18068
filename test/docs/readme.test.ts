/**
 * README.md's code blocks, run in order as a newcomer would: the checkout
 * is this repository and the directory above it is a temporary one, so
 * `cd ..` from the checkout lands there. Files are written from the blocks
 * that name them in their first line (`// server.ts`); the one ```c block
 * is date.x. Every ```sh, ```ts, ```c and ```json block must be used, and
 * a plain block right after a ```sh block is that block's output, compared
 * with what the commands printed (digits, weekdays and months may differ).
 *
 * What is not run as written, and why:
 * - `npm install` in the checkout, `npm run NAME` and `npm test`: the test
 *   runs inside `npm test`, after the build; they are checked to exist.
 * - `npm pack --pack-destination ..` packs into the temporary directory.
 * - `npm install --save-dev typescript @types/node` needs the registry; the
 *   project gets the checkout's own copies (node_modules links), and every
 *   other npm command runs offline.
 * - `node X.js PORT &` starts the server on port 0; PORT in later commands
 *   is the port it printed. `kill %1` stops it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";
import { repoPath, repoRoot } from "../support/paths.js";

interface Block {
  readonly lang: string;
  readonly body: string;
  /** Line of the opening fence in README.md. */
  readonly line: number;
  /** Only blank lines between this block and the one before. */
  readonly followsDirectly: boolean;
}

const readme = readFileSync(repoPath("README.md"), "utf8");
const blocks: Block[] = [];
{
  let end = -1;
  for (const m of readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    blocks.push({
      lang: m[1],
      body: m[2],
      line: readme.slice(0, m.index).split("\n").length,
      followsDirectly: end >= 0 && readme.slice(end, m.index).trim() === "",
    });
    end = m.index + m[0].length;
  }
}

const scripts = (
  JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
const parent = mkdtempSync(join(tmpdir(), "once-readme-"));
const background: ChildProcess[] = [];
after(() => {
  for (const child of background)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(parent, { recursive: true, force: true });
});

const env = {
  ...process.env,
  npm_config_cache: join(parent, ".npm-cache"),
  npm_config_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

/** Where the commands run, and the ports of servers started in the background, by the port the README gave. */
const state = { cwd: repoRoot, ports: new Map<string, string>() };

const WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday";
const MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December";

/** The README's sample output as a pattern: digits, weekdays and months stand for any. */
function outputPattern(text: string): RegExp {
  const lines = text
    .trimEnd()
    .split("\n")
    .map((l) =>
      l
        .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        .replace(/\d+/g, "\\d+")
        .replace(new RegExp(`\\b(${WEEKDAYS}|${MONTHS})\\b`, "g"), "\\w+"),
    );
  return new RegExp(`^${lines.join("\n")}\n$`);
}

/** Runs one command of a ```sh block; returns what it printed. */
async function runCommand(given: string, where: string): Promise<string> {
  const inCheckout = state.cwd === repoRoot;
  let command = given;
  const script = /^npm (?:run (\S+)|(test))$/.exec(command);
  const cd = /^cd (\S+)$/.exec(command);
  const server = /^node (\S+\.js) (\d+) &$/.exec(command);
  if (inCheckout && command === "npm install") return "";
  if (inCheckout && script) {
    const name = script[1] ?? script[2];
    assert.ok(Object.hasOwn(scripts, name), `${where}: package.json has no script '${name}'`);
    return "";
  }
  if (cd) {
    const to = cd[1] === ".." && inCheckout ? parent : resolve(state.cwd, cd[1]);
    assert.ok(existsSync(to), `${where}: ${command}: no such directory`);
    state.cwd = to;
    return "";
  }
  if (command === "npm install --save-dev typescript @types/node") {
    for (const name of ["typescript", "@types/node"]) {
      const link = join(state.cwd, "node_modules", name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(repoPath("node_modules", name), link, "dir");
    }
    mkdirSync(join(state.cwd, "node_modules/.bin"), { recursive: true });
    symlinkSync("../typescript/bin/tsc", join(state.cwd, "node_modules/.bin/tsc"));
    return "";
  }
  if (server) {
    const child = spawn(process.execPath, [server[1], "0"], {
      cwd: state.cwd,
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    background.push(child);
    let out = "";
    const port = await new Promise<string>((resolvePort, reject) => {
      child.stdout?.on("data", (b: Buffer) => {
        out += b.toString("utf8");
        const p = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
        if (p) resolvePort(p);
      });
      child.once("exit", (code) => reject(new Error(`${where}: ${command} exited (${code}): ${out}`)));
    });
    state.ports.set(server[2], port);
    return "";
  }
  if (command === "kill %1") {
    const child = background.shift();
    assert.ok(child, `${where}: kill %1 with no job in the background`);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
    return "";
  }
  if (inCheckout && command === "npm pack --pack-destination ..") {
    command = `npm pack --pack-destination ${JSON.stringify(parent)}`;
  }
  for (const [readmePort, actual] of state.ports) {
    command = command.replace(new RegExp(`\\b${readmePort}\\b`, "g"), actual);
  }
  const r = spawnSync("sh", ["-c", command], { cwd: state.cwd, env, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `${where}: ${command} exited with ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("README.md has the blocks of the quickstart", () => {
  const langs = blocks.map((b) => b.lang);
  for (const lang of ["sh", "c", "ts", "json"]) assert.ok(langs.includes(lang), `a \`\`\`${lang} block`);
  for (const b of blocks) {
    assert.ok(
      ["", "sh", "c", "ts", "json"].includes(b.lang),
      `README.md:${b.line}: no test runs a \`\`\`${b.lang} block`,
    );
  }
});

test("every code block of README.md runs, in order", async () => {
  let lastOutput: string | undefined;
  for (const block of blocks) {
    const where = `README.md:${block.line}`;
    if (block.lang === "") {
      // A plain block right after a ```sh block is what those commands print; other plain blocks are text.
      if (block.followsDirectly && lastOutput !== undefined) {
        assert.match(
          lastOutput,
          outputPattern(block.body),
          `${where}: the output shown is what the commands print`,
        );
      }
      lastOutput = undefined;
      continue;
    }
    lastOutput = undefined;
    if (block.lang === "c") {
      assert.equal(
        block.body,
        readFileSync(repoPath("examples/date/date.x"), "utf8"),
        `${where} is examples/date/date.x`,
      );
      assert.notEqual(state.cwd, repoRoot, `${where}: date.x is written in the new project`);
      writeFileSync(join(state.cwd, "date.x"), block.body);
    } else if (block.lang === "ts" || block.lang === "json") {
      const name = /^\/\/ (\S+\.(?:ts|json))\b/.exec(block.body)?.[1];
      assert.ok(name, `${where}: the first line names the file: // NAME.${block.lang}`);
      writeFileSync(join(state.cwd, name), block.body);
    } else {
      let output = "";
      for (const line of block.body.split("\n")) {
        const command = line.replace(/\s+#\s.*$/, "").trim();
        if (command === "") continue;
        for (const part of command.split(" && ")) output += await runCommand(part, where);
      }
      lastOutput = output;
    }
  }
  assert.equal(background.length, 0, "every server started in the background was stopped");
  assert.ok(existsSync(join(parent, "hello/gen/date.ts")), "once gen wrote gen/date.ts");
});
