/**
 * ONC RPC (RFC 5531) without sockets: program descriptors today; messages,
 * auth flavors and errors as the runtime lands. Imported as `once-rpc/rpc`.
 */
export type {
  ArgsOf,
  ProcedureDescriptor,
  ProcedureTable,
  ProgramVersionDescriptor,
  ResultOf,
} from "./descriptor.js";
export * from "./protocol/rpc_msg.js";
