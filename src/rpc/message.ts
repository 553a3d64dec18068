/**
 * The RPC message header on the call path (RFC 5531 §9), read and written
 * field by field. rpc_msg.ts (generated from rpc_msg.x) has the same message
 * as objects; this is the straight-line version the runtime uses per call,
 * which allocates nothing for a successful reply.
 */
import type { XdrReader, XdrWriter } from "../xdr/index.js";
import type { ClientAuth, OutgoingCall } from "./auth.js";
import {
  AcceptStat,
  MAX_AUTH_BYTES,
  MsgType,
  type OpaqueAuth,
  RejectStat,
  ReplyStat,
} from "./protocol/rpc_msg.js";

/** RFC 5531 §8: the only ONC RPC version. */
export const RPC_VERSION_2 = 2;

/** Writes a call header: xid, CALL, rpcvers 2, prog, vers, proc, cred, verf. The arguments follow. */
export function writeCallHeader(writer: XdrWriter, call: OutgoingCall, auth: ClientAuth): void {
  writer.writeUnsignedInt(call.xid);
  writer.writeUnsignedInt(MsgType.CALL);
  writer.writeUnsignedInt(RPC_VERSION_2);
  writer.writeUnsignedInt(call.program);
  writer.writeUnsignedInt(call.version);
  writer.writeUnsignedInt(call.procedure);
  auth.writeCredentials(writer, call);
}

/** A call header as the server reads it. Reused from call to call: copy what you keep. */
export interface CallHeader {
  xid: number;
  rpcVersion: number;
  program: number;
  version: number;
  procedure: number;
  credential: OpaqueAuth;
  verifier: OpaqueAuth;
}

/** A fresh CallHeader to read into. */
export function createCallHeader(): CallHeader {
  return {
    xid: 0,
    rpcVersion: 0,
    program: 0,
    version: 0,
    procedure: 0,
    credential: { flavor: 0, body: new Uint8Array(0) },
    verifier: { flavor: 0, body: new Uint8Array(0) },
  };
}

/**
 * Reads the xid and message type, the start of every message. Returns the
 * message type; the xid goes into `header`.
 */
export function readMessageStart(reader: XdrReader, header: { xid: number }): number {
  header.xid = reader.readUnsignedInt();
  return reader.readUnsignedInt();
}

/**
 * Reads the rest of a call header after {@link readMessageStart} said CALL.
 * Auth bodies are bounded by MAX_AUTH_BYTES (RFC 5531 §8.2). The reader is
 * left at the arguments.
 */
export function readCallBody(reader: XdrReader, header: CallHeader): void {
  header.rpcVersion = reader.readUnsignedInt();
  header.program = reader.readUnsignedInt();
  header.version = reader.readUnsignedInt();
  header.procedure = reader.readUnsignedInt();
  header.credential = readOpaqueAuth(reader);
  header.verifier = readOpaqueAuth(reader);
}

/** AUTH_NONE with an empty body, by far the most common credential and verifier: one shared object. */
const NULL_AUTH: OpaqueAuth = Object.freeze({ flavor: 0, body: new Uint8Array(0) });

function readOpaqueAuth(reader: XdrReader): OpaqueAuth {
  const flavor = reader.readUnsignedInt();
  const length = reader.readLength(MAX_AUTH_BYTES, 1);
  if (flavor === 0 && length === 0) return NULL_AUTH;
  return { flavor, body: reader.readFixedOpaque(length) };
}

/** Writes an accepted reply's header: xid, REPLY, MSG_ACCEPTED, verf, accept_stat. */
export function writeAcceptedReply(
  writer: XdrWriter,
  xid: number,
  verifier: OpaqueAuth | null,
  stat: AcceptStat,
): void {
  writer.writeUnsignedInt(xid);
  writer.writeUnsignedInt(MsgType.REPLY);
  writer.writeUnsignedInt(ReplyStat.MSG_ACCEPTED);
  if (verifier === null) {
    writer.writeUnsignedInt(0);
    writer.writeUnsignedInt(0);
  } else {
    writer.writeUnsignedInt(verifier.flavor);
    writer.writeVariableOpaque(verifier.body, MAX_AUTH_BYTES);
  }
  writer.writeUnsignedInt(stat);
}

/** Writes a PROG_MISMATCH reply with the versions the server does support. */
export function writeProgramMismatch(writer: XdrWriter, xid: number, low: number, high: number): void {
  writeAcceptedReply(writer, xid, null, AcceptStat.PROG_MISMATCH);
  writer.writeUnsignedInt(low);
  writer.writeUnsignedInt(high);
}

/** Writes an RPC_MISMATCH rejection: this side speaks ONC RPC version 2 only. */
export function writeRpcMismatch(writer: XdrWriter, xid: number): void {
  writer.writeUnsignedInt(xid);
  writer.writeUnsignedInt(MsgType.REPLY);
  writer.writeUnsignedInt(ReplyStat.MSG_DENIED);
  writer.writeUnsignedInt(RejectStat.RPC_MISMATCH);
  writer.writeUnsignedInt(RPC_VERSION_2);
  writer.writeUnsignedInt(RPC_VERSION_2);
}

/** Writes an AUTH_ERROR rejection with its auth_stat. */
export function writeAuthError(writer: XdrWriter, xid: number, stat: number): void {
  writer.writeUnsignedInt(xid);
  writer.writeUnsignedInt(MsgType.REPLY);
  writer.writeUnsignedInt(ReplyStat.MSG_DENIED);
  writer.writeUnsignedInt(RejectStat.AUTH_ERROR);
  writer.writeUnsignedInt(stat);
}

/**
 * What a reply says, read after {@link readMessageStart} said REPLY. For
 * SUCCESS the reader is left at the results. Reused from reply to reply.
 */
export interface ReplyHeader {
  xid: number;
  /** MSG_ACCEPTED or MSG_DENIED. */
  replyStat: number;
  /** accept_stat when accepted, reject_stat when denied. */
  stat: number;
  verifier: OpaqueAuth | null;
  /** PROG_MISMATCH and RPC_MISMATCH: the supported range. */
  low: number;
  high: number;
  /** AUTH_ERROR: the auth_stat. */
  authStat: number;
}

/** A fresh ReplyHeader to read into. */
export function createReplyHeader(): ReplyHeader {
  return { xid: 0, replyStat: 0, stat: 0, verifier: null, low: 0, high: 0, authStat: 0 };
}

/**
 * Reads a reply body (RFC 5531 §9 reply_body). Throws XdrError on a reply
 * that does not decode or has unknown status values.
 */
export function readReplyBody(reader: XdrReader, header: ReplyHeader): void {
  const replyStat = reader.readUnsignedInt();
  header.replyStat = replyStat;
  if (replyStat === ReplyStat.MSG_ACCEPTED) {
    const verifier = readOpaqueAuth(reader);
    // AUTH_NONE verifiers are by far the most common: null stands for them.
    header.verifier = verifier === NULL_AUTH ? null : verifier;
    const stat = reader.readUnsignedInt();
    if (stat > AcceptStat.SYSTEM_ERR)
      throw reader.fail("BAD_ENUM", `${stat} is not an accept_stat`, reader.offset - 4);
    header.stat = stat;
    if (stat === AcceptStat.PROG_MISMATCH) {
      header.low = reader.readUnsignedInt();
      header.high = reader.readUnsignedInt();
    }
  } else if (replyStat === ReplyStat.MSG_DENIED) {
    header.verifier = null;
    const stat = reader.readUnsignedInt();
    header.stat = stat;
    if (stat === RejectStat.RPC_MISMATCH) {
      header.low = reader.readUnsignedInt();
      header.high = reader.readUnsignedInt();
    } else if (stat === RejectStat.AUTH_ERROR) {
      header.authStat = reader.readUnsignedInt();
    } else {
      throw reader.fail("BAD_ENUM", `${stat} is not a reject_stat`, reader.offset - 4);
    }
  } else {
    throw reader.fail("BAD_ENUM", `${replyStat} is not a reply_stat`, reader.offset - 4);
  }
}
