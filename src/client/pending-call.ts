/** One call of a channel, from when it is made to when it settles. */
import type { CallScope, Semantics } from "../rpc/index.js";
import type { BoundProcedure } from "./call-options.js";
import type { Deadline } from "./deadline.js";

/** One call waiting for its reply; also the OutgoingCall its credentials are written for. */
export class PendingCall {
  readonly xid: number;
  readonly target: BoundProcedure<unknown, unknown>;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  readonly startedAt: number;
  /** When the call fails with TIMEOUT; moves with `own` and `scope`. */
  deadline: number;
  /** The bound timeoutMs sets (infinite when only a movable deadline was given). */
  fixedAt = Number.POSITIVE_INFINITY;
  /** The caller's movable deadline (CallOptions.deadline). */
  own: Deadline | undefined = undefined;
  /** The served call this one was made in (a handler's outgoing call): its deadline bounds this one's. */
  scope: CallScope | undefined = undefined;
  unwatch: (() => void) | undefined = undefined;
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** The message, kept for retransmission over datagrams. */
  chunks: Uint8Array[] = NO_CHUNKS;
  length = 0;
  attempts = 0;
  connectMs = 0;
  retransmitAt = Number.POSITIVE_INFINITY;
  retransmitMs = 0;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  semantics: Semantics = "maybe";
  /** Sent again until a reply or the deadline (every semantics but maybe). */
  retransmits = false;
  /** Written in the session flavor. */
  inSession = false;
  /** The session's number for the call (exactly-once), 0n for none. */
  sequence = 0n;
  firstIncomplete = 0n;
  /** The time left, as the session credential tells the server. */
  timeoutMs = 0;
  /** The NULL call that asks whether the server speaks the session flavor. */
  probe = false;
  /** Sent at least once (attempts counts the sends since the last connection). */
  sent = false;
  /** The arguments, kept while the call waits for the probe to be encoded. */
  args: unknown;

  constructor(xid: number, target: BoundProcedure<unknown, unknown>, startedAt: number, deadline: number) {
    this.xid = xid;
    this.target = target;
    this.program = target.program;
    this.version = target.version;
    this.procedure = target.procedure;
    this.startedAt = startedAt;
    this.deadline = deadline;
  }
}

const NO_CHUNKS: Uint8Array[] = [];
function noop(): void {}
