/**
 * A KV_PROG client of kv.x in TypeScript, for kv_server (the C server) or
 * the TypeScript one.
 *
 * Usage: node dist/examples/c-interop/client.js ADDRESS...
 * For example tcp://127.0.0.1:PORT udp://127.0.0.1:PORT. Through each address
 * in turn it puts a key, reads it back, reads a key never put, lists the
 * keys, and tries a key longer than kv.x allows. Exits with 1 if a call fails.
 */
import { createClient, RpcError } from "once-rpc";
import { KV_MAX_KEY, type KvGetResult, KvProgV1, KvStatus } from "./gen/kv.js";

/** The name of a kv_status, as kv.x spells it. */
function statusName(status: KvStatus): string {
  return Object.entries(KvStatus).find(([, v]) => v === status)?.[0] ?? String(status);
}

function show(result: KvGetResult): string {
  // The union narrows on its discriminant: `value` exists only when status is KV_OK.
  return result.status === KvStatus.KV_OK ? `KV_OK "${result.value}"` : statusName(result.status);
}

for (const address of process.argv.slice(2)) {
  const kv = createClient(KvProgV1, address, { timeoutMs: 5000 });
  const protocol = address.slice(0, address.indexOf(":"));
  const key = `greeting-${protocol}`;
  try {
    console.log(`${address}`);
    console.log(
      `  put ${key}        -> ${statusName(await kv.put({ key, value: "hello from TypeScript" }))}`,
    );
    console.log(`  get ${key}        -> ${show(await kv.get(key))}`);
    console.log(`  get never-put           -> ${show(await kv.get("never-put"))}`);
    console.log(`  list                    -> ${(await kv.list()).join(", ")}`);
    try {
      await kv.put({ key: "k".repeat(KV_MAX_KEY + 1), value: "" });
      console.log(`  put of a ${KV_MAX_KEY + 1}-byte key    -> sent (unexpected)`);
    } catch (e) {
      // Bounds in the .x are checked before anything is sent: the call fails here, not on the server.
      if (!(e instanceof RpcError && e.code === "BAD_ARGS")) throw e;
      console.log(`  put of a ${KV_MAX_KEY + 1}-byte key    -> not sent: ${e.message}`);
    }
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    console.log(`  -> ${e.message}`);
    process.exitCode = 1;
  } finally {
    await kv.$close();
  }
}
