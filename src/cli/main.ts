#!/usr/bin/env node
/**
 * The `once` command: one subcommand per module in this folder.
 */
import { runBench } from "./bench.js";
import { runBinder } from "./binder.js";
import { runCall } from "./call.js";
import { runGen } from "./gen.js";
import { runInfo } from "./info.js";
import { runProxy } from "./proxy.js";
import { UsageError } from "./usage.js";

const COMMANDS: Record<string, { run(args: string[]): Promise<number> | number; summary: string }> = {
  gen: { run: runGen, summary: "compile .x files into TypeScript modules" },
  call: { run: runCall, summary: "call a remote procedure, arguments and result in JSON" },
  bench: { run: runBench, summary: "run the benchmarks and print them side by side" },
  info: { run: runInfo, summary: "list a binder's registrations, as rpcinfo, rpcinfo -s and rpcinfo -p do" },
  binder: { run: runBinder, summary: "run a binder: a drop-in rpcbind (portmapper v2, rpcbind v3 and v4)" },
  proxy: {
    run: runProxy,
    summary: "relay RPC traffic with seeded faults: drop, dup, reorder, delay, corrupt",
  },
};

const HELP = `once: ONC RPC and XDR for TypeScript

Usage: once <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`)
  .join("\n")}

Examples:
  once gen date.x -o src/gen        # date.x to src/gen/date.ts: types, codecs, descriptors
  once call --x date.x --port 4000 DATE_PROG DATE_V2 DATE_NOW
  once binder --listen 127.0.0.1:1111
  once bench rpc --quick            # from a checkout of once-rpc

Run 'once <command> --help' (or 'once help <command>') for its options and examples.
Guides: README.md and docs/, in the package (node_modules/once-rpc/docs).
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0])) {
    // 'once help gen' is 'once gen --help'.
    return main([rest[0], "--help"]);
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`once: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`once ${name}: ${e.message}\nRun 'once ${name} --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
