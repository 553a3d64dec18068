/**
 * The binder: a drop-in rpcbind (portmapper version 2, rpcbind versions 3
 * and 4) built on the once-rpc server from our own generated code, its
 * registry, universal addresses, and registering a server with a binder.
 * Imported as `once-rpc/binder`.
 */

export {
  BINDER_PORT,
  parseBinderAddress,
  RPCBIND_RESOLVER_DEFAULTS,
  type RpcbindResolverOptions,
  rpcbindResolver,
} from "../client/rpcbind-resolver.js";
export * as pmapProt from "../rpc/protocol/pmap_prot.js";
export { PmapProgV2 } from "../rpc/protocol/pmap_prot.js";
export * as rpcbProt from "../rpc/protocol/rpcb_prot.js";
export { RpcbprogV3, RpcbprogV4 } from "../rpc/protocol/rpcb_prot.js";
export {
  formatIPv6,
  formatUniversalAddress,
  isLoopbackHost,
  isWildcardHost,
  Netid,
  type NetidInfo,
  NO_TRANSPORT_ADDRESS,
  netidInfo,
  netidOf,
  type ProtocolFamily,
  parseIPv4,
  parseIPv6,
  parseUniversalAddress,
  type TransportAddress,
  transportToUniversal,
  universalAddressPort,
  universalToTransport,
  unmapIPv4,
} from "../transport/universal-address.js";
export { type InterfaceList, mergeAddress } from "./address-merge.js";
export { type Authorization, type AuthorizationOptions, authorize, ownerOfUid } from "./authorization.js";
export { BINDER_DEFAULTS, type Binder, type BinderOptions, createBinder, transportNetid } from "./binder.js";
export {
  INSTANCE_RESOLVER_DEFAULTS,
  type InstanceResolverOptions,
  instanceResolver,
} from "./instance-resolver.js";
export { HEALTH_DEFAULTS, HealthMonitor, type HealthOptions } from "./instances/health-monitor.js";
export {
  type InstanceChange,
  type InstanceFilter,
  type InstanceRecord,
  type InstanceState,
  isInstanceRecord,
  type RemovalReason,
} from "./instances/instance.js";
export { type InstanceServiceOptions, instanceService } from "./instances/instance-service.js";
export {
  INSTANCE_TABLE_DEFAULTS,
  InstanceTable,
  type InstanceTableOptions,
  type MissOutcome,
  type NewInstance,
} from "./instances/instance-table.js";
export { type Probe, type ProbeTarget, probeAddress, probeInstance } from "./instances/probe.js";
export { dumpInstances, type Instance, type InstanceQuery, listInstances } from "./list-instances.js";
export * as onceBinderProt from "./protocol/once_binder.js";
export { OnceBinderProgV1 } from "./protocol/once_binder.js";
export {
  type Registered,
  type RegisterOptions,
  registerServer,
} from "./register.js";
export {
  REGISTER_INSTANCE_DEFAULTS,
  type RegisteredInstance,
  type RegisteredInstances,
  type RegisterInstanceOptions,
  registerInstance,
} from "./register-instance.js";
export {
  ipProtocolOf,
  isRegistration,
  netidOfIpProtocol,
  type Registration,
  Registry,
  type RegistryChange,
  type RegistryOptions,
  registrationKey,
  SUPERUSER,
  UNKNOWN_OWNER,
} from "./registry.js";
export { isForwardingRefused } from "./remote-call.js";
export { BinderStatistics } from "./statistics.js";
export {
  BinderStore,
  type BinderStoreOptions,
  ETCD_SHARE_DEFAULTS,
  type EtcdShareOptions,
} from "./store/binder-store.js";
export {
  type Collection,
  type ConflictRule,
  INSTANCES,
  instanceCollection,
  REGISTRATIONS,
  registryCollection,
  type StoreChange,
  type StoreEntry,
} from "./store/collection.js";
export { dropUnreachable, type RestoreCheckOptions } from "./store/restore-check.js";
export { readStateFile, STATE_FILE_FORMAT, writeStateFile } from "./store/state-file.js";
export { isStoreError, StoreError, StoreErrorCode } from "./store/store-error.js";
