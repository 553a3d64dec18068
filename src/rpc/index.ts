/**
 * ONC RPC (RFC 5531) without sockets: program descriptors, the message
 * header, auth flavors and the RpcError family. Imported as `once-rpc/rpc`.
 */
export {
  AUTH_SYS_MAX_GIDS,
  AUTH_SYS_MAX_MACHINE_NAME_BYTES,
  type AuthSysOptions,
  type AuthVerdict,
  authNone,
  authSys,
  type ClientAuth,
  type Credentials,
  type OutgoingCall,
  type ServerAuth,
  type ServerAuthSysOptions,
  serverAuthNone,
  serverAuthSys,
} from "./auth.js";
export type {
  ArgsOf,
  ProcedureDescriptor,
  ProcedureTable,
  ProgramVersionDescriptor,
  ResultOf,
} from "./descriptor.js";
export {
  AuthError,
  authStatName,
  type CallTarget,
  hex,
  isRpcError,
  ProgramMismatchError,
  RPC_ERROR_CODES,
  RpcError,
  type RpcErrorCode,
  RpcMismatchError,
  TimeoutError,
  type TimeoutPhase,
} from "./errors.js";
export {
  type CallHeader,
  createCallHeader,
  createReplyHeader,
  type ReplyHeader,
  RPC_VERSION_2,
  readCallBody,
  readMessageStart,
  readReplyBody,
  writeAcceptedReply,
  writeAuthError,
  writeCallHeader,
  writeProgramMismatch,
  writeRpcMismatch,
} from "./message.js";
export * from "./protocol/rpc_msg.js";
