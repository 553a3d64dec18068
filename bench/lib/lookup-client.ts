/**
 * once-rpc's client of the binder benchmark, in a process of its own (as
 * the RPC benchmark's clients are, bench/lib/client-process.ts): a typed
 * client of rpcbind version 3 (GETADDR) or of the portmapper (GETPORT),
 * asking in turn for each registered program and checking each answer.
 * The parent asks for a batch over IPC; the child times it itself.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createClient } from "once-rpc";
import { PmapProgV2, RpcbprogV3 } from "once-rpc/binder";
import { type CallSample, driveCalls } from "./calls.js";

/** The registrations looked up: programs progBase … progBase+count-1, version 1, at 127.0.0.1:portBase+i. */
export interface Registrations {
  readonly progBase: number;
  readonly count: number;
  readonly portBase: number;
}

/** What a client asks, of which binder, over which transport. */
export interface LookupSpec extends Registrations {
  /** The binder's port on 127.0.0.1. */
  readonly port: number;
  readonly protocol: "tcp" | "udp";
  /** RPCBPROC_GETADDR (version 3) or PMAPPROC_GETPORT (version 2). */
  readonly procedure: "getaddr" | "getport";
}

/** The universal address registered for the program at `index` (RFC 1833 §2.1: h1.h2.h3.h4.p1.p2). */
export function registeredAddress(r: Registrations, index: number): string {
  const port = r.portBase + index;
  return `127.0.0.1.${port >> 8}.${port & 255}`;
}

interface BatchRequest {
  readonly id: number;
  readonly calls: number;
  readonly inFlight: number;
}

type Reply =
  | { readonly id: number; readonly sample: CallSample }
  | { readonly id: number; readonly error: string };

/** A once-rpc lookup client in a process of its own. */
export class LookupClientProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve(s: CallSample): void; reject(e: Error): void }>();

  private constructor(child: ChildProcess, exited: Promise<void>) {
    this.#child = child;
    this.#exited = exited;
    child.on("message", (reply: Reply) => {
      const waiter = this.#waiting.get(reply.id);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.id);
      if ("sample" in reply) waiter.resolve(reply.sample);
      else waiter.reject(new Error(reply.error));
    });
    const fail = (error: Error) => {
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    child.on("error", fail);
    child.on("exit", (code) => fail(new Error(`a lookup client exited (code ${code})`)));
  }

  /** Forks the client; resolves once it has looked up every registration once and found each right. */
  static async start(spec: LookupSpec): Promise<LookupClientProcess> {
    const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(spec)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let onMessage = (_m: Reply) => {};
    let onError = (_e: Error) => {};
    let onExit = (_code: number | null) => {};
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (m) => ("error" in m ? reject(new Error(m.error)) : resolve());
        onError = reject;
        onExit = (code) => reject(new Error(`the lookup client exited (code ${code})`));
        child.once("message", onMessage).once("error", onError).once("exit", onExit);
      });
    } catch (error) {
      child.kill();
      throw error;
    } finally {
      child.off("message", onMessage).off("error", onError).off("exit", onExit);
    }
    return new LookupClientProcess(child, exited);
  }

  /** Times `calls` lookups with `inFlight` outstanding. */
  batch(calls: number, inFlight: number): Promise<CallSample> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#child.send({ id, calls, inFlight } satisfies BatchRequest);
    });
  }

  /** Ends the client process. */
  async close(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    await this.#exited;
  }
}

/** In the child: one client, a check of every registration, then batches on request. */
async function runClient(spec: LookupSpec): Promise<void> {
  const send = (m: Reply) => process.send?.(m);
  const address = `${spec.protocol}://127.0.0.1:${spec.port}`;
  let lookup: (index: number) => Promise<unknown>;
  let expected: (index: number) => unknown;
  if (spec.procedure === "getaddr") {
    const rpcb = createClient(RpcbprogV3, address);
    const args = Array.from({ length: spec.count }, (_, i) => ({
      r_prog: spec.progBase + i,
      r_vers: 1,
      r_netid: spec.protocol,
      r_addr: "",
      r_owner: "",
    }));
    lookup = (i) => rpcb.getaddr(args[i]);
    expected = (i) => registeredAddress(spec, i);
  } else {
    const pmap = createClient(PmapProgV2, address);
    const prot = spec.protocol === "tcp" ? 6 : 17;
    const args = Array.from({ length: spec.count }, (_, i) => ({
      prog: spec.progBase + i,
      vers: 1,
      prot,
      port: 0,
    }));
    lookup = (i) => pmap.getport(args[i]);
    expected = (i) => spec.portBase + i;
  }
  for (let i = 0; i < spec.count; i++) {
    const got = await lookup(i);
    if (got !== expected(i))
      throw new Error(
        `${spec.procedure} of program ${spec.progBase + i} over ${spec.protocol}: ${String(got)}`,
      );
  }
  let next = 0;
  const call = () => {
    const i = next;
    next = next + 1 === spec.count ? 0 : next + 1;
    return lookup(i);
  };
  process.on("message", (request: BatchRequest) => {
    driveCalls(call, request.calls, request.inFlight).then(
      (sample) => send({ id: request.id, sample }),
      (error: unknown) => send({ id: request.id, error: `once-rpc ${spec.procedure}: ${String(error)}` }),
    );
  });
  process.once("disconnect", () => process.exit(0));
  send({ id: 0, sample: { calls: 0, elapsedNs: 0, p50Ns: 0, p99Ns: 0 } });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LookupSpec;
  runClient(spec).catch((error: unknown) => {
    process.send?.({
      id: 0,
      error: `lookup client: ${error instanceof Error ? error.message : String(error)}`,
    } satisfies Reply);
    process.disconnect?.();
  });
}
