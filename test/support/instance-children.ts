/**
 * Servers in child Node processes that register themselves as instances
 * with one or more binders (registerInstance), so that a test can kill one
 * with SIGKILL as a crash would. Each serves WHO_PROG version 1, whose WHO
 * procedure answers the child's pid: the caller sees which instance ran a
 * call. A child exits when its stdin closes, so it never outlives its test.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { pathToFileURL } from "node:url";
import { type ProgramVersionDescriptor, xdrInt, xdrVoid } from "once-rpc";
import { repoPath } from "./paths.js";

/** The program the children serve: WHO() answers the server's pid. */
export function whoProgram(program: number) {
  return {
    programName: "WHO_PROG",
    program,
    versionName: "WHO_V1",
    version: 1,
    procedures: { who: { name: "WHO", number: 1, args: xdrVoid, result: xdrInt } },
  } as const satisfies ProgramVersionDescriptor;
}

const CHILD = `
const [serverUrl, binderUrl, protocol, binders, program, leaseMs] = process.argv.slice(1);
const { createServer, silentLogger, xdrInt, xdrVoid } = await import(serverUrl);
const { registerInstance } = await import(binderUrl);
const server = createServer({ logger: silentLogger }).addProgram(
  { programName: "WHO_PROG", program: Number(program), versionName: "WHO_V1", version: 1,
    procedures: { who: { name: "WHO", number: 1, args: xdrVoid, result: xdrInt } } },
  { who: () => process.pid },
);
const address = await server.listen(protocol + "://127.0.0.1:0");
const ids = [];
for (const binder of binders.split(",")) {
  const registered = await registerInstance(server, { binder, name: "who", leaseMs: Number(leaseMs), onError: () => {} });
  ids.push(registered.instances[0].id);
}
process.stdout.write(JSON.stringify({ port: address.port, ids }) + "\\n");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

/** A child server and what it registered. */
export interface InstanceChild {
  readonly process: ChildProcessWithoutNullStreams;
  readonly pid: number;
  readonly port: number;
  /** Its instance id at each binder, in the order the binders were given. */
  readonly ids: readonly string[];
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

/** Options of startInstanceChild. */
export interface InstanceChildOptions {
  /** The binders to register with (`tcp://127.0.0.1:P`). */
  readonly binders: readonly string[];
  readonly program: number;
  readonly protocol?: "tcp" | "udp";
  /** The lease to ask for; 0 (the default): none, only health checks. */
  readonly leaseMs?: number;
}

/** Starts a child, resolving once it serves and has registered. */
export async function startInstanceChild(options: InstanceChildOptions): Promise<InstanceChild> {
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      CHILD,
      pathToFileURL(repoPath("dist/src/index.js")).href,
      pathToFileURL(repoPath("dist/src/binder/index.js")).href,
      options.protocol ?? "tcp",
      options.binders.join(","),
      String(options.program),
      String(options.leaseMs ?? 0),
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.stdin.on("error", () => {});
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the child printed nothing within 10 s; stderr:\n${stderr}`));
    }, 10_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf("\n")));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the child exited (${code}, ${signal}) before it was ready; stderr:\n${stderr}`));
    });
  });
  const { port, ids } = JSON.parse(line) as { port: number; ids: string[] };
  return {
    process: child,
    pid: child.pid as number,
    port,
    ids,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
}
