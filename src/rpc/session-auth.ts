/**
 * The session flavor (once_session.x, docs/semantics.md): a credential that
 * carries who the caller is across connections and restarts (client id,
 * epoch), which call this is (sequence), what it acknowledges, how long it
 * will wait, and the semantics it asks for, around the caller's own
 * credential. The server answers with a verifier naming its features and
 * its own identity, which is how a client learns that a server speaks it.
 */
import { XdrReader, XdrWriter } from "../xdr/index.js";
import type { AuthVerdict, ClientAuth, Credentials, OutgoingCall, ServerAuth } from "./auth.js";
import {
  AUTH_ONCE_SESSION,
  ONCE_CLIENT_ID_BYTES,
  ONCE_MAX_INNER_BYTES,
  ONCE_SESSION_VERSION,
  OnceSessionCredCodec,
  type OnceSessionVerf,
  OnceSessionVerfCodec,
} from "./protocol/once_session.js";
import { AUTH_NONE, AuthStat, MAX_AUTH_BYTES, type OpaqueAuth } from "./protocol/rpc_msg.js";
import { type Semantics, semanticsCode, semanticsName } from "./semantics.js";

/** Who a session client is: the same across its connections, and across its restarts when it keeps a state file. */
export interface SessionIdentity {
  /** 16 random bytes. */
  readonly clientId: Uint8Array;
  /** The incarnation: counts up each time the client starts with the same id. */
  readonly epoch: bigint;
}

/** What a call in the session flavor says beyond its header. */
export interface SessionCallFields {
  /** The call's number in its client, from 1; 0 when it needs no identity. */
  sequence: bigint;
  /** Every sequence below this has had its reply received. */
  firstIncomplete: bigint;
  /** How long the client still waits, in ms; 0: no deadline. */
  timeoutMs: number;
  semantics: Semantics;
}

/** A call as the session flavor writes it. */
export type SessionOutgoingCall = OutgoingCall & Partial<SessionCallFields>;

/** What a server learns from a session credential; a handler sees it as `ctx.session`. */
export interface SessionInfo {
  readonly clientId: Uint8Array;
  /** clientId in hex: a map key. */
  readonly clientKey: string;
  readonly epoch: bigint;
  readonly sequence: bigint;
  readonly firstIncomplete: bigint;
  readonly timeoutMs: number;
  readonly semantics: Semantics;
}

/** What a server announces in its verifier. */
export interface SessionFeatures {
  readonly features: number;
  /** 8 random bytes per server process, in hex: it changes when the server restarts. */
  readonly serverId: string;
}

/**
 * The session flavor for clients, wrapping `inner` (AUTH_NONE or AUTH_SYS:
 * a credential that does not change from call to call, encoded once here).
 * Throws a RangeError when the inner credential leaves no room in the 400
 * bytes of an opaque_auth body (RFC 5531 §8.2).
 */
export function sessionAuth(
  identity: SessionIdentity,
  inner: ClientAuth,
): ClientAuth & {
  readonly identity: SessionIdentity;
} {
  if (identity.clientId.length !== ONCE_CLIENT_ID_BYTES) {
    throw new RangeError(
      `a session client id is ${ONCE_CLIENT_ID_BYTES} bytes, not ${identity.clientId.length}`,
    );
  }
  const scratch = new XdrWriter();
  inner.writeCredentials(scratch, { xid: 0, program: 0, version: 0, procedure: 0 });
  const r = new XdrReader(scratch.bytes());
  const innerFlavor = r.readUnsignedInt();
  const innerBody = r.readVariableOpaque(MAX_AUTH_BYTES);
  if (innerBody.length > ONCE_MAX_INNER_BYTES) {
    throw new RangeError(
      `the credential inside a session is ${innerBody.length} bytes; at most ${ONCE_MAX_INNER_BYTES} fit`,
    );
  }
  const clientId = identity.clientId.slice();
  const epoch = identity.epoch;
  const bodyBytes = 4 + ONCE_CLIENT_ID_BYTES + 8 + 8 + 8 + 4 + 4 + 4 + 4 + ((innerBody.length + 3) & ~3);
  return {
    flavor: AUTH_ONCE_SESSION,
    identity: { clientId, epoch },
    writeCredentials(w: XdrWriter, call: SessionOutgoingCall): void {
      w.writeUnsignedInt(AUTH_ONCE_SESSION);
      w.writeUnsignedInt(bodyBytes);
      w.writeUnsignedInt(ONCE_SESSION_VERSION);
      w.writeFixedOpaque(clientId, ONCE_CLIENT_ID_BYTES);
      w.writeUnsignedHyper(epoch);
      w.writeUnsignedHyper(call.sequence ?? 0n);
      w.writeUnsignedHyper(call.firstIncomplete ?? 0n);
      w.writeUnsignedInt(call.timeoutMs ?? 0);
      w.writeUnsignedInt(semanticsCode(call.semantics ?? "maybe"));
      w.writeUnsignedInt(innerFlavor);
      w.writeVariableOpaque(innerBody, ONCE_MAX_INNER_BYTES);
      w.writeUnsignedInt(AUTH_NONE); // verifier
      w.writeUnsignedInt(0);
    },
    checkReplyVerifier(verifier: OpaqueAuth): boolean {
      // A session reply carries our verifier; anything else is not from a session server.
      return verifier.flavor === AUTH_ONCE_SESSION && decodeSessionVerifier(verifier) !== undefined;
    },
  };
}

/** The features and server id of a session verifier, or undefined when it is not one. */
export function decodeSessionVerifier(verifier: OpaqueAuth): SessionFeatures | undefined {
  if (verifier.flavor !== AUTH_ONCE_SESSION) return undefined;
  let v: OnceSessionVerf;
  try {
    const r = new XdrReader(verifier.body);
    v = OnceSessionVerfCodec.decode(r);
    r.expectEnd();
  } catch {
    return undefined;
  }
  if (v.format !== ONCE_SESSION_VERSION) return undefined;
  return { features: v.features, serverId: Buffer.from(v.server_id).toString("hex") };
}

/** The session verifier a server sends: its features and id. */
export function sessionVerifier(features: number, serverId: Uint8Array): OpaqueAuth {
  const w = new XdrWriter();
  OnceSessionVerfCodec.encode(w, { format: ONCE_SESSION_VERSION, features, server_id: serverId });
  return { flavor: AUTH_ONCE_SESSION, body: w.bytes() };
}

/**
 * The session flavor for servers: decodes the credential (AUTH_BADCRED when
 * it does not), checks the caller's own credential with the flavor of
 * `inner` that carries it (AUTH_REJECTEDCRED for a flavor not accepted),
 * and answers with `verifier`. The handler sees the inner credentials, and
 * the session as `ctx.session`.
 */
export function serverAuthSession(inner: readonly ServerAuth[], verifier: OpaqueAuth): ServerAuth {
  const flavors = new Map(inner.map((a) => [a.flavor, a]));
  const reader = new XdrReader(new Uint8Array(0));
  const noVerifier: OpaqueAuth = { flavor: AUTH_NONE, body: new Uint8Array(0) };
  // Calls come from few clients at a time: remember the last id's hex instead of making it per call.
  let lastId = new Uint8Array(ONCE_CLIENT_ID_BYTES);
  let lastKey = "";
  const keyOf = (id: Uint8Array): string => {
    for (let i = 0; i < ONCE_CLIENT_ID_BYTES; i++) {
      if (id[i] !== lastId[i]) {
        lastId = id.slice();
        lastKey = Buffer.from(id).toString("hex");
        return lastKey;
      }
    }
    if (lastKey === "") lastKey = Buffer.from(id).toString("hex");
    return lastKey;
  };
  return {
    flavor: AUTH_ONCE_SESSION,
    authenticate(credential: OpaqueAuth): AuthVerdict {
      let cred: ReturnType<typeof OnceSessionCredCodec.decode>;
      try {
        reader.reset(credential.body);
        cred = OnceSessionCredCodec.decode(reader);
        reader.expectEnd();
      } catch {
        return { ok: false, stat: AuthStat.AUTH_BADCRED };
      }
      if (cred.format !== ONCE_SESSION_VERSION) return { ok: false, stat: AuthStat.AUTH_BADCRED };
      const innerAuth = flavors.get(cred.inner.flavor);
      if (innerAuth === undefined || innerAuth.flavor === AUTH_ONCE_SESSION) {
        return { ok: false, stat: AuthStat.AUTH_REJECTEDCRED };
      }
      const verdict = innerAuth.authenticate(
        { flavor: cred.inner.flavor, body: cred.inner.body },
        noVerifier,
      );
      if (!verdict.ok) return verdict;
      const session: SessionInfo = {
        clientId: cred.client_id,
        clientKey: keyOf(cred.client_id),
        epoch: cred.epoch,
        sequence: cred.sequence,
        firstIncomplete: cred.first_incomplete,
        timeoutMs: cred.timeout_ms,
        semantics: semanticsName(cred.semantics),
      };
      return { ok: true, credentials: verdict.credentials as Credentials, verifier, session };
    },
  };
}
