/**
 * Calling remote procedures: typed clients made from descriptors, channels
 * that carry their calls. Imported as `once-rpc/client`.
 */
export {
  type BalancePolicy,
  type BalancePolicyName,
  balancePolicy,
  type Candidate,
  leastInFlight,
  powerOfTwo,
  roundRobin,
} from "./balance.js";
export {
  type BoundProcedure,
  type CallChannel,
  type CallOptions,
  CHANNEL_DEFAULTS,
  type ChannelOptions,
} from "./call-options.js";
export { Channel } from "./channel.js";
export {
  bindProcedure,
  type Client,
  type ClientControls,
  type ClientMethod,
  type ClientOptions,
  type ClientTarget,
  createClient,
  createResolvingChannel,
  type ServiceTarget,
} from "./client.js";
export { createDeadline, type Deadline } from "./deadline.js";
export {
  type ExterminateOptions,
  type ExterminationReport,
  exterminate,
  type ServerExtermination,
} from "./exterminate.js";
export {
  EXTERMINATION_LOG_DEFAULTS,
  ExterminationLog,
  type ExterminationLogOptions,
  readUnfinished,
  type UnfinishedCall,
} from "./extermination-log.js";
export { createNegotiatedClient, type NegotiatedClient } from "./negotiate.js";
export { createChannel, createTransport } from "./open-channel.js";
export { type BindingQuery, type Endpoint, type Resolver, staticResolver } from "./resolver.js";
export { BINDING_DEFAULTS, type BindingOptions, ResolvingChannel } from "./resolving-channel.js";
export {
  BINDER_PORT,
  defaultRpcbindResolver,
  parseBinderAddress,
  RPCBIND_RESOLVER_DEFAULTS,
  type RpcbindResolverOptions,
  rpcbindResolver,
} from "./rpcbind-resolver.js";
export {
  ClientSession,
  createSession,
  defaultSession,
  type ResumableCall,
  type SessionCallLog,
  type SessionOptions,
} from "./session.js";
export {
  FileSession,
  openSession,
  SESSION_FILE_DEFAULTS,
  type SessionFileOptions,
} from "./session-file.js";
