/**
 * StoreError: what goes wrong keeping the binder's state in a file or in
 * etcd. Not an RpcError: no RPC call fails this way (a SET whose write
 * fails answers FALSE); it is thrown where the binder starts or closes, and
 * passed to `onStoreError` while it runs.
 */

/** The closed set of StoreError codes (docs/binder.md, "State and sharing"). */
export const StoreErrorCode = {
  /** The state file does not parse, or holds something that is not the binder's state. */
  STATE_FILE_CORRUPT: "STATE_FILE_CORRUPT",
  /** Reading or writing the state file failed (permissions, disk full, …); the cause is kept. */
  STATE_FILE_IO: "STATE_FILE_IO",
  /** No etcd endpoint answered within the request timeout. */
  ETCD_UNAVAILABLE: "ETCD_UNAVAILABLE",
  /** etcd answered with an error, or lost the binder's lease. */
  ETCD_FAILED: "ETCD_FAILED",
} as const;

/** One of {@link StoreErrorCode}. */
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** A failure of the binder's state file or of etcd; the message starts with the code. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = "StoreError";
    this.code = code;
  }
}

/** True when `error` is a StoreError. */
export function isStoreError(error: unknown): error is StoreError {
  return error instanceof StoreError;
}
