/**
 * Serving remote procedures: programs added by descriptor, handlers typed
 * from it, listeners on TCP, UDP, Unix sockets and in memory. Imported as
 * `once-rpc/server`.
 */
export type { CallContext } from "./call-context.js";
export type { ClientStanding, CompletionStore } from "./completion-store.js";
export type { Handler, Implementation } from "./implementation.js";
export { consoleLogger, type Logger, silentLogger } from "./logger.js";
export { isNoReply, NoReply } from "./no-reply.js";
export {
  checksum,
  REPLY_CACHE_DEFAULTS,
  ReplyCache,
  type ReplyCacheOptions,
  type ReplyCacheStats,
} from "./reply-cache.js";
export { createServer, SERVER_DEFAULTS, type Server, type ServerOptions } from "./server.js";
export {
  createSqliteCompletionStore,
  SQLITE_COMPLETION_STORE_DEFAULTS,
  SqliteCompletionStore,
  type SqliteCompletionStoreCounts,
  type SqliteCompletionStoreOptions,
  type SqliteDatabase,
  type SqliteDatabaseConstructor,
  type SqliteStatement,
  type SweepResult,
} from "./sqlite-completion-store.js";
