/**
 * once-rpc: ONC RPC (RFC 5531) and XDR (RFC 4506) for TypeScript.
 *
 * The runtime API in one import. The layers are also importable on their
 * own: `once-rpc/xdr` (marshalling), `once-rpc/rpc` (messages, auth,
 * errors, program descriptors), `once-rpc/transport`, `once-rpc/client`,
 * `once-rpc/server`, `once-rpc/idl` (the .x compiler front end) and
 * `once-rpc/codegen` (TypeScript output).
 */
export * from "./client/index.js";
export * from "./rpc/index.js";
export * from "./server/index.js";
export * from "./transport/index.js";
export * from "./xdr/index.js";
