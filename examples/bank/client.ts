/**
 * The bank client: opens two accounts and moves money between them with
 * exactly-once transfers. With a session file, it is the same client across
 * its restarts: it first resumes the transfers its last run left unfinished
 * (killed in the middle, say), each with its original identity, so that
 * none runs twice and none is lost.
 *
 * Usage: node dist/examples/bank/client.js ADDRESS [--transfers N] [--in-flight K] [--session FILE]
 * ADDRESS is tcp://127.0.0.1:PORT or udp://127.0.0.1:PORT. Prints a line per
 * resumed transfer, "done <ref>" as transfers complete, and the accounts at
 * the end.
 */
import { type ClientSession, createClient, createSession, openSession, type ResumableCall } from "once-rpc";
import { Bank } from "./bank.js";
import { BankStat, type TransferRes } from "./gen/bank.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string =>
  args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
const address = args[0];
if (address === undefined || address.startsWith("--")) {
  console.error("usage: client.js ADDRESS [--transfers N] [--in-flight K] [--session FILE]");
  process.exit(2);
}
const transfers = Number(option("--transfers", "100"));
const inFlight = Math.max(1, Number(option("--in-flight", "4")));
const sessionFile = option("--session", "");

// A session file keeps the client id, counts the epoch up, and logs each transfer before it is sent.
const session: ClientSession = sessionFile === "" ? createSession() : openSession(sessionFile);
const bank = createClient(Bank, address, { session, timeoutMs: 60_000, retransmitInitialMs: 200 });

// First the transfers the last run left unfinished: the server has run each once, or runs it now.
const unfinished: ResumableCall[] = session.unfinished();
for (const call of unfinished) {
  const result = (await bank.$resume(call)) as TransferRes;
  console.log(`resumed call ${call.sequence}: ${BankStat.BANK_OK === result.stat ? "ok" : "refused"}`);
}

await bank.open({ name: "alice", balance: 1_000_000n });
await bank.open({ name: "bob", balance: 0n });
// The client's own note of each transfer, carried on from the last run (a restarted client goes on).
let ref = BigInt(option("--first-ref", "1"));
const last = ref + BigInt(transfers);
async function worker(): Promise<void> {
  while (ref < last) {
    const mine = ref++;
    const result = await bank.transfer({ from: "alice", to: "bob", amount: 1n, ref: mine });
    if (result.stat !== BankStat.BANK_OK) throw new Error(`transfer ${mine} refused: ${result.stat}`);
    console.log(`done ${mine}`);
  }
}
await Promise.all(Array.from({ length: inFlight }, worker));
for (const account of await bank.accounts()) console.log(`${account.name} ${account.balance}`);
await bank.$close();
if ("close" in session) (session as { close(): void }).close();
