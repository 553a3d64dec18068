/**
 * The call a server's handler is serving, as its own outgoing calls see it
 * (docs/semantics.md, "Nested calls"): a client call made while a handler
 * runs inherits that call's deadline and cancellation, so that when the
 * first caller goes away, the computations it started elsewhere (the
 * grand-orphans) are abandoned too. The server sets the scope around each
 * handler with AsyncLocalStorage; the client reads it in Channel.call.
 *
 * It lives in rpc/ because both client/ and server/ use it and neither may
 * import the other.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** What an outgoing call inherits from the call being served. */
export interface CallScope {
  /** Fires when the served call is abandoned (deadline, cancellation, orphan, lost connection). */
  readonly signal: AbortSignal;
  /** When the served call's client stops waiting, in ms since the epoch; undefined: no deadline. */
  readonly deadline: number | undefined;
  /**
   * Calls `listener` each time the deadline moves (the client extended it);
   * returns the function that stops listening.
   */
  watchDeadline(listener: (deadline: number | undefined) => void): () => void;
}

const storage = new AsyncLocalStorage<CallScope>();
let wanted = false;

/**
 * @internal Says that this process makes outgoing calls, so that the
 * handlers of session calls run inside their scope from now on. Until then,
 * and for plain calls always, a server does not use AsyncLocalStorage: on
 * Node 20 its first use installs promise hooks, which slow every promise of
 * the process.
 */
export function wantCallScopes(): void {
  wanted = true;
}

/** @internal Whether handlers should run inside their scope (a Channel exists in the process). */
export function callScopesWanted(): boolean {
  return wanted;
}

/** @internal Runs `fn(a, b)` with `scope` as the current call scope. */
export function runInCallScope<A, B, R>(scope: CallScope, fn: (a: A, b: B) => R, a: A, b: B): R {
  return storage.run(scope, fn, a, b);
}

/** The call being served where this runs (inside a handler, and what it awaits), or undefined. */
export function currentCallScope(): CallScope | undefined {
  return wanted ? storage.getStore() : undefined;
}
