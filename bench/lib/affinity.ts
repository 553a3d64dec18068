/**
 * Where the processes of the RPC benchmark run. On a virtual machine, a
 * process woken on another vCPU waits for that vCPU to be woken too: on the
 * 2-vCPU machine of docs/benchmarks.md that costs about 35 µs each way, and
 * the scheduler decides from run to run whether a client and its server share
 * a core. The benchmark takes that decision itself, with `taskset`: one call
 * at a time runs client and server on one core (what is left is the cost of
 * the call, not of the wake-ups), calls in flight on two (the two sides work
 * in parallel).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The CPUs this process may run on (from `taskset -cp`), or null when taskset is not there. */
export async function allowedCpus(): Promise<number[] | null> {
  try {
    const { stdout } = await run("taskset", ["-cp", String(process.pid)]);
    const list = /list:\s*([\d,-]+)/.exec(stdout)?.[1];
    if (list === undefined) return null;
    const cpus: number[] = [];
    for (const part of list.split(",")) {
      const [from, to] = part.split("-").map(Number);
      for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
    }
    return cpus;
  } catch {
    return null;
  }
}

/** Pins every thread of `pid` to `cpus` (a CPU or a taskset list such as "0,1"); threads made later inherit it. */
export async function pin(pid: number, cpus: number | string): Promise<void> {
  try {
    await run("taskset", ["-a", "-cp", String(cpus), String(pid)]);
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new Error(`taskset -a -cp ${cpus} ${pid} failed: ${err.stderr || err.message || String(e)}`);
  }
}
