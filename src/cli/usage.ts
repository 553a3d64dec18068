import { type ParseArgsConfig, parseArgs } from "node:util";

/** A command line the command cannot make sense of: printed with a pointer to --help, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** `util.parseArgs` with its errors turned into UsageError. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}
