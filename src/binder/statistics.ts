/**
 * The counters RPCBPROC_GETSTAT returns (rpcb_prot.x: rpcb_stat_byvers),
 * kept as rpcbind's rpcb_stat.c keeps them: per binder version (2, 3, 4),
 * calls per procedure, successful SETs and UNSETs, address lookups per
 * (program, version, netid) and remote calls per (program, version,
 * procedure, netid). `rpcinfo -m` prints them.
 */
import {
  RPCBSTAT_HIGHPROC,
  type RpcbStat,
  type RpcbStatByvers,
  type RpcbsAddrlist,
  type RpcbsRmtcalllist,
  rpcb_highproc_2,
  rpcb_highproc_3,
  rpcb_highproc_4,
} from "../rpc/protocol/rpcb_prot.js";

/** The highest procedure counted for each version. */
const HIGHEST_PROCEDURE: Readonly<Record<number, number>> = {
  2: rpcb_highproc_2,
  3: rpcb_highproc_3,
  4: rpcb_highproc_4,
};

interface AddressCount {
  prog: number;
  vers: number;
  netid: string;
  success: number;
  failure: number;
}

interface RemoteCallCount {
  prog: number;
  vers: number;
  proc: number;
  netid: string;
  success: number;
  failure: number;
  indirect: number;
}

interface VersionCounts {
  readonly info: number[];
  setinfo: number;
  unsetinfo: number;
  /** Newest first, as rpcbind prepends. */
  readonly addrinfo: AddressCount[];
  readonly rmtinfo: RemoteCallCount[];
}

/** The binder's statistics. Versions are the binder's: 2 (portmapper), 3 and 4 (rpcbind). */
export class BinderStatistics {
  readonly #byVersion = new Map<number, VersionCounts>(
    [2, 3, 4].map((v) => [
      v,
      {
        info: new Array<number>(RPCBSTAT_HIGHPROC).fill(0),
        setinfo: 0,
        unsetinfo: 0,
        addrinfo: [],
        rmtinfo: [],
      },
    ]),
  );

  /** A call to `procedure` of binder version `version` (rpcbs_procinfo). */
  procedure(version: number, procedure: number): void {
    const counts = this.#byVersion.get(version);
    if (counts !== undefined && procedure <= HIGHEST_PROCEDURE[version]) counts.info[procedure]++;
  }

  /** A SET; only successes are counted (rpcbs_set). */
  set(version: number, success: boolean): void {
    const counts = this.#byVersion.get(version);
    if (counts !== undefined && success) counts.setinfo++;
  }

  /** An UNSET; only successes are counted (rpcbs_unset). */
  unset(version: number, success: boolean): void {
    const counts = this.#byVersion.get(version);
    if (counts !== undefined && success) counts.unsetinfo++;
  }

  /** A lookup (GETPORT, GETADDR, GETVERSADDR, GETADDRLIST); an empty answer is a failure (rpcbs_getaddr). */
  lookup(version: number, prog: number, vers: number, netid: string, found: boolean): void {
    const counts = this.#byVersion.get(version);
    if (counts === undefined) return;
    let entry = counts.addrinfo.find((a) => a.prog === prog && a.vers === vers && a.netid === netid);
    if (entry === undefined) {
      entry = { prog, vers, netid, success: 0, failure: 0 };
      counts.addrinfo.unshift(entry);
    }
    if (found) entry.success++;
    else entry.failure++;
  }

  /** A CALLIT, BCAST or INDIRECT; a success found the program version registered (rpcbs_rmtcall). */
  remoteCall(
    version: number,
    indirect: boolean,
    call: { prog: number; vers: number; proc: number },
    netid: string,
    found: boolean,
  ): void {
    const counts = this.#byVersion.get(version);
    if (counts === undefined) return;
    let entry = counts.rmtinfo.find(
      (r) => r.prog === call.prog && r.vers === call.vers && r.proc === call.proc && r.netid === netid,
    );
    if (entry === undefined) {
      entry = { ...call, netid, success: 0, failure: 0, indirect: 0 };
      counts.rmtinfo.unshift(entry);
    }
    if (found) entry.success++;
    else entry.failure++;
    if (indirect) entry.indirect++;
  }

  /** The counters as GETSTAT returns them: versions 2, 3, 4 in that order. */
  snapshot(): RpcbStatByvers {
    return [2, 3, 4].map((v) => toWire(this.#byVersion.get(v) as VersionCounts));
  }
}

function toWire(counts: VersionCounts): RpcbStat {
  let addrinfo: RpcbsAddrlist | null = null;
  for (let i = counts.addrinfo.length - 1; i >= 0; i--) {
    const a = counts.addrinfo[i];
    addrinfo = {
      prog: a.prog,
      vers: a.vers,
      success: a.success,
      failure: a.failure,
      netid: a.netid,
      next: addrinfo,
    };
  }
  let rmtinfo: RpcbsRmtcalllist | null = null;
  for (let i = counts.rmtinfo.length - 1; i >= 0; i--) {
    const r = counts.rmtinfo[i];
    rmtinfo = {
      prog: r.prog,
      vers: r.vers,
      proc: r.proc,
      success: r.success,
      failure: r.failure,
      indirect: r.indirect,
      netid: r.netid,
      next: rmtinfo,
    };
  }
  return {
    info: counts.info.slice(),
    setinfo: counts.setinfo,
    unsetinfo: counts.unsetinfo,
    addrinfo,
    rmtinfo,
  };
}
