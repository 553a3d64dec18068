/**
 * Forwarding for CALLIT, BCAST and INDIRECT (RFC 1833 §2.2.1, §3.2): the
 * binder calls a procedure of a service registered on this host over UDP,
 * with the caller's credentials, and hands back the encoded results. The
 * arguments and results stay opaque: the binder never decodes them.
 */
import { type BoundProcedure, type Channel, createChannel } from "../client/index.js";
import { AUTH_SYS, authNone, authSys, type ClientAuth, type Credentials } from "../rpc/index.js";
import type { InetAddress } from "../transport/index.js";
import type { XdrCodec } from "../xdr/index.js";

/** A procedure's arguments or results, already encoded: written and read as they are. */
const encodedBytes: XdrCodec<Uint8Array> = {
  name: "opaque (encoded)",
  encode: (w, v) => w.writeFixedOpaque(v, v.length),
  // A copy: the channel's reader reuses its buffer.
  decode: (r) => r.readFixedOpaque(r.remaining).slice(),
};

/** One call to forward. */
export interface ForwardedCall {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly args: Uint8Array;
}

/**
 * Calls in flight to registered services. A retransmission of a call that
 * is still being forwarded (same caller, xid and binder procedure) waits for
 * the same answer instead of calling the service again, as rpcbind's table
 * of forwarded calls does.
 */
export class RemoteCalls {
  readonly #timeoutMs: number;
  readonly #inFlight = new Map<string, Promise<Uint8Array>>();
  readonly #channels = new Set<Channel>();

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Calls `call` at `target` (UDP), or joins the call in flight under `key`.
   * Rejects with the RpcError of the call when it fails or times out.
   */
  forward(
    key: string,
    target: InetAddress,
    call: ForwardedCall,
    credentials: Credentials,
  ): Promise<Uint8Array> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    // Sent once, as rpcbind does: the caller retransmits, and a slow service is not called again meanwhile.
    const channel = createChannel(target, {
      auth: forwardedAuth(credentials),
      timeoutMs: this.#timeoutMs,
      retransmitInitialMs: this.#timeoutMs,
    });
    this.#channels.add(channel);
    const procedure: BoundProcedure<Uint8Array, Uint8Array> = {
      program: call.prog,
      version: call.vers,
      procedure: call.proc,
      label: `program ${call.prog} v${call.vers} procedure ${call.proc} (forwarded)`,
      args: encodedBytes,
      result: encodedBytes,
    };
    const result = channel.call(procedure, call.args).finally(() => {
      this.#inFlight.delete(key);
      this.#channels.delete(channel);
      channel.destroy();
    });
    this.#inFlight.set(key, result);
    return result;
  }

  /** Fails every forwarded call in flight and closes their sockets. */
  destroy(): void {
    for (const channel of this.#channels) channel.destroy();
    this.#channels.clear();
    this.#inFlight.clear();
  }
}

/** rpcbind forwards an AUTH_SYS credential as it came, and anything else as AUTH_NONE. */
function forwardedAuth(credentials: Credentials): ClientAuth {
  if (credentials.flavor !== AUTH_SYS || !("sys" in credentials)) return authNone;
  const sys = credentials.sys;
  return authSys({
    machineName: sys.machinename,
    uid: sys.uid,
    gid: sys.gid,
    gids: sys.gids,
    stamp: sys.stamp,
  });
}

/**
 * rpcbind's check_callit (security.c): procedures it will not forward,
 * because forwarding would hide the caller's address from a service that
 * trusts it. NULL procedures are always forwarded.
 */
export function isForwardingRefused(prog: number, proc: number, insecure: boolean): boolean {
  if (proc === 0) return false;
  switch (prog) {
    case 100000: // RPCBPROG: calling the binder through itself
      return !insecure;
    case 100005: // MOUNTPROG: MNT and UMNT
      return proc === 1 || proc === 3;
    case 100007: // YPBINDPROG: SETDOM
      return proc === 2;
    case 100009: // YPPASSWDPROG
    case 100003: // NFS_PROGRAM
    case 100011: // RQUOTAPROG
      return true;
    case 100004: // YPPROG: ALL, MATCH, FIRST, NEXT
      return proc === 8 || proc === 3 || proc === 4 || proc === 5;
    default:
      return false;
  }
}
