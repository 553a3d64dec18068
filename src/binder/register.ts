/**
 * Registering a server's programs with a binder (ours or rpcbind), as
 * libtirpc's svc_tp_create does: for each program version and each address
 * the server listens on, UNSET what was there, then SET. Version 3 SET is
 * used; a binder that knows only the portmapper gets version 2 SET for its
 * TCP and UDP addresses.
 */
import { existsSync } from "node:fs";
import { type Client, type ClientOptions, createClient } from "../client/index.js";
import { isRpcError } from "../rpc/index.js";
import { PmapProgV2 } from "../rpc/protocol/pmap_prot.js";
import { RpcbprogV3 } from "../rpc/protocol/rpcb_prot.js";
import type { Address, AddressLike } from "../transport/index.js";
import { formatUniversalAddress, netidOf, universalAddressPort } from "../transport/universal-address.js";
import { ipProtocolOf, type Registration } from "./registry.js";

/** Where libtirpc looks for the local binder first. */
const LOCAL_BINDER_SOCKET = "/run/rpcbind.sock";

/** Options of registerServer. */
export interface RegisterOptions {
  /**
   * The binder. Default: unix:///run/rpcbind.sock when it exists, else
   * tcp://127.0.0.1:111 (libtirpc's order).
   */
  readonly binder?: AddressLike;
  /** UNSET each (program, version, netid) before its SET, as libtirpc does. Default true. */
  readonly replace?: boolean;
  /** Options of the client that talks to the binder (auth, timeoutMs). */
  readonly client?: ClientOptions;
}

/** What registerServer registered, and how to take it back. */
export interface Registered {
  /** The registrations made (the owner is the one stated; the binder decides the real one). */
  readonly registrations: readonly Registration[];
  /** UNSETs every registration made. */
  unregister(): Promise<void>;
}

/**
 * Registers each [program, version] of `server` at each of its addresses.
 * Rejects with an Error naming the first registration the binder refused,
 * or with the RpcError of a failed call.
 */
export async function registerServer(
  server: { programs(): Array<[number, number]>; readonly addresses: readonly Address[] },
  options: RegisterOptions = {},
): Promise<Registered> {
  const binder =
    options.binder ??
    (existsSync(LOCAL_BINDER_SOCKET) ? `unix://${LOCAL_BINDER_SOCKET}` : "tcp://127.0.0.1:111");
  const owner = String(process.geteuid?.() ?? "");
  const wanted: Registration[] = [];
  for (const [program, version] of server.programs()) {
    for (const address of server.addresses) {
      wanted.push({
        program,
        version,
        netid: netidOf(address),
        address: formatUniversalAddress(address),
        owner,
      });
    }
  }
  const rpcb = createClient(RpcbprogV3, binder, options.client);
  const pmap = createClient(PmapProgV2, rpcb.$channel);
  const done: Registration[] = [];
  try {
    let portmapperOnly = false;
    for (const r of wanted) {
      if (!portmapperOnly) {
        try {
          await setV3(rpcb, r, options.replace ?? true);
          done.push(r);
          continue;
        } catch (error) {
          if (!isRpcError(error) || (error.code !== "PROG_MISMATCH" && error.code !== "PROC_UNAVAIL"))
            throw error;
          portmapperOnly = true;
        }
      }
      if (await setV2(pmap, r, options.replace ?? true)) done.push(r);
    }
  } catch (error) {
    await unsetAll(rpcb, pmap, done).catch(() => {});
    await rpcb.$close();
    throw error;
  }
  await rpcb.$close();
  return {
    registrations: done,
    async unregister() {
      const again = createClient(RpcbprogV3, binder, options.client);
      try {
        await unsetAll(again, createClient(PmapProgV2, again.$channel), done);
      } finally {
        await again.$close();
      }
    },
  };
}

function rpcbArgs(r: Registration, withAddress: boolean) {
  return {
    r_prog: r.program,
    r_vers: r.version,
    r_netid: r.netid,
    r_addr: withAddress ? r.address : "",
    r_owner: r.owner,
  };
}

async function setV3(rpcb: Client<typeof RpcbprogV3>, r: Registration, replace: boolean): Promise<void> {
  if (replace) await rpcb.unset(rpcbArgs(r, false));
  if (!(await rpcb.set(rpcbArgs(r, true)))) {
    throw new Error(
      `the binder refused to register program ${r.program} version ${r.version} on ${r.netid} at ${r.address}: it is registered elsewhere`,
    );
  }
}

/** Version 2 knows TCP and UDP over IPv4 only; anything else is left out (false). */
async function setV2(pmap: Client<typeof PmapProgV2>, r: Registration, replace: boolean): Promise<boolean> {
  const prot = ipProtocolOf(r.netid);
  const port = universalAddressPort(r.address);
  if (prot === undefined || port === undefined) return false;
  const mapping = { prog: r.program, vers: r.version, prot, port };
  if (replace) await pmap.unset(mapping);
  if (!(await pmap.set(mapping))) {
    throw new Error(
      `the portmapper refused to map program ${r.program} version ${r.version} to port ${port}`,
    );
  }
  return true;
}

async function unsetAll(
  rpcb: Client<typeof RpcbprogV3>,
  pmap: Client<typeof PmapProgV2>,
  done: readonly Registration[],
): Promise<void> {
  for (const r of done) {
    try {
      await rpcb.unset(rpcbArgs(r, false));
    } catch (error) {
      if (!isRpcError(error) || error.code !== "PROG_MISMATCH") throw error;
      const prot = ipProtocolOf(r.netid);
      if (prot !== undefined) await pmap.unset({ prog: r.program, vers: r.version, prot, port: 0 });
    }
  }
}
