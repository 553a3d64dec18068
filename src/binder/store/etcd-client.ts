/**
 * The few etcd v3 calls the binder needs, through etcd's JSON gateway
 * (grpc-gateway, served on the client URL under /v3/ since etcd 3.4) with
 * Node's fetch: range, a create-if-absent transaction, put, delete, leases,
 * and a watch read as a stream of JSON lines. Keys and values are UTF-8
 * strings here, base64 on the wire; 64-bit numbers travel as decimal
 * strings and stay strings.
 *
 * Why not the `etcd3` npm client: it works, but brings gRPC (@grpc/grpc-js,
 * protobufjs: some 16 MB in 27 packages) into a library that has no runtime
 * dependency at all, for a feature most binders do not use; the gateway is
 * part of every etcd 3.4+ server and needs nothing but fetch.
 */
import { StoreError } from "./store-error.js";

/** Options of an EtcdClient. */
export interface EtcdClientOptions {
  /** Client URLs (`http://127.0.0.1:2379`), tried in turn: a request that cannot reach one goes to the next. */
  readonly endpoints: readonly string[];
  /** How long one request may take, per endpoint tried. */
  readonly requestTimeoutMs: number;
}

/** A key and its value as etcd holds them. */
export interface EtcdKeyValue {
  readonly key: string;
  readonly value: string;
  /** The revision that created it: the order keys were first put in. */
  readonly createRevision: string;
  readonly modRevision: string;
  /** The lease the key is attached to; "0" for none. */
  readonly lease: string;
}

/** One event of a watch. */
export type EtcdEvent =
  | { readonly type: "put"; readonly kv: EtcdKeyValue }
  | { readonly type: "delete"; readonly key: string; readonly modRevision: string };

/** What a watch stream tells, batch by batch. */
export interface EtcdWatchBatch {
  readonly revision: string;
  readonly events: readonly EtcdEvent[];
  /** Set when the revision asked for was compacted away: the watch ended; read everything again. */
  readonly compactRevision?: string;
}

/** A small client of etcd's JSON gateway. */
export class EtcdClient {
  readonly #endpoints: string[];
  readonly #timeoutMs: number;
  /** The endpoint that answered last: requests start there. */
  #current = 0;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new TypeError("etcd: no endpoints");
    this.#endpoints = options.endpoints.map((e) => e.replace(/\/+$/, ""));
    this.#timeoutMs = options.requestTimeoutMs;
  }

  /** The keys under `prefix` and the revision they were read at. */
  async range(prefix: string): Promise<{ revision: string; kvs: EtcdKeyValue[] }> {
    const r = await this.#post("/v3/kv/range", { key: b64(prefix), range_end: rangeEnd(prefix) });
    return { revision: revisionOf(r), kvs: ((r.kvs as RawKv[] | undefined) ?? []).map(keyValueOf) };
  }

  /**
   * Puts `key` only if it does not exist (RFC-free: an etcd transaction
   * comparing its create_revision with 0). Resolves with whether it was
   * created and, when not, what holds the key.
   */
  async createIfAbsent(
    key: string,
    value: string,
    lease: string,
  ): Promise<{ created: true } | { created: false; held: EtcdKeyValue | undefined }> {
    const k = b64(key);
    const r = await this.#post("/v3/kv/txn", {
      compare: [{ key: k, target: "CREATE", result: "EQUAL", create_revision: "0" }],
      success: [{ request_put: { key: k, value: b64(value), lease } }],
      failure: [{ request_range: { key: k } }],
    });
    if (r.succeeded === true) return { created: true };
    return { created: false, held: heldOf(r) };
  }

  /**
   * Puts `key` only if its mod revision is still `modRevision` (nobody
   * changed it since it was read). Resolves with whether it was put and,
   * when not, what holds the key now (undefined when it was deleted).
   */
  async putIfUnchanged(
    key: string,
    value: string,
    lease: string,
    modRevision: string,
  ): Promise<{ put: true } | { put: false; held: EtcdKeyValue | undefined }> {
    const k = b64(key);
    const r = await this.#post("/v3/kv/txn", {
      compare: [{ key: k, target: "MOD", result: "EQUAL", mod_revision: modRevision }],
      success: [{ request_put: { key: k, value: b64(value), lease } }],
      failure: [{ request_range: { key: k } }],
    });
    if (r.succeeded === true) return { put: true };
    return { put: false, held: heldOf(r) };
  }

  /** Puts `key`, attached to `lease` ("0": none). */
  async put(key: string, value: string, lease: string): Promise<void> {
    await this.#post("/v3/kv/put", { key: b64(key), value: b64(value), lease });
  }

  /** Deletes `key` (nothing when it is not there). */
  async delete(key: string): Promise<void> {
    await this.#post("/v3/kv/deleterange", { key: b64(key) });
  }

  /** A new lease of `ttlSeconds` (etcd may raise it to its minimum); resolves with its id and TTL. */
  async grantLease(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    const r = await this.#post("/v3/lease/grant", { TTL: String(ttlSeconds) });
    if (typeof r.ID !== "string") throw new StoreError("ETCD_FAILED", "lease grant answered no ID");
    return { id: r.ID, ttlSeconds: Number(r.TTL ?? ttlSeconds) };
  }

  /** Renews a lease; resolves with its TTL in seconds, 0 when etcd no longer has it (expired or revoked). */
  async keepAlive(id: string): Promise<number> {
    const r = await this.#post("/v3/lease/keepalive", { ID: id });
    const result = (r.result ?? r) as Record<string, unknown>;
    return Number(result.TTL ?? 0);
  }

  /** Revokes a lease: etcd deletes every key attached to it. */
  async revokeLease(id: string): Promise<void> {
    await this.#post("/v3/lease/revoke", { ID: id });
  }

  /**
   * Watches the keys under `prefix` from `startRevision` on, calling
   * `onBatch` for each batch of events in order. Resolves when `signal`
   * aborts; rejects when the stream breaks or etcd cancels the watch (the
   * caller watches again from the last revision it saw). Ends after a
   * batch that says the start revision was compacted.
   */
  async watch(
    prefix: string,
    startRevision: string,
    onBatch: (batch: EtcdWatchBatch) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const body = {
      create_request: { key: b64(prefix), range_end: rangeEnd(prefix), start_revision: startRevision },
    };
    const response = await this.#fetch("/v3/watch", body, signal);
    if (response.body === null) throw new StoreError("ETCD_FAILED", "watch answered no body");
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = response.body.getReader();
    const onAbort = () => {
      reader.cancel().catch(() => {});
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (signal.aborted) return;
        if (done) throw new StoreError("ETCD_FAILED", "the watch stream ended");
        buffered += decoder.decode(value, { stream: true });
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === "") continue;
          const message = JSON.parse(line) as Record<string, unknown>;
          if (message.error !== undefined) {
            throw new StoreError("ETCD_FAILED", `watch: ${JSON.stringify(message.error)}`);
          }
          const result = (message.result ?? {}) as Record<string, unknown>;
          const compact = result.compact_revision;
          if (typeof compact === "string" && compact !== "0") {
            onBatch({ revision: revisionOf(result), events: [], compactRevision: compact });
            return;
          }
          if (result.canceled === true) {
            throw new StoreError("ETCD_FAILED", `watch canceled: ${String(result.cancel_reason ?? "")}`);
          }
          const events = ((result.events as RawEvent[] | undefined) ?? []).map(eventOf);
          if (events.length > 0 || result.created !== true) onBatch({ revision: revisionOf(result), events });
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
      reader.cancel().catch(() => {});
    }
  }

  async #post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await this.#fetch(path, body, undefined);
    return (await response.json()) as Record<string, unknown>;
  }

  /**
   * POSTs to the endpoints in turn until one answers within the request
   * timeout (for a watch: until its answer begins; the stream then runs
   * until `signal` aborts). An answer that is an error is ETCD_FAILED
   * (etcd was reached: another endpoint would say the same); no answer from
   * any is ETCD_UNAVAILABLE.
   */
  async #fetch(path: string, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
    const failures: string[] = [];
    for (let i = 0; i < this.#endpoints.length; i++) {
      const at = (this.#current + i) % this.#endpoints.length;
      const endpoint = this.#endpoints[at];
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new Error(`no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      const onAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      let response: Response;
      try {
        response = await fetch(`${endpoint}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: controller.signal,
        });
      } catch (error) {
        signal?.removeEventListener("abort", onAbort);
        if (signal?.aborted) throw error;
        failures.push(`${endpoint}: ${describe(error)}`);
        continue;
      } finally {
        clearTimeout(timer);
      }
      this.#current = at;
      if (!response.ok) {
        const text = await response.text().catch(() => "");
        throw new StoreError(
          "ETCD_FAILED",
          `${endpoint}${path} answered ${response.status}: ${text.slice(0, 300)}`,
        );
      }
      return response;
    }
    throw new StoreError("ETCD_UNAVAILABLE", `no etcd endpoint answered ${path}: ${failures.join("; ")}`);
  }
}

interface RawKv {
  key: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}

interface RawEvent {
  type?: string;
  kv: RawKv;
}

function keyValueOf(kv: RawKv): EtcdKeyValue {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value ?? ""),
    createRevision: kv.create_revision ?? "0",
    modRevision: kv.mod_revision ?? "0",
    lease: kv.lease ?? "0",
  };
}

function eventOf(e: RawEvent): EtcdEvent {
  if (e.type === "DELETE")
    return { type: "delete", key: unb64(e.kv.key), modRevision: e.kv.mod_revision ?? "0" };
  return { type: "put", kv: keyValueOf(e.kv) };
}

function heldOf(txn: Record<string, unknown>): EtcdKeyValue | undefined {
  const responses = (txn.responses as Array<Record<string, unknown>> | undefined) ?? [];
  const range = responses[0]?.response_range as { kvs?: RawKv[] } | undefined;
  const kv = range?.kvs?.[0];
  return kv === undefined ? undefined : keyValueOf(kv);
}

function revisionOf(r: Record<string, unknown>): string {
  const header = r.header as { revision?: string } | undefined;
  return header?.revision ?? "0";
}

/** The end of the range of keys starting with `prefix`, base64: the prefix with its last byte below 0xff plus one. */
function rangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, "utf8");
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]++;
      return end.toString("base64");
    }
  }
  // Every byte 0xff (or no prefix): "\0" as range_end means every key from `key` on.
  return Buffer.from([0]).toString("base64");
}

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

function unb64(text: string): string {
  return Buffer.from(text, "base64").toString("utf8");
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
