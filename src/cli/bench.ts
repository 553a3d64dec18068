import { UsageError } from "./usage.js";

/** `once bench`: filled in with the benchmark suites. */
export async function runBench(args: string[]): Promise<number> {
  throw new UsageError(`no benchmark suite '${args[0] ?? ""}' yet`);
}
