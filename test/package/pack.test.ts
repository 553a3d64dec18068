/**
 * The package as a stranger gets it: `npm pack` of the built repository,
 * installed into a new project (no network: once-rpc has no runtime
 * dependencies), `npx once gen some.x -o gen` there, and a server and client
 * that import `once-rpc` by name, type-checked by tsc against the installed
 * declarations alone and then run.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { repoPath, repoRoot } from "../support/paths.js";

const work = mkdtempSync(join(tmpdir(), "once-pack-"));
const project = join(work, "project");
after(() => rmSync(work, { recursive: true, force: true }));

interface RepoPackage {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string }>;
  dependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  peerDependencies?: Record<string, string>;
}
const repoPackage = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as RepoPackage;

/** Runs a command to its end; npm and npx get a cache of their own and no registry. */
function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: {
      ...process.env,
      npm_config_cache: join(work, "npm-cache"),
      npm_config_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

function ok(r: ReturnType<typeof run>, what: string): string {
  assert.equal(r.error, undefined, `${what}: ${r.error}`);
  assert.equal(r.status, 0, `${what} exited with ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** What `npm pack --json` says it put in the tarball. */
let packed: { filename: string; files: { path: string; mode: number }[] };

before(() => {
  const out = ok(run("npm", ["pack", "--json", "--pack-destination", work], repoRoot), "npm pack");
  packed = (JSON.parse(out) as (typeof packed)[])[0];
});

test("the tarball holds the bin, every export's code and declarations, and no tests", () => {
  const paths = new Set(packed.files.map((f) => f.path));
  const bin = repoPackage.bin.once.replace(/^\.\//, "");
  assert.ok(paths.has(bin), `bin ${bin} is packed`);
  const binFile = packed.files.find((f) => f.path === bin);
  assert.ok(binFile && (binFile.mode & 0o111) !== 0, "the bin is executable");
  assert.match(readFileSync(repoPath(bin), "utf8"), /^#!\/usr\/bin\/env node\n/);
  for (const [subpath, target] of Object.entries(repoPackage.exports)) {
    for (const file of [target.types, target.default]) {
      assert.ok(paths.has(file.replace(/^\.\//, "")), `export ${subpath}: ${file} is packed`);
    }
  }
  assert.ok(paths.has("README.md"));
  const strays = [...paths].filter((p) => /(^|\/)test\/|\.test\.|^src\/|^examples\/|^bench\//.test(p));
  assert.deepEqual(strays, [], "no tests, sources or benchmarks in the tarball");
  // With no runtime dependencies the package installs offline; a new one would need the network here.
  assert.deepEqual(repoPackage.dependencies ?? {}, {});
  // Peers are optional (better-sqlite3 for the exactly-once store): npm leaves them out.
  for (const peer of Object.keys(repoPackage.peerDependencies ?? {})) {
    assert.equal(repoPackage.peerDependenciesMeta?.[peer]?.optional, true, `${peer} is an optional peer`);
  }
});

const SOME_X = `/* some.x: a small counter service */
const MAX_NAME = 32;

enum op { OP_ADD = 1, OP_SUB = 2 };
typedef string names<>;

struct change {
  string counter<MAX_NAME>;
  op what;
  hyper amount;
};

union change_result switch (int status) {
case 0:
  hyper value;
default:
  string reason<>;
};

program COUNTER_PROG {
  version COUNTER_V1 {
    change_result COUNTER_CHANGE(change) = 1;
    names COUNTER_NAMES(void) = 2;
  } = 1;
} = 0x20000a11;
`;

// Every subpath export, imported by name, so that tsc checks every declaration file they reach.
const MAIN_TS = `import { createClient, createServer, RpcError } from "once-rpc";
import * as binder from "once-rpc/binder";
import * as client from "once-rpc/client";
import * as codegen from "once-rpc/codegen";
import * as idl from "once-rpc/idl";
import * as json from "once-rpc/json";
import * as proxy from "once-rpc/proxy";
import * as rpc from "once-rpc/rpc";
import * as server from "once-rpc/server";
import * as transport from "once-rpc/transport";
import * as xdr from "once-rpc/xdr";
import { type ChangeResult, CounterProgV1, Op } from "./gen/some.js";

const counters = new Map<string, bigint>();
const service = createServer().addProgram(CounterProgV1, {
  change: (c): ChangeResult => {
    const now = counters.get(c.counter) ?? 0n;
    const next = c.what === Op.OP_ADD ? now + c.amount : now - c.amount;
    if (next < 0n) return { status: 1, reason: \`\${c.counter} would go below zero\` };
    counters.set(c.counter, next);
    return { status: 0, value: next };
  },
  names: () => [...counters.keys()].join(","),
});
const address = await service.listen("tcp://127.0.0.1:0");
const counter = createClient(CounterProgV1, address);
const results: string[] = [];
for (const amount of [5n, 7n]) {
  const r = await counter.change({ counter: "apples", what: Op.OP_ADD, amount }, { timeoutMs: 5000 });
  results.push("value" in r ? \`value \${r.value}\` : \`refused \${r.reason}\`);
}
const refused = await counter.change({ counter: "apples", what: Op.OP_SUB, amount: 100n });
// A default arm's discriminant is any int, 0 included, so the arm's field is what tells them apart.
results.push("value" in refused ? \`value \${refused.value}\` : \`refused \${refused.reason}\`);
results.push(\`names \${await counter.names()}\`);
const modules = [binder, client, codegen, idl, json, proxy, rpc, server, transport, xdr];
results.push(\`modules \${modules.filter((m) => Object.keys(m).length > 0).length}\`);
results.push(\`RpcError \${typeof RpcError}\`);
console.log(results.join("\\n"));
counter.$close();
await service.close();
`;

test("installs into a new project, where once gen, tsc and the program work", () => {
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "counter", version: "1.0.0", private: true, type: "module" }, null, 2),
  );
  ok(run("npm", ["install", "--no-save", join(work, packed.filename)], project), "npm install <tarball>");
  assert.ok(existsSync(join(project, "node_modules/.bin/once")), "the once command is linked");
  assert.ok(statSync(join(project, "node_modules/once-rpc/dist/src/index.d.ts")).isFile());

  // The generator as a user runs it: npx finds the installed bin.
  writeFileSync(join(project, "some.x"), SOME_X);
  ok(run("npx", ["--no-install", "once", "gen", "some.x", "-o", "gen"], project), "npx once gen");
  const generated = readFileSync(join(project, "gen/some.ts"), "utf8");
  const imports = [...generated.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  assert.ok(imports.length > 0, "the module imports the runtime");
  for (const specifier of imports) {
    const subpath = specifier.replace(/^once-rpc/, ".");
    assert.ok(
      specifier.startsWith("once-rpc") && Object.hasOwn(repoPackage.exports, subpath),
      `generated code imports ${specifier}, which the package exports`,
    );
  }

  // Type-check against the installed declarations only: the project has no path into the repository
  // but the TypeScript compiler and Node's types (which every Node project has).
  writeFileSync(join(project, "main.ts"), MAIN_TS);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        verbatimModuleSyntax: true,
        skipLibCheck: false,
        typeRoots: [repoPath("node_modules/@types")],
        types: ["node"],
        outDir: "out",
      },
      include: ["main.ts", "gen"],
    }),
  );
  ok(run(process.execPath, [repoPath("node_modules/typescript/bin/tsc"), "-p", "."], project), "tsc");

  const out = ok(run(process.execPath, ["out/main.js"], project), "node out/main.js");
  assert.equal(
    out,
    "value 5\nvalue 12\nrefused apples would go below zero\nnames apples\nmodules 10\nRpcError function\n",
  );
});

test("the installed once answers --help", () => {
  const out = ok(run("npx", ["--no-install", "once", "--help"], project), "npx once --help");
  assert.match(out, /Usage: once <command>/);
  assert.match(out, /\bgen\b/);
});
