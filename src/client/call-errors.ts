/**
 * The RpcErrors a channel gives its calls: each names the call it belongs
 * to, keeps its cause, and says where the server was.
 */
import { AcceptStat, type CallTarget, ProgramMismatchError, RpcError } from "../rpc/index.js";
import { type ClientTransport, formatAddress } from "../transport/index.js";

/** @internal The error, naming the call it belongs to (a transport's errors name none). */
export function withCall(error: RpcError, call: CallTarget): RpcError {
  if (error.call !== undefined) return error;
  return new RpcError(error.code, `${error.message.slice(error.code.length + 2)} (${call.label})`, {
    cause: error.cause ?? error,
    call,
  });
}

/** ABORTED, with the signal's reason as the cause. */
export function abortedError(target: CallTarget, signal: AbortSignal): RpcError {
  return new RpcError("ABORTED", `${target.label}: the call was aborted`, {
    cause: signal.reason,
    call: target,
  });
}

/** BAD_REPLY: a reply that does not decode. */
export function badReply(target: CallTarget, error: unknown): RpcError {
  const detail = error instanceof Error ? error.message : String(error);
  return new RpcError("BAD_REPLY", `${target.label}: the reply does not decode: ${detail}`, {
    cause: error,
    call: target,
  });
}

/** The error of an accepted reply whose accept_stat is not SUCCESS (RFC 5531 §9). */
export function acceptedError(
  stat: number,
  low: number,
  high: number,
  target: CallTarget,
  transport: ClientTransport,
): RpcError {
  const at = transport.remote ? ` at ${formatAddress(transport.remote)}` : "";
  const call = { call: target };
  switch (stat) {
    case AcceptStat.PROG_UNAVAIL:
      return new RpcError(
        "PROG_UNAVAIL",
        `${target.label}: the server${at} does not serve the program`,
        call,
      );
    case AcceptStat.PROG_MISMATCH:
      return new ProgramMismatchError(low, high, target);
    case AcceptStat.PROC_UNAVAIL:
      return new RpcError(
        "PROC_UNAVAIL",
        `${target.label}: the server${at} has no procedure ${target.procedure}`,
        call,
      );
    case AcceptStat.GARBAGE_ARGS:
      return new RpcError(
        "GARBAGE_ARGS",
        `${target.label}: the server${at} could not decode the arguments`,
        call,
      );
    default:
      return new RpcError("SYSTEM_ERR", `${target.label}: the server${at} failed to run the procedure`, call);
  }
}
