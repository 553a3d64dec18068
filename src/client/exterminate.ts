/**
 * Extermination (docs/semantics.md, "Orphans"): after a restart, a session
 * with an extermination log asks each server its earlier incarnations
 * called to kill the calls they left unfinished (ONCE_KILL), then forgets
 * them. A server out of reach keeps its calls in the log for a later try;
 * its orphans die at their deadlines anyway.
 */
import { isRpcError, OnceControlProgV1 } from "../rpc/index.js";
import { createClient } from "./client.js";
import type { UnfinishedCall } from "./extermination-log.js";
import { createChannel } from "./open-channel.js";
import type { ClientSession } from "./session.js";

/** Options of exterminate. */
export interface ExterminateOptions {
  /** How long to wait for each server's answer; default 5000. */
  readonly timeoutMs?: number;
}

/** What exterminate did at one server. */
export interface ServerExtermination {
  readonly server: string | undefined;
  /** Calls the log named unfinished there. */
  readonly calls: number;
  /** Of those, how many the server found running and killed (the others had ended). */
  readonly killed: number;
  /** Why the server could not be asked (the calls stay in the log). */
  readonly error?: Error;
}

/** What exterminate did. */
export interface ExterminationReport {
  /** Calls the log named unfinished. */
  readonly unfinished: number;
  /** Computations the servers killed. */
  readonly killed: number;
  readonly servers: readonly ServerExtermination[];
}

/** ONCE_KILL takes at most this many sequences at once (once_session.x). */
const MAX_SEQUENCES = 1024;

/**
 * Sends ONCE_KILL to each server for the calls `session`'s extermination
 * log found unfinished, and forgets those the servers answered for.
 * Throws a TypeError for a session without an extermination log.
 */
export async function exterminate(
  session: ClientSession,
  options: ExterminateOptions = {},
): Promise<ExterminationReport> {
  const log = session.exterminationLog;
  if (log === undefined) throw new TypeError("exterminate: the session keeps no extermination log");
  const byServer = new Map<string, UnfinishedCall[]>();
  for (const call of log.unfinished) {
    const key = call.server ?? "";
    let list = byServer.get(key);
    if (list === undefined) {
      list = [];
      byServer.set(key, list);
    }
    list.push(call);
  }
  const done: UnfinishedCall[] = [];
  const servers = await Promise.all(
    [...byServer].map(async ([server, calls]): Promise<ServerExtermination> => {
      if (server === "") {
        done.push(...calls); // sent over a transport without an address: no one to ask
        return { server: undefined, calls: calls.length, killed: 0 };
      }
      const channel = createChannel(server, { timeoutMs: options.timeoutMs ?? 5_000 });
      const control = createClient(OnceControlProgV1, channel);
      let killed = 0;
      try {
        for (const group of groups(calls)) {
          const first = group[0];
          const res = await control.kill(
            {
              client_id: first.clientId,
              epoch: first.epoch,
              sequences: group.map((c) => c.sequence),
            },
            { semantics: "at-least-once" },
          );
          killed += res.affected;
          done.push(...group);
        }
        return { server, calls: calls.length, killed };
      } catch (error) {
        return {
          server,
          calls: calls.length,
          killed,
          error: isRpcError(error) || error instanceof Error ? error : new Error(String(error)),
        };
      } finally {
        channel.destroy();
      }
    }),
  );
  log.forgetUnfinished(done);
  return {
    unfinished: servers.reduce((n, s) => n + s.calls, 0),
    killed: servers.reduce((n, s) => n + s.killed, 0),
    servers,
  };
}

/** The calls by client id and epoch, at most MAX_SEQUENCES a group. */
function groups(calls: readonly UnfinishedCall[]): UnfinishedCall[][] {
  const byIncarnation = new Map<string, UnfinishedCall[]>();
  for (const c of calls) {
    const key = `${Buffer.from(c.clientId).toString("hex")}/${c.epoch}`;
    let list = byIncarnation.get(key);
    if (list === undefined) {
      list = [];
      byIncarnation.set(key, list);
    }
    list.push(c);
  }
  const out: UnfinishedCall[][] = [];
  for (const list of byIncarnation.values())
    for (let i = 0; i < list.length; i += MAX_SEQUENCES) out.push(list.slice(i, i + MAX_SEQUENCES));
  return out;
}
