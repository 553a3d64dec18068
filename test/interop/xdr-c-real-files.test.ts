/**
 * Byte-exact interop with C (rpcgen + libtirpc) on the real protocol files
 * every Debian machine has (rpcsvc-proto, libtirpc-dev): random values of
 * every type of each file go TS -> C -> TS, and must come back with the same
 * bytes and the same value.
 *
 * Needs gcc, rpcgen and libtirpc-dev; without them these tests fail (never skip).
 * FC_SEED=<n> replays a run; the seed is in every failure message.
 *
 * Not here: nis.x (it `#include`s nis_object.x, which is tested on its own)
 * and nis_callback.x (rpcgen's C for it includes nis_clnt.h, which Debian
 * does not ship).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { compileSpecification } from "../../src/idl/index.js";
import { type CXdrPeer, startCXdrPeer } from "../support/c-xdr-harness.js";
import { createXdrArbitraries } from "../support/xdr-arbitrary.js";
import { failureReport, roundTripThroughC } from "./c-roundtrip-check.js";
import { type GeneratedModule, importGeneratedModule } from "./generated-module.js";

const SAMPLES = 150;
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

interface RealFile {
  readonly file: string;
  /** Types the file must have, so that a front-end regression cannot shrink the test to nothing. */
  readonly mustHave?: readonly string[];
  /** C compiler flags, when rpcgen's C needs help to build. */
  readonly cflags?: readonly string[];
  readonly cTypeNames?: Readonly<Record<string, string>>;
  /** Values of a type that C checks beyond the wire format, brought within what it accepts. */
  readonly adjust?: Readonly<Record<string, (value: unknown) => unknown>>;
}

/**
 * libtirpc's own xdr_netbuf (struct netbuf has no .x definition) refuses a
 * maxlen over RPC_MAXDATASIZE (9000) and more bytes than maxlen: library
 * checks, not XDR, so values are brought inside them.
 */
function withinNetbufLimits(value: unknown): unknown {
  const v = value as { maxlen: number; buf: Uint8Array };
  return { maxlen: Math.max(v.buf.length, v.maxlen % 9001), buf: v.buf };
}

const FILES: readonly RealFile[] = [
  {
    file: "/usr/include/rpcsvc/nfs_prot.x",
    mustHave: [
      "nfsstat",
      "fattr",
      "sattr",
      "attrstat",
      "readres",
      "writeargs",
      "entry",
      "readdirres",
      "statfsres",
    ],
  },
  {
    file: "/usr/include/rpcsvc/mount.x",
    mustHave: ["fhandle", "fhstatus", "dirpath", "name", "mountlist", "mountbody", "groups", "exports"],
  },
  { file: "/usr/include/rpcsvc/bootparam_prot.x" },
  { file: "/usr/include/rpcsvc/key_prot.x" },
  { file: "/usr/include/rpcsvc/klm_prot.x" },
  { file: "/usr/include/rpcsvc/nis_object.x" },
  { file: "/usr/include/rpcsvc/nlm_prot.x" },
  { file: "/usr/include/rpcsvc/rex.x" },
  { file: "/usr/include/rpcsvc/rquota.x" },
  { file: "/usr/include/rpcsvc/rstat.x" },
  { file: "/usr/include/rpcsvc/rusers.x" },
  { file: "/usr/include/rpcsvc/sm_inter.x" },
  { file: "/usr/include/rpcsvc/spray.x" },
  { file: "/usr/include/rpcsvc/yp.x" },
  { file: "/usr/include/rpcsvc/yppasswd.x" },
  // crypt.x has a %__FBSDID(...) line for FreeBSD's cdefs.h.
  { file: "/usr/include/tirpc/rpcsvc/crypt.x", cflags: ["-O1", "-D__FBSDID(s)="] },
  {
    // The binder's protocol. rpcgen's header for it clashes with libtirpc's copy (same include
    // guard), so the system header goes first and stands for it; libtirpc has no xdr_rpcprog_t & co.
    file: "/usr/include/tirpc/rpc/rpcb_prot.x",
    mustHave: ["rpcb", "rp__list", "rpcblist_ptr", "rpcb_entry_list_ptr", "rpcb_stat_byvers", "netbuf"],
    cflags: [
      "-O1",
      "-include",
      "rpc/rpc.h",
      "-Dxdr_rpcprog_t=xdr_u_int32_t",
      "-Dxdr_rpcvers_t=xdr_u_int32_t",
      "-Dxdr_rpcproc_t=xdr_u_int32_t",
    ],
    cTypeNames: { netbuf: "struct netbuf" },
    adjust: { netbuf: withinNetbufLimits },
  },
];

for (const { file, mustHave = [], cflags, cTypeNames, adjust = {} } of FILES) {
  describe(`${basename(file)}: ${SAMPLES} random values per type, seed ${SEED}`, () => {
    const resolved = compileSpecification(file, { readFile: (p) => readFileSync(p, "utf8") });
    // Every typedef, struct, union and enum the file defines, and the C library's (netobj, netbuf…) it uses.
    const types = [...resolved.types.keys()];
    const arbitraries = createXdrArbitraries(resolved);
    let peer: CXdrPeer;
    let mod: GeneratedModule;

    before(async () => {
      mod = await importGeneratedModule(file);
      peer = await startCXdrPeer({ xFile: file, types, cflags, cTypeNames });
    });

    after(async () => {
      await peer?.close();
    });

    test("the types expected are there", () => {
      assert.ok(types.length > 0, `no types in ${file}`);
      for (const t of mustHave) assert.ok(types.includes(t), `${basename(file)} has no type ${t}`);
    });

    types.forEach((type, i) => {
      test(`${type}: TS bytes = C bytes, and C's bytes decode to the same value`, async () => {
        const fit = adjust[type] ?? ((v: unknown) => v);
        const values = fc.sample(arbitraries.forType(type), { numRuns: SAMPLES, seed: SEED + i }).map(fit);
        const failures = await roundTripThroughC(peer, type, mod.codec(type), values);
        assert.equal(failures.length, 0, failureReport(failures, `FC_SEED=${SEED}`));
      });
    });
  });
}
