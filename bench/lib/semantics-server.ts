/**
 * The counter server of the semantics benchmark, in a process of its own as
 * the RPC benchmark's servers are (servers.ts): once-rpc's `createServer`
 * with its defaults (the session flavor and the reply cache on), on TCP and
 * UDP at 127.0.0.1, and, for exactly-once, a SQLite completion store
 * (`createSqliteCompletionStore`) in a file of the given folder with the
 * given `synchronous` setting.
 *
 * {@link startSemanticsServer} forks this module; the child reports where it
 * listens over IPC, answers `stats` requests (handler runs, reply cache and
 * store counters: how the benchmark checks that no call ran twice) and exits
 * when the parent disconnects, closing its store.
 */
import { fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createServer, formatAddress, silentLogger } from "once-rpc";
import {
  createSqliteCompletionStore,
  type ReplyCacheStats,
  type SqliteCompletionStore,
  type SqliteCompletionStoreCounts,
  type SqliteStatement,
} from "once-rpc/server";
import { CounterV1 } from "./counter.js";

/** The completion store a server keeps: none (exactly-once refused), or SQLite with this `synchronous`. */
export type StoreKind = "none" | "full" | "normal";

/** What a server is asked to be. */
export interface SemanticsServerSpec {
  readonly store: StoreKind;
  /** The folder of the store's file (`counter-<store>.db`); unused without a store. */
  readonly dir: string;
}

/** Where a server listens. */
export interface SemanticsServerAddresses {
  /** `tcp://127.0.0.1:PORT` */
  readonly tcp: string;
  /** `udp://127.0.0.1:PORT` */
  readonly udp: string;
}

/** What a server has done so far. */
export interface SemanticsServerStats {
  /** Handler runs (both procedures). */
  readonly runs: number;
  readonly replyCache: Readonly<ReplyCacheStats> | undefined;
  /** What the store's file holds; undefined without a store. */
  readonly store: SqliteCompletionStoreCounts | undefined;
}

/** A running server process. */
export interface SemanticsServer extends SemanticsServerAddresses {
  /** The process's pid (to pin it, or to attach a profiler). */
  readonly pid: number;
  /** Asks the server for its counters. */
  stats(): Promise<SemanticsServerStats>;
  /** Ends the process (its store closed) and waits for it. */
  stop(): Promise<void>;
}

type ServerMessage =
  | ({ readonly kind: "listening" } & SemanticsServerAddresses)
  | ({ readonly kind: "stats"; readonly id: number } & SemanticsServerStats)
  | { readonly kind: "error"; readonly error: string };

/** Forks this module to run one server and resolves with where it listens. */
export async function startSemanticsServer(spec: SemanticsServerSpec): Promise<SemanticsServer> {
  // The child inherits process.execArgv, so `node --cpu-prof` profiles the server too.
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(spec)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let onExit = (_code: number | null) => {};
  let onMessage = (_m: ServerMessage) => {};
  const addresses = await new Promise<SemanticsServerAddresses>((resolve, reject) => {
    onExit = (code) => reject(new Error(`the ${spec.store} server exited (code ${code}) before listening`));
    onMessage = (m) => {
      if (m.kind === "listening") resolve({ tcp: m.tcp, udp: m.udp });
      else if (m.kind === "error") reject(new Error(`the ${spec.store} server: ${m.error}`));
    };
    child.on("message", onMessage).once("error", reject).once("exit", onExit);
  }).finally(() => child.off("exit", onExit).off("message", onMessage));
  let nextId = 1;
  const waiting = new Map<number, (s: SemanticsServerStats) => void>();
  child.on("message", (m: ServerMessage) => {
    if (m.kind !== "stats") return;
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return {
    ...addresses,
    pid: child.pid ?? 0,
    stats() {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, resolve);
        child.once("exit", () => reject(new Error(`the ${spec.store} server exited`)));
        child.send({ id });
      });
    },
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

async function serve(spec: SemanticsServerSpec): Promise<void> {
  let store: SqliteCompletionStore | undefined;
  let bump: SqliteStatement | undefined;
  if (spec.store !== "none") {
    store = createSqliteCompletionStore({
      path: join(spec.dir, `counter-${spec.store}.db`),
      synchronous: spec.store,
    });
    // ADD_DURABLE's own table, in the store's file so that ctx.commit writes it with the record.
    store.database.exec(
      "CREATE TABLE IF NOT EXISTS bench_counter (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);" +
        "INSERT OR IGNORE INTO bench_counter (id, total) VALUES (1, 0);",
    );
    bump = store.database.prepare("UPDATE bench_counter SET total = total + ? WHERE id = 1");
  }
  let total = 0;
  let runs = 0;
  const add = (n: number) => {
    runs++;
    total = (total + n) | 0;
    return total;
  };
  // idleTimeoutMs 0: a connection idle while other rows are timed stays open.
  const server = createServer({
    logger: silentLogger,
    idleTimeoutMs: 0,
    completionStore: store,
  });
  server.addProgram(CounterV1, {
    add,
    addDurable: (n, ctx) => {
      if (ctx.semantics !== "exactly-once" || bump === undefined) return add(n);
      const statement = bump;
      return ctx.commit(() => {
        statement.run(n);
        return add(n);
      });
    },
  });
  const tcp = formatAddress(await server.listen("tcp://127.0.0.1:0"));
  const udp = formatAddress(await server.listen("udp://127.0.0.1:0"));
  process.on("message", (request: { id: number }) => {
    process.send?.({
      kind: "stats",
      id: request.id,
      runs,
      replyCache: server.replyCacheStats,
      store: store?.counts(),
    } satisfies ServerMessage);
  });
  process.once("disconnect", () => {
    void (async () => {
      await server.destroy();
      store?.close();
      process.exit(0);
    })();
    // Whatever is left open (a client's socket) must not keep the process alive.
    setTimeout(() => process.exit(0), 500).unref();
  });
  process.send?.({ kind: "listening", tcp, udp } satisfies ServerMessage);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  serve(JSON.parse(process.argv[2] ?? "{}") as SemanticsServerSpec).catch((error: unknown) => {
    process.send?.({
      kind: "error",
      error: error instanceof Error ? error.message : String(error),
    } satisfies ServerMessage);
    process.disconnect?.();
  });
}
