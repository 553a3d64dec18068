/**
 * The KV_PROG server of kv.x in TypeScript: the same store as kv_server.c,
 * for kv_client (the C client) or any other ONC RPC client to call.
 *
 * Usage: node dist/examples/c-interop/server.js [PORT]
 * Listens on 127.0.0.1:PORT over TCP and UDP (default 0: the kernel picks),
 * prints "tcp <port>" and "udp <port>" as kv_server does, and serves until
 * SIGINT or SIGTERM.
 */
import { type Address, createServer } from "once-rpc";
import { KV_MAX_KEYS, type KvGetResult, KvProgV1, KvStatus } from "./gen/kv.js";

const port = Number(process.argv[2] ?? 0);
/** The store. A Map iterates in insertion order: the order KV_LIST promises. */
const store = new Map<string, string>();

// The implementation's type comes from the descriptor: one handler per procedure, typed arguments and results.
const server = createServer().addProgram(KvProgV1, {
  put: ({ key, value }) => {
    if (!store.has(key) && store.size === KV_MAX_KEYS) return KvStatus.KV_FULL;
    store.set(key, value);
    return KvStatus.KV_OK;
  },
  get: (key): KvGetResult => {
    const value = store.get(key);
    return value === undefined ? { status: KvStatus.KV_NOT_FOUND } : { status: KvStatus.KV_OK, value };
  },
  list: () => [...store.keys()],
});

/** The port `listen` bound: with port 0, the one the kernel picked. */
function portOf(address: Address): number {
  if (address.protocol === "unix") throw new TypeError("a Unix socket has no port");
  return address.port;
}

const tcp = await server.listen(`tcp://127.0.0.1:${port}`);
const udp = await server.listen(`udp://127.0.0.1:${port}`);
console.log(`tcp ${portOf(tcp)}\nudp ${portOf(udp)}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close());
}
