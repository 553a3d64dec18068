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
export {
  type CallScope,
  callScopesWanted,
  currentCallScope,
  runInCallScope,
  wantCallScopes,
} from "./call-scope.js";
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
export * as onceSession from "./protocol/once_session.js";
export {
  AUTH_ONCE_SESSION,
  ONCE_FEATURE_AT_MOST_ONCE,
  ONCE_FEATURE_CONTROL,
  ONCE_FEATURE_DEADLINES,
  ONCE_FEATURE_EXACTLY_ONCE,
  OnceControlProgV1,
} from "./protocol/once_session.js";
export * from "./protocol/rpc_msg.js";
export {
  isSemantics,
  needsSession,
  type ProcedureSemantics,
  retransmits,
  SEMANTICS,
  type Semantics,
  semanticsCode,
  semanticsName,
  withSemantics,
} from "./semantics.js";
export {
  decodeSessionVerifier,
  type SessionCallFields,
  type SessionFeatures,
  type SessionIdentity,
  type SessionInfo,
  type SessionOutgoingCall,
  serverAuthSession,
  sessionAuth,
  sessionVerifier,
} from "./session-auth.js";
