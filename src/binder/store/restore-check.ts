/**
 * Registrations restored from a state file point at servers that may have
 * died while the binder was down. rpcbind's warm start (`rpcbind -w`)
 * restores them all the same; a binder started with `checkRestored` asks
 * each one first: a NULL call to its program version at its address
 * (a TCP connection refused, a UDP datagram unanswered, within the
 * timeout), and drops those that do not answer.
 */
import { type Probe, probeInstance } from "../instances/probe.js";
import type { Registration, Registry } from "../registry.js";

/** Options of dropUnreachable. */
export interface RestoreCheckOptions {
  /** How long each registration has to answer. */
  readonly timeoutMs: number;
  /** Probes running at once, at most. */
  readonly concurrency: number;
  /** How to ask. Default: a NULL call ({@link probeInstance}). */
  readonly probe?: Probe;
}

/**
 * Asks every registration of `registry` (not the binder's own) whether its
 * server answers, and removes those that do not, without emitting changes
 * (the caller writes the result). Resolves with the ones removed.
 */
export async function dropUnreachable(
  registry: Registry,
  options: RestoreCheckOptions,
): Promise<Registration[]> {
  const probe = options.probe ?? probeInstance;
  const pending = registry.snapshot();
  const dead: Registration[] = [];
  const controller = new AbortController();
  const worker = async () => {
    for (let r = pending.shift(); r !== undefined; r = pending.shift()) {
      if (!(await probe(r, options.timeoutMs, controller.signal))) dead.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  for (const r of dead) registry.apply({ type: "unset", registration: r });
  return dead;
}
