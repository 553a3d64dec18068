/**
 * Calling remote procedures: typed clients made from descriptors, channels
 * that carry their calls. Imported as `once-rpc/client`.
 */
export {
  type BoundProcedure,
  type CallOptions,
  CHANNEL_DEFAULTS,
  Channel,
  type ChannelOptions,
} from "./channel.js";
export {
  bindProcedure,
  type Client,
  type ClientControls,
  type ClientMethod,
  type ClientOptions,
  type ClientTarget,
  createChannel,
  createClient,
  createTransport,
} from "./client.js";
