/**
 * once-rpc: ONC RPC (RFC 5531) and XDR (RFC 4506) for TypeScript.
 *
 * The runtime API in one import. The layers are also importable on their
 * own: `once-rpc/xdr` (marshalling), `once-rpc/rpc` (messages and program
 * descriptors), `once-rpc/idl` (the .x compiler front end) and
 * `once-rpc/codegen` (TypeScript output).
 */
export * from "./rpc/index.js";
export * from "./xdr/index.js";
