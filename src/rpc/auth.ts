/**
 * Authentication flavors (RFC 5531 §8.2, §14): AUTH_NONE and AUTH_SYS, behind
 * one interface for each side that later flavors (AUTH_TLS, our session
 * flavor, RPCSEC_GSS) implement too.
 */
import { XdrReader, XdrWriter } from "../xdr/index.js";
import {
  AUTH_NONE,
  AUTH_SYS,
  AuthStat,
  type AuthsysParms,
  AuthsysParmsCodec,
  MAX_AUTH_BYTES,
  type OpaqueAuth,
} from "./protocol/rpc_msg.js";
import type { SessionInfo } from "./session-auth.js";

/** What a client-side flavor is told about the call it writes credentials for. */
export interface OutgoingCall {
  readonly xid: number;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
}

/**
 * The client side of a flavor: writes a call's credential and verifier, and
 * checks the verifier of its reply.
 */
export interface ClientAuth {
  readonly flavor: number;
  /** Writes `cred` then `verf` (two opaque_auth, RFC 5531 §9) for one call. */
  writeCredentials(writer: XdrWriter, call: OutgoingCall): void;
  /** Whether the reply's verifier is acceptable; a flavor without verifiers accepts any. */
  checkReplyVerifier(verifier: OpaqueAuth, call: OutgoingCall): boolean;
}

/** Credentials as a server handler sees them. */
export type Credentials =
  | { readonly flavor: typeof AUTH_NONE }
  | { readonly flavor: typeof AUTH_SYS; readonly sys: Readonly<AuthsysParms> }
  | { readonly flavor: number; readonly body: Uint8Array };

/**
 * A server-side flavor's verdict: the caller's credentials (and, from the
 * session flavor, its session), or the auth_stat of the refusal.
 */
export type AuthVerdict =
  | {
      readonly ok: true;
      readonly credentials: Credentials;
      readonly verifier?: OpaqueAuth;
      readonly session?: SessionInfo;
    }
  | { readonly ok: false; readonly stat: AuthStat };

/** The server side of a flavor: checks a call's credential and verifier. */
export interface ServerAuth {
  readonly flavor: number;
  authenticate(credential: OpaqueAuth, verifier: OpaqueAuth): AuthVerdict;
}

const NULL_AUTH_BYTES = new Uint8Array(16);
const NONE_VERDICT: AuthVerdict = Object.freeze({
  ok: true,
  credentials: Object.freeze({ flavor: AUTH_NONE }),
});

/** AUTH_NONE for clients: empty credential and verifier. */
export const authNone: ClientAuth = Object.freeze({
  flavor: AUTH_NONE,
  writeCredentials(writer: XdrWriter): void {
    writer.writeFixedOpaque(NULL_AUTH_BYTES, 16);
  },
  checkReplyVerifier(): boolean {
    return true;
  },
});

/** AUTH_SYS limits (RFC 5531 §14): the machine name and the number of groups. */
export const AUTH_SYS_MAX_MACHINE_NAME_BYTES = 255;
export const AUTH_SYS_MAX_GIDS = 16;

/** What an AUTH_SYS credential says about the caller. `stamp` defaults to the time in seconds. */
export interface AuthSysOptions {
  readonly machineName: string;
  readonly uid: number;
  readonly gid: number;
  readonly gids?: readonly number[];
  readonly stamp?: number;
}

/**
 * AUTH_SYS for clients. The credential is encoded once here, so a call only
 * copies its bytes. Throws a RangeError past the limits of RFC 5531 §14.
 */
export function authSys(options: AuthSysOptions): ClientAuth {
  const parms: AuthsysParms = {
    stamp: options.stamp ?? Math.floor(Date.now() / 1000) >>> 0,
    machinename: options.machineName,
    uid: options.uid,
    gid: options.gid,
    gids: [...(options.gids ?? [])],
  };
  if (Buffer.byteLength(parms.machinename) > AUTH_SYS_MAX_MACHINE_NAME_BYTES) {
    throw new RangeError(`AUTH_SYS machine name is over ${AUTH_SYS_MAX_MACHINE_NAME_BYTES} bytes`);
  }
  if (parms.gids.length > AUTH_SYS_MAX_GIDS) {
    throw new RangeError(`AUTH_SYS carries at most ${AUTH_SYS_MAX_GIDS} groups, not ${parms.gids.length}`);
  }
  const w = new XdrWriter();
  w.writeUnsignedInt(AUTH_SYS);
  const body = new XdrWriter();
  AuthsysParmsCodec.encode(body, parms);
  w.writeVariableOpaque(body.view(), MAX_AUTH_BYTES);
  w.writeUnsignedInt(AUTH_NONE); // verifier
  w.writeUnsignedInt(0);
  const bytes = w.bytes();
  return {
    flavor: AUTH_SYS,
    writeCredentials(writer: XdrWriter): void {
      writer.writeFixedOpaque(bytes, bytes.length);
    },
    checkReplyVerifier(): boolean {
      return true;
    },
  };
}

/** AUTH_NONE for servers: accepts every call that carries it. */
export const serverAuthNone: ServerAuth = Object.freeze({
  flavor: AUTH_NONE,
  authenticate(): AuthVerdict {
    return NONE_VERDICT;
  },
});

/** Options of {@link serverAuthSys}. */
export interface ServerAuthSysOptions {
  /** Refuse a caller by returning an auth_stat (AUTH_TOOWEAK, say); accept with undefined. */
  readonly check?: (parms: Readonly<AuthsysParms>) => AuthStat | undefined;
}

/**
 * AUTH_SYS for servers: decodes the credential within the limits of RFC 5531
 * §14 (AUTH_BADCRED when it does not decode), then applies `check`. AUTH_SYS
 * proves nothing about the caller: it is what the caller says it is.
 */
export function serverAuthSys(options: ServerAuthSysOptions = {}): ServerAuth {
  const reader = new XdrReader(new Uint8Array(0));
  const check = options.check;
  return {
    flavor: AUTH_SYS,
    authenticate(credential: OpaqueAuth): AuthVerdict {
      let sys: AuthsysParms;
      try {
        reader.reset(credential.body);
        sys = AuthsysParmsCodec.decode(reader);
        reader.expectEnd();
      } catch {
        return { ok: false, stat: AuthStat.AUTH_BADCRED };
      }
      const refused = check?.(sys);
      if (refused !== undefined) return { ok: false, stat: refused };
      return { ok: true, credentials: { flavor: AUTH_SYS, sys } };
    },
  };
}
