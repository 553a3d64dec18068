/**
 * Generates, transpiles and imports the TypeScript module of a `.x` file at
 * test time: `.x` -> src/idl -> src/codegen -> `ts.transpileModule` -> import().
 *
 * The files go to a fresh `test/tmp/<unique>/` inside the repository
 * (gitignored), because the generated `import … from "once-rpc/xdr"` resolves
 * through the package's self-reference only from inside it. They are removed
 * as soon as the module is imported.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { generateModule } from "../../src/codegen/index.js";
import { compileSpecification, type ResolvedSpecification } from "../../src/idl/index.js";
import type { XdrCodec } from "../../src/xdr/index.js";
import { repoRoot } from "../support/paths.js";

/** A generated module, imported, with the specification it came from. */
export interface GeneratedModule {
  readonly resolved: ResolvedSpecification;
  readonly exports: Readonly<Record<string, unknown>>;
  /** The codec the module exports for the .x type `typeName` (found by the codec's `name`). */
  codec(typeName: string): XdrCodec<unknown>;
}

let counter = 0;

/** Compiles `xFile` and imports its generated module. */
export async function importGeneratedModule(xFile: string): Promise<GeneratedModule> {
  const resolved = compileSpecification(xFile, { readFile: (path) => readFileSync(path, "utf8") });
  const source = generateModule(resolved);
  const stem = basename(xFile).replace(/\.x$/, "");
  const { outputText, diagnostics } = ts.transpileModule(source, {
    fileName: `${stem}.ts`,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
    },
  });
  if (diagnostics !== undefined && diagnostics.length > 0) {
    const text = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n");
    throw new Error(`the module generated from ${xFile} does not transpile:\n${text}`);
  }
  const dir = join(repoRoot, "test", "tmp", `interop-${process.pid}-${Date.now().toString(36)}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  let exports: Record<string, unknown>;
  try {
    const jsFile = join(dir, `${stem}.mjs`);
    writeFileSync(jsFile, outputText);
    exports = (await import(pathToFileURL(jsFile).href)) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const codecs = new Map<string, XdrCodec<unknown>>();
  for (const [key, value] of Object.entries(exports)) {
    if (!key.endsWith("Codec") || typeof value !== "object" || value === null) continue;
    const c = value as Partial<XdrCodec<unknown>>;
    if (typeof c.name === "string" && typeof c.encode === "function" && typeof c.decode === "function") {
      codecs.set(c.name, c as XdrCodec<unknown>);
    }
  }
  return {
    resolved,
    exports,
    codec(typeName) {
      const c = codecs.get(typeName);
      if (c === undefined)
        throw new Error(`the module generated from ${xFile} has no codec for '${typeName}'`);
      return c;
    },
  };
}
