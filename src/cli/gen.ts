import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { generateModule } from "../codegen/index.js";
import { DEFAULT_DEFINES, IdlError } from "../idl/index.js";
import { parseCommandLine, UsageError } from "./usage.js";
import { compileXFile, X_FILE_OPTIONS } from "./x-options.js";

const HELP = `Usage: once gen FILE.x... [-o DIR] [-D NAME[=VALUE]]... [-U NAME]... [-I DIR]...

Compiles each .x file (the rpcgen language) into one TypeScript module,
DIR/NAME.ts: types, codecs, constants and a descriptor per program version.

Options:
  -o, --out DIR       where to write the modules (default: the current directory)
  -D, --define N[=V]  define a preprocessor symbol (default view: ${Object.keys(DEFAULT_DEFINES).join(", ")})
  -U, --undefine N    remove a predefined symbol
  -I, --include DIR   search DIR for #include <file>
      --runtime MOD   the module generated code imports the XDR runtime from (default: once-rpc/xdr)
      --rpc MOD       the module it imports the descriptor type from (default: once-rpc/rpc)
      --stdout        print the module instead of writing it (one file only)
  -h, --help          this text

Errors are printed as file:line:col: message, and the exit status is 1.

Examples:
  once gen date.x -o src/gen
  once gen /usr/include/rpcsvc/nfs_prot.x /usr/include/rpcsvc/mount.x -o gen
  once gen -D DEBUG=1 service.x --stdout
`;

/** `once gen`: .x files to TypeScript modules. */
export function runGen(args: string[]): number {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      ...X_FILE_OPTIONS,
      runtime: { type: "string" },
      rpc: { type: "string" },
      stdout: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("no .x file given");
  if (values.stdout && positionals.length > 1) throw new UsageError("--stdout takes one file");

  const outDir = values.out ?? ".";
  let failed = false;
  for (const file of positionals) {
    try {
      const resolved = compileXFile(file, values);
      const text = generateModule(resolved, { runtimeModule: values.runtime, rpcModule: values.rpc });
      if (values.stdout) {
        process.stdout.write(text);
      } else {
        mkdirSync(outDir, { recursive: true });
        writeFileSync(join(outDir, basename(file).replace(/\.x$/, "") + ".ts"), text);
      }
    } catch (e) {
      if (!(e instanceof IdlError)) throw e;
      process.stderr.write(e.message + "\n");
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
