/**
 * Every .x file shipped in /usr/include (rpcsvc-proto, libtirpc-dev)
 * compiles with once gen, and the output type-checks under strict tsc.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { generateModule } from "once-rpc/codegen";
import { compileSpecification } from "once-rpc/idl";
import ts from "typescript";
import { repoPath, SYSTEM_X_DIRS } from "../support/paths.js";

const files = SYSTEM_X_DIRS.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".x"))
    .map((f) => join(dir, f)),
).sort();

const outDir = repoPath("test/tmp", `system-${process.pid}`);
after(() => rmSync(outDir, { recursive: true, force: true }));

test("the machine has the real .x files", () => {
  // Debian's rpcsvc-proto ships 17 under rpcsvc; libtirpc-dev ships rpcb_prot.x and crypt.x.
  assert.ok(files.length >= 19, `expected at least 19 .x files, found ${files.length}: ${files.join(", ")}`);
});

test("every system .x file compiles and its module type-checks strictly", () => {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const file of files) {
    const resolved = compileSpecification(file, { readFile: (p) => readFileSync(p, "utf8") });
    const out = join(outDir, basename(file).replace(/\.x$/, ".ts"));
    writeFileSync(out, generateModule(resolved, { sourceName: basename(file) }));
    written.push(out);
  }
  const program = ts.createProgram(written, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noImplicitReturns: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : "";
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
  assert.deepEqual(diagnostics, []);
  assert.equal(written.length, files.length);
});
