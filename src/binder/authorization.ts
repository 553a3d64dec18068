/**
 * Who may SET and UNSET, and who owns what they register.
 *
 * rpcbind 1.2.6 (security.c, rpcb_svc_com.c) accepts SET and UNSET from its
 * Unix socket and from loopback addresses, and refuses anyone else with
 * AUTH_ERROR (AUTH_TOOWEAK); the owner is the caller's uid, which it reads
 * from the Unix socket (SO_PEERCRED): "superuser" for uid 0, the uid in
 * decimal otherwise, and "unknown" over TCP and UDP (for the portmapper, a
 * loopback caller on a privileged port is the "superuser").
 *
 * We do the same, with two differences, both documented in docs/binder.md:
 * - Node cannot read SO_PEERCRED, so on the Unix socket the uid is the one
 *   the caller states: its AUTH_SYS uid, else the `r_owner` of its rpcb
 *   arguments (libtirpc's rpcb_set sends its effective uid there).
 * - A caller from any address may SET and UNSET when it presents one of the
 *   configured tokens as the machine name of an AUTH_SYS credential; its
 *   owner is then its AUTH_SYS uid.
 */
import { timingSafeEqual } from "node:crypto";
import { AUTH_SYS, type Credentials } from "../rpc/index.js";
import type { Peer } from "../transport/index.js";
import { isLoopbackHost } from "../transport/universal-address.js";
import { SUPERUSER, UNKNOWN_OWNER } from "./registry.js";

/** Who may change registrations. */
export interface AuthorizationOptions {
  /**
   * Secrets that authorize SET and UNSET from any address: the caller puts
   * one as the machine name of an AUTH_SYS credential. They travel in clear
   * text: a guard on a trusted network, not against eavesdroppers.
   */
  readonly tokens?: readonly string[];
  /** Accept SET and UNSET from any address, as `rpcbind -i`. Default false. */
  readonly insecure?: boolean;
}

/** The verdict on a SET or UNSET: refused, or allowed with the owner to record or check. */
export type Authorization = { readonly allowed: false } | { readonly allowed: true; readonly owner: string };

/** Ports below this are privileged: only root can bind them (IPPORT_RESERVED). */
const IPPORT_RESERVED = 1024;

/**
 * Decides whether the caller of a SET or UNSET may make it, and whose the
 * registration is. `version` is the binder's version called (2, 3 or 4) and
 * `statedOwner` the `r_owner` of version 3 and 4 arguments.
 */
export function authorize(
  peer: Peer,
  credentials: Credentials,
  version: number,
  statedOwner: string | undefined,
  options: AuthorizationOptions = {},
): Authorization {
  const sysUid = credentials.flavor === AUTH_SYS && "sys" in credentials ? credentials.sys.uid : undefined;
  if (peer.protocol === "unix") {
    if (sysUid !== undefined) return { allowed: true, owner: ownerOfUid(sysUid) };
    return { allowed: true, owner: ownerOfStated(statedOwner) };
  }
  if (sysUid !== undefined && presentsToken(credentials, options.tokens)) {
    return { allowed: true, owner: ownerOfUid(sysUid) };
  }
  if (!isLoopbackHost(peer.host) && !options.insecure) return { allowed: false };
  // pmap_svc.c: a loopback caller on a privileged port is root (is_localroot); rpcbind asks this of version 2 only.
  if (version === 2 && isLoopbackHost(peer.host) && peer.port < IPPORT_RESERVED) {
    return { allowed: true, owner: SUPERUSER };
  }
  return { allowed: true, owner: UNKNOWN_OWNER };
}

/** The owner name rpcbind gives a uid. */
export function ownerOfUid(uid: number): string {
  return uid === 0 ? SUPERUSER : String(uid);
}

/** An `r_owner` as a caller states it: a decimal uid or "superuser"; anything else is unknown. */
function ownerOfStated(stated: string | undefined): string {
  if (stated === SUPERUSER) return SUPERUSER;
  if (stated !== undefined && /^\d{1,10}$/.test(stated) && Number(stated) <= 0xffff_ffff) {
    return ownerOfUid(Number(stated));
  }
  return UNKNOWN_OWNER;
}

function presentsToken(credentials: Credentials, tokens: readonly string[] | undefined): boolean {
  if (tokens === undefined || tokens.length === 0 || !("sys" in credentials)) return false;
  const given = Buffer.from(credentials.sys.machinename);
  let match = false;
  for (const token of tokens) {
    const expected = Buffer.from(token);
    // Compared in constant time, and every token is tried, so timing does not tell which matched.
    if (token !== "" && expected.length === given.length && timingSafeEqual(expected, given)) match = true;
  }
  return match;
}
