/**
 * A seeded fault-injecting TCP and UDP proxy for ONC RPC: drop, duplicate,
 * reorder, delay, corrupt messages, cut connections. Imported as
 * `once-rpc/proxy`; the `once proxy` command runs one.
 */
export {
  type Direction,
  type FaultDecision,
  FaultPlan,
  type FaultSettings,
  type Faults,
  faultsOf,
  mergeFaultSettings,
  NO_FAULTS,
} from "./faults.js";
export type { DirectionStats, ProxyTraceEvent } from "./lane.js";
export { createProxy, type FaultProxy, PROXY_DEFAULTS, type ProxyOptions, type ProxyStats } from "./proxy.js";
