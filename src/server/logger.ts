/**
 * Where the server reports what it cannot send to a caller (a handler's
 * exception, a malformed message). Any logger with `warn` and `error` fits
 * (console, pino, winston).
 */
export interface Logger {
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** The default: one line per event on stderr. */
export const consoleLogger: Logger = Object.freeze({
  warn(message: string, details?: Record<string, unknown>): void {
    console.warn(`once-rpc: ${message}`, ...(details === undefined ? [] : [details]));
  },
  error(message: string, details?: Record<string, unknown>): void {
    console.error(`once-rpc: ${message}`, ...(details === undefined ? [] : [details]));
  },
});

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({ warn() {}, error() {} });
