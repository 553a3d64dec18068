/**
 * BinderStore: keeps the binder's collections (registrations, instances)
 * in a state file and shares them with other binders through etcd. The
 * collections stay the binder's local, synchronous cache — every lookup
 * reads them and nothing else — and the store hangs off their change feeds:
 *
 * - a change made here is written to the file (coalesced, atomically) and
 *   to etcd (per key, in order); a SET can await the outcome (`settled`);
 * - a change made by another binder arrives by etcd's watch and is applied
 *   without being emitted again, then written to the file too.
 *
 * In etcd each record is the key `PREFIX + collection + "/" + key` with its
 * JSON as value, attached to this binder's lease: when the binder dies and
 * stops renewing it, etcd deletes its records and every other binder drops
 * them. A `first-wins` slot (rpcbind's one address per program, version
 * and netid) is claimed by a transaction that creates the key only if it
 * does not exist, so of two binders racing SETs of different addresses
 * exactly one wins; the loser takes the winner's record and its SET answers
 * FALSE.
 */
import type { Collection, StoreChange, StoreEntry } from "./collection.js";
import { EtcdClient, type EtcdKeyValue, type EtcdWatchBatch } from "./etcd-client.js";
import { formatState, readStateFile, writeStateFile } from "./state-file.js";
import { StoreError } from "./store-error.js";

/** How to share through etcd. Defaults in {@link ETCD_SHARE_DEFAULTS}. */
export interface EtcdShareOptions {
  /** Client URLs of the etcd cluster (`http://127.0.0.1:2379`); a request goes to the next when one does not answer. */
  readonly endpoints: readonly string[];
  /** The prefix of every key the binders share; binders with the same prefix share their state. */
  readonly prefix?: string;
  /**
   * The lease the records this binder writes are attached to: renewed every
   * third of it; when the binder dies, its records leave etcd (and every
   * other binder) this long after its last renewal. etcd rounds it up to
   * whole seconds and to its own minimum (about 2 s).
   */
  readonly leaseTtlMs?: number;
  /** How long one request to etcd may take. */
  readonly requestTimeoutMs?: number;
  /** How long to wait before watching again after the watch broke. */
  readonly retryDelayMs?: number;
}

/** The defaults of EtcdShareOptions. */
export const ETCD_SHARE_DEFAULTS = Object.freeze({
  prefix: "/once-rpc/binder/",
  leaseTtlMs: 10_000,
  requestTimeoutMs: 5000,
  retryDelayMs: 500,
});

/** Options of a BinderStore. */
export interface BinderStoreOptions {
  /** What is kept and shared. */
  readonly collections: readonly Collection[];
  /** The state file, read at `open` and rewritten after every change. */
  readonly stateFile?: string;
  /** Share the collections with other binders through etcd. */
  readonly etcd?: EtcdShareOptions;
  /**
   * Called at `open` after the state file is loaded, before anything is
   * shared or written: may change the collections with `apply` (to drop
   * registrations whose servers died while the binder was down).
   */
  readonly afterRestore?: () => Promise<void> | void;
  /** Told of each failure while running (a write that failed, etcd out of reach, the lease lost). Default: a process warning. */
  readonly onError?: (error: StoreError) => void;
}

/** The file and etcd behind a binder's collections. `open()` it before serving; `close()` it after. */
export class BinderStore {
  readonly #collections = new Map<string, Collection>();
  readonly #stateFile: string | undefined;
  readonly #afterRestore: (() => Promise<void> | void) | undefined;
  readonly #onError: (error: StoreError) => void;
  readonly #unsubscribe: Array<() => void> = [];
  // The file: changes seen, changes written, the write running.
  #fileGen = 0;
  #fileWrittenGen = 0;
  #writing: Promise<void> | undefined;
  // etcd.
  readonly #etcd: EtcdClient | undefined;
  readonly #prefix: string;
  readonly #leaseTtlMs: number;
  readonly #retryDelayMs: number;
  #lease = "0";
  #revision = "0";
  #resync = false;
  /** The last write to etcd of each record, `collection NUL key`: writes of one key go in order. */
  readonly #chains = new Map<string, Promise<boolean>>();
  readonly #stop = new AbortController();
  #keepAlive: NodeJS.Timeout | undefined;
  #watching: Promise<void> | undefined;
  #closed = false;

  constructor(options: BinderStoreOptions) {
    for (const c of options.collections) {
      if (!/^[A-Za-z0-9-]+$/.test(c.name)) throw new TypeError(`collection name ${JSON.stringify(c.name)}`);
      this.#collections.set(c.name, c);
    }
    this.#stateFile = options.stateFile;
    this.#afterRestore = options.afterRestore;
    this.#onError = options.onError ?? warn;
    const etcd = options.etcd;
    this.#etcd =
      etcd === undefined
        ? undefined
        : new EtcdClient({
            endpoints: etcd.endpoints,
            requestTimeoutMs: etcd.requestTimeoutMs ?? ETCD_SHARE_DEFAULTS.requestTimeoutMs,
          });
    this.#prefix = etcd?.prefix ?? ETCD_SHARE_DEFAULTS.prefix;
    this.#leaseTtlMs = etcd?.leaseTtlMs ?? ETCD_SHARE_DEFAULTS.leaseTtlMs;
    this.#retryDelayMs = etcd?.retryDelayMs ?? ETCD_SHARE_DEFAULTS.retryDelayMs;
  }

  /** The id of this binder's etcd lease ("0" without etcd or before `open`). */
  get lease(): string {
    return this.#lease;
  }

  /**
   * Loads the state file (a torn temporary file beside it is removed),
   * runs `afterRestore`, then joins etcd: takes what the other binders
   * share, claims there what it holds that etcd lacks, and watches. Throws
   * StoreError: STATE_FILE_CORRUPT, STATE_FILE_IO, ETCD_UNAVAILABLE,
   * ETCD_FAILED.
   */
  async open(): Promise<void> {
    if (this.#stateFile !== undefined) {
      const contents = readStateFile(this.#stateFile, (tmp) =>
        this.#onError(new StoreError("STATE_FILE_IO", `removed ${tmp}, left by a write that did not finish`)),
      );
      if (contents !== undefined) {
        for (const c of this.#collections.values())
          c.load(checked(this.#stateFile, c, contents.get(c.name) ?? []));
      }
    }
    await this.#afterRestore?.();
    const claims: Array<Promise<boolean>> = [];
    if (this.#etcd !== undefined) claims.push(...(await this.#join(this.#etcd)));
    for (const c of this.#collections.values()) {
      this.#unsubscribe.push(c.subscribe((change) => this.#onLocal(c, change)));
    }
    await Promise.all(claims);
    if (this.#stateFile !== undefined) await this.#waitWritten(this.#markDirty());
  }

  /**
   * Resolves when the last change to `key` made here is written (to etcd,
   * then to the file): true when it holds, false when it lost a race to
   * another binder or could not reach etcd (it is then undone here).
   */
  async settled(collection: string, key: string): Promise<boolean> {
    const held = await (this.#chains.get(chainId(collection, key)) ?? true);
    if (this.#stateFile !== undefined) await this.#waitWritten(this.#fileGen);
    return held;
  }

  /** Resolves when every change made so far is written. */
  async flush(): Promise<void> {
    await Promise.all(this.#chains.values());
    if (this.#stateFile !== undefined) await this.#waitWritten(this.#fileGen);
  }

  /**
   * Stops carrying changes, writes what is left, and leaves etcd: the
   * watch and the lease renewals stop. The lease is not revoked: this
   * binder's records stay in etcd until it runs out, so a binder restarted
   * sooner (with its state file) takes them back without a gap.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#unsubscribe.splice(0)) stop();
    clearInterval(this.#keepAlive);
    this.#stop.abort();
    await this.#watching;
    await this.flush();
  }

  // -- the file ------------------------------------------------------------

  #markDirty(): number {
    this.#fileGen++;
    if (this.#stateFile !== undefined && this.#writing === undefined)
      this.#writing = this.#writeLoop(this.#stateFile);
    return this.#fileGen;
  }

  /** Writes until the file holds every change seen; changes made during a write are taken by the next one. */
  async #writeLoop(path: string): Promise<void> {
    // Changes made in the same turn of the event loop go in one write.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.#fileWrittenGen < this.#fileGen) {
        const gen = this.#fileGen;
        const contents = new Map<string, StoreEntry[]>();
        for (const c of this.#collections.values()) contents.set(c.name, c.snapshot());
        try {
          await writeStateFile(path, formatState(contents, new Date()));
        } catch (error) {
          // The state stays in memory (and etcd); the next change tries again.
          this.#onError(error as StoreError);
        }
        this.#fileWrittenGen = gen;
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #waitWritten(gen: number): Promise<void> {
    while (this.#fileWrittenGen < gen && this.#writing !== undefined) await this.#writing;
  }

  // -- changes -------------------------------------------------------------

  #onLocal(c: Collection, change: StoreChange): void {
    if (this.#stateFile !== undefined) this.#markDirty();
    if (this.#etcd !== undefined) this.#carry(this.#etcd, c, change);
  }

  /** Makes a change that came from etcd (or settles a lost claim) here, without emitting it; the file follows. */
  #applyHere(c: Collection, change: StoreChange): void {
    if (!c.apply(change)) {
      this.#onError(
        new StoreError("ETCD_FAILED", `${c.name}/${change.key}: not applied (not a record, or full)`),
      );
      return;
    }
    if (this.#stateFile !== undefined) this.#markDirty();
  }

  /** Queues a write of `change` to etcd behind the writes of the same key. */
  #carry(etcd: EtcdClient, c: Collection, change: StoreChange): Promise<boolean> {
    const id = chainId(c.name, change.key);
    const before = this.#chains.get(id) ?? Promise.resolve(true);
    const next = before.then(() => this.#send(etcd, c, change));
    this.#chains.set(id, next);
    void next.then(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
    return next;
  }

  /** Writes one change to etcd; resolves with whether it holds. Never rejects. */
  async #send(etcd: EtcdClient, c: Collection, change: StoreChange): Promise<boolean> {
    const key = `${this.#prefix}${c.name}/${change.key}`;
    try {
      if (change.op === "delete") {
        await etcd.delete(key);
        return true;
      }
      const value = JSON.stringify(change.value);
      if (c.conflict === "last-wins") {
        await etcd.put(key, value, this.#lease);
        return true;
      }
      // A few rounds: the key may be deleted or changed between our looks.
      for (let round = 0; round < 4; round++) {
        const claim = await etcd.createIfAbsent(key, value, this.#lease);
        if (claim.created) return true;
        if (claim.held === undefined) continue;
        const held = this.#parse(c, claim.held);
        if (held === undefined) return false;
        // Whatever etcd holds is what this binder must hold too.
        this.#applyHere(c, { op: "put", key: change.key, value: held });
        if (!c.sameClaim(held, change.value)) return false;
        // The same claim (rpcbind: the same address again): it stands, and
        // lives on this binder's lease from now on, so that it outlives the
        // binder that first claimed it as long as a claimer lives.
        if (claim.held.lease === this.#lease) return true;
        const moved = await etcd.putIfUnchanged(key, claim.held.value, this.#lease, claim.held.modRevision);
        if (moved.put) return true;
      }
      this.#undo(c, change);
      return false;
    } catch (error) {
      this.#onError(error as StoreError);
      // etcd is out of reach: a claim it has not seen does not stand here either.
      if (change.op === "put" && c.conflict === "first-wins") {
        this.#undo(c, change);
        return false;
      }
      return true;
    }
  }

  /** Takes back a claim that did not make it to etcd, unless something else has replaced it here meanwhile. */
  #undo(c: Collection, change: StoreChange & { op: "put" }): void {
    const now = c.snapshot().find((e) => e.key === change.key);
    if (now === undefined || JSON.stringify(now.value) !== JSON.stringify(change.value)) return;
    this.#applyHere(c, { op: "delete", key: change.key });
  }

  #parse(c: Collection, kv: EtcdKeyValue): unknown {
    let value: unknown;
    try {
      value = JSON.parse(kv.value);
    } catch {
      value = undefined;
    }
    if (!c.isValue(value)) {
      this.#onError(new StoreError("ETCD_FAILED", `${kv.key} holds no ${c.name} record; ignored`));
      return undefined;
    }
    return value;
  }

  // -- etcd ----------------------------------------------------------------

  /**
   * Gets a lease, reads everything shared, takes it here (etcd's records in
   * the order they were created, then what only this binder had), claims
   * in etcd everything this binder had, then watches and renews the lease.
   * Resolves with the claims under way.
   */
  async #join(etcd: EtcdClient): Promise<Array<Promise<boolean>>> {
    const lease = await etcd.grantLease(Math.max(1, Math.ceil(this.#leaseTtlMs / 1000)));
    this.#lease = lease.id;
    const mine = new Map<string, StoreEntry[]>();
    for (const c of this.#collections.values()) mine.set(c.name, c.snapshot());
    this.#revision = await this.#readAll(etcd, mine);
    const claims: Array<Promise<boolean>> = [];
    for (const c of this.#collections.values()) {
      for (const e of mine.get(c.name) ?? []) claims.push(this.#carry(etcd, c, { op: "put", ...e }));
    }
    const renewMs = Math.max(100, Math.floor((lease.ttlSeconds * 1000) / 3));
    this.#keepAlive = setInterval(() => void this.#renew(etcd), renewMs);
    this.#keepAlive.unref();
    this.#watching = this.#watchLoop(etcd);
    return claims;
  }

  /** Loads every collection from etcd, keeping `extra` entries etcd lacks after etcd's; resolves with the revision read. */
  async #readAll(etcd: EtcdClient, extra: ReadonlyMap<string, readonly StoreEntry[]>): Promise<string> {
    const { revision, kvs } = await etcd.range(this.#prefix);
    const shared = new Map<string, Array<StoreEntry & { created: bigint }>>();
    for (const kv of kvs) {
      const place = this.#place(kv.key);
      if (place === undefined) continue;
      const value = this.#parse(place.collection, kv);
      if (value === undefined) continue;
      const list = shared.get(place.collection.name) ?? [];
      list.push({ key: place.key, value, created: BigInt(kv.createRevision) });
      shared.set(place.collection.name, list);
    }
    for (const c of this.#collections.values()) {
      const entries: StoreEntry[] = (shared.get(c.name) ?? [])
        .sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0))
        .map(({ key, value }) => ({ key, value }));
      const there = new Set(entries.map((e) => e.key));
      for (const e of extra.get(c.name) ?? []) if (!there.has(e.key)) entries.push(e);
      c.load(entries);
    }
    if (this.#stateFile !== undefined) this.#markDirty();
    return revision;
  }

  async #renew(etcd: EtcdClient): Promise<void> {
    if (this.#closed) return;
    try {
      const ttl = await etcd.keepAlive(this.#lease);
      if (ttl > 0 || this.#closed) return;
      // etcd let the lease run out (it was out of reach longer than the TTL):
      // its records are gone, and the watch removes them here too.
      this.#onError(
        new StoreError(
          "ETCD_FAILED",
          `lease ${this.#lease} expired: this binder's records left etcd; a new lease is taken`,
        ),
      );
      this.#lease = (await etcd.grantLease(Math.max(1, Math.ceil(this.#leaseTtlMs / 1000)))).id;
    } catch (error) {
      if (!this.#closed) this.#onError(error as StoreError);
    }
  }

  async #watchLoop(etcd: EtcdClient): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        if (this.#resync) {
          this.#revision = await this.#readAll(etcd, new Map());
          this.#resync = false;
        }
        await etcd.watch(this.#prefix, String(BigInt(this.#revision) + 1n), (b) => this.#onBatch(b), signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#onError(error as StoreError);
        await delay(this.#retryDelayMs, signal);
      }
    }
  }

  #onBatch(batch: EtcdWatchBatch): void {
    if (batch.compactRevision !== undefined) {
      // The revisions after ours are gone from etcd's history: read everything again.
      this.#resync = true;
      return;
    }
    for (const event of batch.events) {
      const place = this.#place(event.type === "put" ? event.kv.key : event.key);
      if (place === undefined) continue;
      if (event.type === "delete") {
        this.#applyHere(place.collection, { op: "delete", key: place.key });
        continue;
      }
      const value = this.#parse(place.collection, event.kv);
      if (value !== undefined) this.#applyHere(place.collection, { op: "put", key: place.key, value });
    }
    if (BigInt(batch.revision) > BigInt(this.#revision)) this.#revision = batch.revision;
  }

  /** The collection and key an etcd key is, or undefined for a key of no collection here. */
  #place(etcdKey: string): { collection: Collection; key: string } | undefined {
    if (!etcdKey.startsWith(this.#prefix)) return undefined;
    const rest = etcdKey.slice(this.#prefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) return undefined;
    const collection = this.#collections.get(rest.slice(0, slash));
    return collection === undefined ? undefined : { collection, key: rest.slice(slash + 1) };
  }
}

/**
 * The entries of a collection read from the state file, each checked to be
 * a record of its kind under its own key: a file that parses but holds
 * something else was not written by a binder, and is refused as corrupt
 * rather than loaded in part.
 */
function checked(path: string, c: Collection, entries: readonly StoreEntry[]): readonly StoreEntry[] {
  entries.forEach((e, i) => {
    const why = !c.isValue(e.value)
      ? "is not a record of its kind"
      : c.keyOf(e.value) !== e.key
        ? `is not under its key`
        : "";
    if (why !== "") {
      throw new StoreError(
        "STATE_FILE_CORRUPT",
        `${path}: collections.${c.name}[${i}] ${why}; the binder will not start on it (move it away to start empty)`,
      );
    }
  });
  return entries;
}

function chainId(collection: string, key: string): string {
  return `${collection}\0${key}`;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function warn(error: StoreError): void {
  process.emitWarning(error.message, "BinderStoreWarning");
}
