/**
 * The Node clients of the RPC benchmark, one process each, as a program that
 * uses one RPC library would run: one client's garbage (grpc-js's, say) is
 * never collected on another's time. Worker threads were tried first: in a
 * worker, V8 ran a full mark-compact every ~12 ms under once-rpc's 64 KiB
 * echo (5 ms at the 99th percentile, half the calls/s of the same client in
 * a main thread), which is not what an application would see.
 *
 * Only one client is busy at a time: the benchmark asks for a batch over IPC
 * and waits for its timing, which the client takes itself (no message
 * crosses processes while calls are timed).
 */
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createClient } from "once-rpc";
import { EchoProgV1 } from "../generated/echo.js";
import { type CallSample, driveCalls } from "./calls.js";
import { FloorClient } from "./floor.js";
import { connectGrpc } from "./grpc.js";
import { floorFrame, type Procedure, sampleBulk, sampleSmall } from "./payloads.js";

/** Which client a process runs, and where it sends its calls. */
export type ClientSpec =
  /** once-rpc's createClient on `tcp://…` or `udp://…`. */
  | { readonly kind: "once-rpc"; readonly address: string; readonly procedures: readonly Procedure[] }
  /** The floor's length-prefixed echo on 127.0.0.1:port. */
  | { readonly kind: "floor"; readonly port: number; readonly procedures: readonly Procedure[] }
  /** grpc-js on 127.0.0.1:port. */
  | { readonly kind: "grpc"; readonly port: number; readonly procedures: readonly Procedure[] };

interface BatchRequest {
  readonly id: number;
  readonly procedure: Procedure;
  readonly calls: number;
  readonly inFlight: number;
}

type ClientReply =
  | { readonly id: number; readonly sample: CallSample }
  | { readonly id: number; readonly error: string };

/** A client in a process of its own. */
export class ClientProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve(s: CallSample): void; reject(e: Error): void }>();

  private constructor(child: ChildProcess, exited: Promise<void>) {
    this.#child = child;
    this.#exited = exited;
    child.on("message", (reply: ClientReply) => {
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
    child.on("exit", (code) => fail(new Error(`a client process exited (code ${code})`)));
  }

  /**
   * Forks the client; resolves once it is connected and has echoed every
   * procedure correctly. It inherits this process's CPU affinity and
   * execArgv (so `node --cpu-prof` profiles it too).
   */
  static async start(spec: ClientSpec): Promise<ClientProcess> {
    const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(spec)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let onMessage = (_m: ClientReply) => {};
    let onError = (_e: Error) => {};
    let onExit = (_code: number | null) => {};
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (m) => ("error" in m ? reject(new Error(m.error)) : resolve());
        onError = reject;
        onExit = (code) => reject(new Error(`the ${spec.kind} client exited (code ${code})`));
        child.once("message", onMessage).once("error", onError).once("exit", onExit);
      });
    } catch (error) {
      child.kill();
      throw error;
    } finally {
      child.off("message", onMessage).off("error", onError).off("exit", onExit);
    }
    return new ClientProcess(child, exited);
  }

  /** Times `calls` calls of `procedure` with `inFlight` outstanding. */
  batch(procedure: Procedure, calls: number, inFlight: number): Promise<CallSample> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#child.send({ id, procedure, calls, inFlight } satisfies BatchRequest);
    });
  }

  /** Ends the client process (its socket goes with it). */
  async close(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    await this.#exited;
  }
}

/** In the client process: makes the client, checks its echoes, then runs batches on request. */
async function runClient(spec: ClientSpec): Promise<void> {
  const send = (m: ClientReply) => process.send?.(m);
  const small = sampleSmall();
  const bulk = sampleBulk();
  const calls: { [P in Procedure]?: () => Promise<unknown> } = {};
  if (spec.kind === "once-rpc") {
    const client = createClient(EchoProgV1, spec.address);
    calls.small = () => client.small(small);
    calls.bulk = () => client.bulk(bulk);
    if (spec.procedures.includes("small")) assert.deepEqual(await client.small(small), small, "small echo");
    if (spec.procedures.includes("bulk"))
      assert.deepEqual(Uint8Array.from(await client.bulk(bulk)), bulk, "64 KiB echo");
  } else if (spec.kind === "floor") {
    const client = await FloorClient.connect(spec.port);
    for (const procedure of spec.procedures) {
      const frame = floorFrame(procedure);
      calls[procedure] = () => client.call(frame);
      assert.deepEqual(Uint8Array.from(await client.call(frame)), frame, `${procedure} frame`);
    }
  } else {
    const client = await connectGrpc(spec.port);
    const grpcBulk = { data: bulk };
    calls.small = () => client.small(small);
    calls.bulk = () => client.bulk(grpcBulk);
    if (spec.procedures.includes("small")) {
      const got = await client.small(small);
      assert.deepEqual({ ...got, list: [...got.list] }, small, "small echo");
    }
    if (spec.procedures.includes("bulk"))
      assert.deepEqual(Uint8Array.from((await client.bulk(grpcBulk)).data), bulk, "64 KiB echo");
  }
  process.on("message", (request: BatchRequest) => {
    const call = calls[request.procedure];
    const reply = send;
    if (call === undefined) {
      reply({ id: request.id, error: `${spec.kind}: no ${request.procedure} calls` });
      return;
    }
    driveCalls(call, request.calls, request.inFlight).then(
      (sample) => reply({ id: request.id, sample }),
      (error: unknown) => reply({ id: request.id, error: `${spec.kind}: ${String(error)}` }),
    );
  });
  // The parent going away ends the client, whatever its socket is doing.
  process.once("disconnect", () => process.exit(0));
  send({ id: 0, sample: { calls: 0, elapsedNs: 0, p50Ns: 0, p99Ns: 0 } });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as ClientSpec;
  runClient(spec).catch((error: unknown) => {
    process.send?.({
      id: 0,
      error: `${spec.kind} client: ${error instanceof Error ? error.message : String(error)}`,
    } satisfies ClientReply);
    process.disconnect?.();
  });
}
