/**
 * The one family of RPC-layer failures, remote or local. Application status
 * (an NFS error code, say) is data in a procedure's result, never an RpcError.
 */
import { AuthStat } from "./protocol/rpc_msg.js";

/**
 * Every RpcError code, with what it means. docs/errors.md lists the same
 * codes; a test keeps the two in step.
 */
export const RPC_ERROR_CODES = {
  PROG_UNAVAIL: "the server does not serve the program (RFC 5531 accept_stat)",
  PROG_MISMATCH: "the server serves the program, but not this version; `low` and `high` say which it does",
  PROC_UNAVAIL: "the program version has no such procedure",
  GARBAGE_ARGS: "the server could not decode the arguments",
  SYSTEM_ERR: "the server failed while running the procedure (a handler threw, say)",
  RPC_MISMATCH: "the server speaks other ONC RPC versions than 2; `low` and `high` say which",
  AUTH_ERROR: "the server refused the credentials; `authStat` says why",
  TIMEOUT: "no reply before the deadline; `phase` says where the time went, `attempts` how many sends",
  ABORTED: "the caller's AbortSignal fired before a reply came",
  CONNECT_FAILED: "no connection could be made to the server",
  CONNECTION_CLOSED: "the connection closed while the call waited for its reply",
  CLIENT_CLOSED: "the client was closed or destroyed before the call could finish",
  MESSAGE_TOO_LARGE: "a message exceeds a limit: the record size, or what fits in a datagram",
  BAD_ARGS: "the arguments could not be encoded: they do not fit the procedure's XDR type",
  BAD_REPLY: "the reply could not be decoded, or is not a valid ONC RPC reply",
  NOT_REGISTERED: "cannot locate the server: the binders asked know no server of the program version",
  BINDER_UNREACHABLE: "cannot locate the server: no binder could be asked where the program is",
  SEMANTICS_UNAVAILABLE:
    "the server cannot give the call semantics asked for (exactly-once from a plain ONC RPC server, say)",
  SESSION_EXPIRED:
    "the server collected the session's completion records when its lease ran out: its exactly-once calls are refused; begin a new session (a new client id)",
} as const;

/** Why a call failed: a key of RPC_ERROR_CODES. */
export type RpcErrorCode = keyof typeof RPC_ERROR_CODES;

/** What a call was addressed to, for error messages and handling. */
export interface CallTarget {
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  /** `DATE_PROG v2 DATE_NOW`, or numbers when names are unknown. */
  readonly label: string;
}

/** A failed remote call: `code` is stable, the message starts with it, the cause is kept. */
export class RpcError extends Error {
  override readonly name: string = "RpcError";
  readonly code: RpcErrorCode;
  /** The call that failed, when the failure belongs to one call. */
  readonly call: CallTarget | undefined;

  constructor(code: RpcErrorCode, detail: string, options?: { cause?: unknown; call?: CallTarget }) {
    super(`${code}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.call = options?.call;
  }
}

/** PROG_MISMATCH: the versions of the program the server does support (RFC 5531 §9). */
export class ProgramMismatchError extends RpcError {
  override readonly name = "ProgramMismatchError";
  readonly low: number;
  readonly high: number;

  constructor(low: number, high: number, call: CallTarget) {
    super(
      "PROG_MISMATCH",
      `program ${hex(call.program)} supports versions ${low}..${high}, not ${call.version} (${call.label})`,
      { call },
    );
    this.low = low;
    this.high = high;
  }
}

/** RPC_MISMATCH: the ONC RPC versions the server speaks. */
export class RpcMismatchError extends RpcError {
  override readonly name = "RpcMismatchError";
  readonly low: number;
  readonly high: number;

  constructor(low: number, high: number, call: CallTarget) {
    super("RPC_MISMATCH", `the server speaks ONC RPC versions ${low}..${high}, not 2 (${call.label})`, {
      call,
    });
    this.low = low;
    this.high = high;
  }
}

/** AUTH_ERROR: the server refused the credentials, for the reason `authStat` (RFC 5531 §9). */
export class AuthError extends RpcError {
  override readonly name = "AuthError";
  readonly authStat: number;

  constructor(authStat: number, call: CallTarget) {
    super("AUTH_ERROR", `${authStatName(authStat)} (${call.label})`, { call });
    this.authStat = authStat;
  }
}

/** Where a call's time went when it timed out. */
export type TimeoutPhase = "bind" | "connect" | "send" | "reply";

/** TIMEOUT: the deadline passed; says where the time went and how many times the call was sent. */
export class TimeoutError extends RpcError {
  override readonly name = "TimeoutError";
  /** What the call was doing when the deadline passed. */
  readonly phase: TimeoutPhase;
  /** How many times the call was sent (retransmissions count). */
  readonly attempts: number;
  readonly elapsedMs: number;
  /** Time spent connecting, when the call had to wait for a connection. */
  readonly connectMs: number;

  constructor(phase: TimeoutPhase, attempts: number, elapsedMs: number, connectMs: number, call: CallTarget) {
    const where =
      phase === "bind"
        ? "while finding the server (binding)"
        : phase === "connect"
          ? "while connecting"
          : phase === "send"
            ? "while sending (the connection did not drain)"
            : "waiting for the reply";
    const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
    const connect = connectMs > 0 ? `, ${connectMs} ms of it connecting` : "";
    super("TIMEOUT", `${call.label}: no reply after ${elapsedMs} ms, ${where} (${tries}${connect})`, {
      call,
    });
    this.phase = phase;
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
    this.connectMs = connectMs;
  }
}

/** True when `error` is an RpcError, optionally with the given code. */
export function isRpcError(error: unknown, code?: RpcErrorCode): error is RpcError {
  return error instanceof RpcError && (code === undefined || error.code === code);
}

/** The RFC 5531 name of an auth_stat value, e.g. `AUTH_BADCRED`. */
export function authStatName(stat: number): string {
  for (const [name, value] of Object.entries(AuthStat)) if (value === stat) return name;
  return `auth_stat ${stat}`;
}

/** A program number as rpcinfo and .x files write it. */
export function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
