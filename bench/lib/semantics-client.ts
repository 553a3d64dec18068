/**
 * The counter client of the semantics benchmark, in a process of its own (as
 * the RPC benchmark's clients are, client-process.ts): one channel to one
 * server with one semantics for all its calls, everything else at its
 * defaults (a deadline of 30 s; retransmission after 500 ms for every
 * semantics but maybe). Before it is timed it checks that the server speaks
 * what the semantics needs (the session probe's features, so no silent
 * fall back is measured) and that two calls add up. The parent asks for a
 * batch over IPC; the child times it itself.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createChannel,
  createClient,
  ONCE_FEATURE_AT_MOST_ONCE,
  ONCE_FEATURE_EXACTLY_ONCE,
  type Semantics,
} from "once-rpc";
import { type CallSample, driveCalls } from "./calls.js";
import { type CounterProcedure, CounterV1 } from "./counter.js";

/** What a client calls, where, under which semantics. */
export interface SemanticsClientSpec {
  /** `tcp://127.0.0.1:P` or `udp://127.0.0.1:P`. */
  readonly address: string;
  readonly semantics: Semantics;
  readonly procedure: CounterProcedure;
  /** Every call in the session flavor (`ChannelOptions.session`), whatever its semantics. Default false. */
  readonly session?: boolean;
}

interface Request {
  readonly id: number;
  /** A batch of this many calls; 0: report the calls answered so far. */
  readonly calls: number;
  readonly inFlight: number;
}

type Reply =
  | { readonly id: number; readonly sample: CallSample; readonly answered: number }
  | { readonly id: number; readonly error: string };

/** A counter client in a process of its own. */
export class SemanticsClientProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();

  private constructor(child: ChildProcess, exited: Promise<void>) {
    this.#child = child;
    this.#exited = exited;
    child.on("message", (reply: Reply) => {
      const waiter = this.#waiting.get(reply.id);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.id);
      if ("sample" in reply) waiter.resolve(reply);
      else waiter.reject(new Error(reply.error));
    });
    const fail = (error: Error) => {
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    child.on("error", fail);
    child.on("exit", (code) => fail(new Error(`a counter client exited (code ${code})`)));
  }

  /** Forks the client; resolves once it has checked the server as the module comment says. */
  static async start(spec: SemanticsClientSpec): Promise<SemanticsClientProcess> {
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
        onExit = (code) => reject(new Error(`the ${spec.semantics} client exited (code ${code})`));
        child.once("message", onMessage).once("error", onError).once("exit", onExit);
      });
    } catch (error) {
      child.kill();
      throw error;
    } finally {
      child.off("message", onMessage).off("error", onError).off("exit", onExit);
    }
    return new SemanticsClientProcess(child, exited);
  }

  #ask(calls: number, inFlight: number): Promise<Reply & { sample: CallSample; answered: number }> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (r: Reply) => void, reject });
      this.#child.send({ id, calls, inFlight } satisfies Request);
    });
  }

  /** Times `calls` calls with `inFlight` outstanding. */
  async batch(calls: number, inFlight: number): Promise<CallSample> {
    return (await this.#ask(calls, inFlight)).sample;
  }

  /** Calls answered so far, the checks and warm-up included. */
  async answered(): Promise<number> {
    return (await this.#ask(0, 1)).answered;
  }

  /** Ends the client process (its socket goes with it). */
  async close(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    await this.#exited;
  }
}

/** In the child: the client, its checks, then batches on request. */
async function runClient(spec: SemanticsClientSpec): Promise<void> {
  const send = (m: Reply) => process.send?.(m);
  const channel = createChannel(spec.address, { semantics: spec.semantics, session: spec.session ?? false });
  const client = createClient(CounterV1, channel);
  const method = client[spec.procedure];
  let answered = 0;
  const call = async () => {
    const total = await method(1);
    answered++;
    return total;
  };
  const first = await call();
  const second = await call();
  if (second !== ((first + 1) | 0))
    throw new Error(`two calls of ADD(1) answered ${first} then ${second}; another client is busy?`);
  const need =
    spec.semantics === "at-most-once"
      ? ONCE_FEATURE_AT_MOST_ONCE
      : spec.semantics === "exactly-once"
        ? ONCE_FEATURE_EXACTLY_ONCE
        : 0;
  const peer = channel.peerSession;
  if (
    (need !== 0 || spec.session === true) &&
    (peer === undefined || peer === false || (peer.features & need) !== need)
  )
    throw new Error(`${spec.semantics} over ${spec.address}: the server does not offer it (${String(peer)})`);
  process.on("message", (request: Request) => {
    if (request.calls === 0) {
      send({ id: request.id, sample: { calls: 0, elapsedNs: 0, p50Ns: 0, p99Ns: 0 }, answered });
      return;
    }
    driveCalls(call, request.calls, request.inFlight).then(
      (sample) => send({ id: request.id, sample, answered }),
      (error: unknown) => send({ id: request.id, error: `${spec.semantics} client: ${String(error)}` }),
    );
  });
  // The parent going away ends the client, whatever its socket is doing.
  process.once("disconnect", () => process.exit(0));
  send({ id: 0, sample: { calls: 0, elapsedNs: 0, p50Ns: 0, p99Ns: 0 }, answered });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as SemanticsClientSpec;
  runClient(spec).catch((error: unknown) => {
    process.send?.({
      id: 0,
      error: `${spec.semantics} client: ${error instanceof Error ? error.message : String(error)}`,
    } satisfies Reply);
    process.disconnect?.();
  });
}
