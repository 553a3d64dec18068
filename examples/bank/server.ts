/**
 * The bank server: BANK_PROG v1 over TCP and UDP, its accounts, transfers
 * and completion records in one SQLite file.
 *
 * Usage: node dist/examples/bank/server.js DB_FILE [PORT] [--synchronous normal]
 * Listens on 127.0.0.1:PORT over TCP and UDP (default 0: the kernel picks),
 * prints "tcp <port>" and "udp <port>", and serves until SIGINT or SIGTERM.
 * Killed and started again on the same file, it answers the transfers it
 * already made from their records.
 */
import type { Address } from "once-rpc";
import { createBankServer } from "./bank.js";

const args = process.argv.slice(2);
const synchronous = args.includes("--synchronous") ? args[args.indexOf("--synchronous") + 1] : "full";
const [path, port = "0"] = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--synchronous");
if (path === undefined || (synchronous !== "full" && synchronous !== "normal")) {
  console.error("usage: server.js DB_FILE [PORT] [--synchronous full|normal]");
  process.exit(2);
}

const bank = createBankServer({ path, synchronous });

/** The port `listen` bound: with port 0, the one the kernel picked. */
function portOf(address: Address): number {
  if (address.protocol === "unix") throw new TypeError("a Unix socket has no port");
  return address.port;
}

const tcp = await bank.server.listen(`tcp://127.0.0.1:${port}`);
const udp = await bank.server.listen(`udp://127.0.0.1:${portOf(tcp)}`);
console.log(`tcp ${portOf(tcp)}\nudp ${portOf(udp)}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void bank.close());
}
