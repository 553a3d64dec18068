/**
 * A handler's way to send no reply at all. ONC RPC has calls that are not
 * answered: batched calls (RFC 5531 §7.4.1), and broadcast calls, to which
 * servers "are silent in the face of errors" (§7.4.2) so that the caller is
 * not drowned in them; rpcbind stays silent where a remote call it would
 * forward fails or comes over a stream (CALLIT/BCAST, RFC 1833 §2.2.1). The
 * caller times out or retransmits; a broadcaster hears only the servers
 * that could answer.
 */

/**
 * Thrown (or rejected with) by a handler: the server sends nothing for the
 * call, logs nothing, and serves the connection on. It is not an RpcError:
 * no reply status describes it, and it never reaches a client.
 */
export class NoReply extends Error {
  override readonly name = "NoReply";

  /** `reason` is for whoever reads a stack trace; it is never sent. */
  constructor(reason = "the handler sends no reply") {
    super(reason);
  }
}

/** Whether a handler threw or rejected with {@link NoReply}. */
export function isNoReply(error: unknown): error is NoReply {
  return error instanceof NoReply;
}
