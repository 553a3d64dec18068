/**
 * The Node clients of the RPC benchmark, one worker thread each. A worker
 * has its own V8 heap, so one client's garbage (grpc-js's, say) is never
 * collected on another's time, and the heap each one grows is its own, as in
 * a process that uses one RPC library. Only one worker is busy at a time:
 * the main thread asks for a batch and waits for its timing, which the
 * worker takes itself (no message crosses threads while calls are timed).
 */
import assert from "node:assert/strict";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createClient } from "once-rpc";
import { EchoProgV1 } from "../generated/echo.js";
import { type CallSample, driveCalls } from "./calls.js";
import { FloorClient } from "./floor.js";
import { connectGrpc } from "./grpc.js";
import { floorFrame, type Procedure, sampleBulk, sampleSmall } from "./payloads.js";

/** Which client a worker runs, and where it sends its calls. */
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

type WorkerReply =
  | { readonly id: number; readonly sample: CallSample }
  | { readonly id: number; readonly error: string };

/** A client in a worker thread. */
export class ClientWorker {
  readonly #worker: Worker;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve(s: CallSample): void; reject(e: Error): void }>();

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (reply: WorkerReply) => {
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
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`a client worker exited (${code})`)));
  }

  /** Starts the worker; resolves once its client is connected and has echoed every procedure correctly. */
  static async start(spec: ClientSpec): Promise<ClientWorker> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { benchClient: spec } });
    // Only our own listeners are removed: Worker keeps its port referenced through listeners of its own.
    let onMessage = (_m: WorkerReply) => {};
    let onError = (_e: Error) => {};
    let onExit = (_code: number) => {};
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (m) => ("error" in m ? reject(new Error(m.error)) : resolve());
        onError = reject;
        onExit = (code) => reject(new Error(`the ${spec.kind} client worker exited (${code})`));
        worker.once("message", onMessage).once("error", onError).once("exit", onExit);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    } finally {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
    }
    return new ClientWorker(worker);
  }

  /** Times `calls` calls of `procedure` with `inFlight` outstanding. */
  batch(procedure: Procedure, calls: number, inFlight: number): Promise<CallSample> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, procedure, calls, inFlight } satisfies BatchRequest);
    });
  }

  /** Ends the worker (its client's socket goes with it). */
  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

/** In the worker: makes the client, checks its echoes, then runs batches on request. */
async function runWorker(spec: ClientSpec): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error("not a worker");
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
  port.on("message", (request: BatchRequest) => {
    const call = calls[request.procedure];
    const reply = (m: WorkerReply) => port.postMessage(m);
    if (call === undefined) {
      reply({ id: request.id, error: `${spec.kind}: no ${request.procedure} calls` });
      return;
    }
    driveCalls(call, request.calls, request.inFlight).then(
      (sample) => reply({ id: request.id, sample }),
      (error: unknown) => reply({ id: request.id, error: `${spec.kind}: ${String(error)}` }),
    );
  });
  port.postMessage({ id: 0, sample: { calls: 0, elapsedNs: 0, p50Ns: 0, p99Ns: 0 } } satisfies WorkerReply);
}

const startedAs = (workerData as { benchClient?: ClientSpec } | null)?.benchClient;
if (!isMainThread && startedAs !== undefined) {
  const spec = startedAs;
  runWorker(spec).catch((error: unknown) =>
    parentPort?.postMessage({
      id: 0,
      error: `${spec.kind} client: ${error instanceof Error ? error.message : String(error)}`,
    } satisfies WorkerReply),
  );
}
