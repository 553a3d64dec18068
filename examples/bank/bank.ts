/**
 * The bank service of bank.x: accounts and a log of transfers in one SQLite
 * file, beside the completion records of exactly-once calls, so that a
 * transfer's effects and the record of its reply commit in one transaction
 * (`ctx.commit`). A transfer sent again — after a lost reply, a lost
 * connection, a restart of the server or of the client — is answered from
 * its record instead of moving the money twice.
 */
import {
  createServer,
  createSqliteCompletionStore,
  type Server,
  type SqliteCompletionStore,
  type SqliteDatabase,
  silentLogger,
  withSemantics,
} from "once-rpc";
import { type Account, BankProgV1, BankStat, type TransferArgs, type TransferRes } from "./gen/bank.js";

/** BANK_PROG v1 with its semantics: transfers exactly once; opening and listing accounts may be repeated. */
export const Bank = withSemantics(BankProgV1, {
  transfer: { semantics: "exactly-once" },
  open: { idempotent: true, semantics: "at-least-once" },
  accounts: { idempotent: true, semantics: "at-least-once" },
});

/** Options of createBankServer. */
export interface BankServerOptions {
  /** The SQLite file: accounts, transfers and completion records. */
  readonly path: string;
  /** "full" (the default) or "normal": see docs/semantics.md#exactly-once. */
  readonly synchronous?: "full" | "normal";
}

/** A bank server, not yet listening, and its store (closed by `close`). */
export interface BankServer {
  readonly server: Server;
  readonly store: SqliteCompletionStore;
  /** Closes the server, then the store. */
  close(): Promise<void>;
}

/** The bank's tables, in the store's own file; created when missing. */
function prepareBank(db: SqliteDatabase) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS transfers (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      ref INTEGER NOT NULL,
      source TEXT NOT NULL,
      target TEXT NOT NULL,
      amount INTEGER NOT NULL
    );
  `);
  // Prepared once: a statement prepared per call would cost more than the call.
  return {
    balance: db.prepare("SELECT balance FROM accounts WHERE name = ?").pluck().safeIntegers(),
    add: db.prepare("UPDATE accounts SET balance = balance + ? WHERE name = ?"),
    log: db.prepare("INSERT INTO transfers (ref, source, target, amount) VALUES (?, ?, ?, ?)"),
    open: db.prepare("INSERT INTO accounts (name, balance) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"),
    all: db.prepare("SELECT name, balance FROM accounts ORDER BY name").safeIntegers(),
  };
}

/** A bank server over the SQLite file at `options.path`. */
export function createBankServer(options: BankServerOptions): BankServer {
  const store = createSqliteCompletionStore({ path: options.path, synchronous: options.synchronous });
  const sql = prepareBank(store.database);

  /** The transfer itself: run inside the transaction that also writes the call's completion record. */
  function transfer(args: TransferArgs): TransferRes {
    const from = sql.balance.get(args.from) as bigint | undefined;
    if (from === undefined || sql.balance.get(args.to) === undefined)
      return { stat: BankStat.BANK_NO_ACCOUNT };
    if (from < args.amount) return { stat: BankStat.BANK_INSUFFICIENT };
    sql.add.run(-args.amount, args.from);
    sql.add.run(args.amount, args.to);
    sql.log.run(args.ref, args.from, args.to, args.amount);
    return { stat: BankStat.BANK_OK, balance: from - args.amount };
  }

  const server = createServer({ completionStore: store, logger: silentLogger }).addProgram(Bank, {
    // Exactly-once calls commit through ctx.commit; a plain caller's transfer still runs in one transaction.
    transfer: (args, ctx) =>
      ctx.session?.semantics === "exactly-once"
        ? ctx.commit(() => transfer(args))
        : store.transaction(() => transfer(args)),
    open: (account): Account => {
      sql.open.run(account.name, account.balance);
      return { name: account.name, balance: sql.balance.get(account.name) as bigint };
    },
    accounts: () => sql.all.all() as Account[],
  });
  return {
    server,
    store,
    async close() {
      await server.close();
      store.close();
    },
  };
}
