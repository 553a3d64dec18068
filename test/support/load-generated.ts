/**
 * Compiles a .x file at test time and imports the module the generator makes
 * of it: `.x` -> TypeScript (src/codegen) -> JavaScript (`ts.transpileModule`)
 * -> dynamic import. The files go to `test/tmp/<unique>/` inside the
 * repository (gitignored), so that the generated `import ... from "once-rpc/xdr"`
 * resolves through the package's self-reference to the runtime in dist/.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { generateModule } from "../../src/codegen/index.js";
import { compileSpecification, DEFAULT_DEFINES } from "../../src/idl/index.js";
import type { XdrCodec } from "../../src/xdr/index.js";
import { repoRoot } from "./paths.js";

let counter = 0;

/**
 * Generates, transpiles and imports the module of `xFile` (absolute, or
 * relative to the repository root). Each call makes a fresh module, so tests
 * that mutate module state do not see each other.
 */
export async function loadGenerated(xFile: string): Promise<Record<string, unknown>> {
  const file = isAbsolute(xFile) ? xFile : join(repoRoot, xFile);
  const resolved = compileSpecification(file, {
    readFile: (path) => readFileSync(path, "utf8"),
    defines: { ...DEFAULT_DEFINES },
    includePaths: [],
  });
  const source = generateModule(resolved);
  const { outputText, diagnostics } = ts.transpileModule(source, {
    fileName: basename(file).replace(/\.x$/, ".ts"),
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
    },
  });
  if (diagnostics && diagnostics.length > 0) {
    const text = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n");
    throw new Error(`generated code for ${xFile} does not transpile:\n${text}`);
  }
  const dir = join(repoRoot, "test", "tmp", `load-${process.pid}-${Date.now().toString(36)}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  const stem = basename(file).replace(/\.x$/, "");
  writeFileSync(join(dir, `${stem}.ts`), source);
  const jsFile = join(dir, `${stem}.mjs`);
  writeFileSync(jsFile, outputText);
  try {
    return (await import(pathToFileURL(jsFile).href)) as Record<string, unknown>;
  } finally {
    // Once imported the module lives in memory; the files are only needed again to debug, so keep them then.
    if (!process.env.KEEP_GENERATED) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The codecs a generated module exports, by the .x type name each carries
 * as its `name` (not by guessing export names).
 */
export function codecsByTypeName(exports: Readonly<Record<string, unknown>>): Map<string, XdrCodec<unknown>> {
  const codecs = new Map<string, XdrCodec<unknown>>();
  for (const [key, value] of Object.entries(exports)) {
    if (!key.endsWith("Codec") || typeof value !== "object" || value === null) continue;
    const c = value as Partial<XdrCodec<unknown>>;
    if (typeof c.name === "string" && typeof c.encode === "function" && typeof c.decode === "function") {
      codecs.set(c.name, c as XdrCodec<unknown>);
    }
  }
  return codecs;
}
