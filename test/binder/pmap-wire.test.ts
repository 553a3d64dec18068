/**
 * pmap_prot.x is byte-exact with libtirpc: a C program built at test time
 * encodes mappings with libtirpc's own xdr_pmap and xdr_pmaplist (what
 * rpcbind sends for PMAPPROC_DUMP) and prints the bytes; our generated
 * codecs must write the same bytes and read them back.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { decode, encode } from "once-rpc";
import { pmapProt } from "once-rpc/binder";
import { checkCToolchain } from "../support/c-xdr-harness.js";

const run = promisify(execFile);

const C_SOURCE = `
#include <stdio.h>
#include <stdlib.h>
#include <rpc/rpc.h>
#include <rpc/pmap_prot.h>

/* Prints the XDR bytes of the first n of three mappings as xdr_pmaplist writes them, then of one xdr_pmap. */
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  struct pmaplist nodes[3] = {
    {{100000, 2, IPPROTO_TCP, 111}, NULL},
    {{0x20000b20, 1, IPPROTO_UDP, 50442}, NULL},
    {{0xffffffff, 0, 0, 65535}, NULL},
  };
  for (int i = 0; i + 1 < n; i++) nodes[i].pml_next = &nodes[i + 1];
  struct pmaplist *list = n == 0 ? NULL : &nodes[0];
  char buf[1024];
  XDR x;
  xdrmem_create(&x, buf, sizeof buf, XDR_ENCODE);
  if (!xdr_pmaplist(&x, &list)) return 1;
  if (!xdr_pmap(&x, &nodes[1].pml_map)) return 1;
  for (unsigned i = 0; i < xdr_getpos(&x); i++) printf("%02x", (unsigned char) buf[i]);
  printf("\\n");
  return 0;
}
`;

const MAPPINGS: pmapProt.Mapping[] = [
  { prog: 100000, vers: 2, prot: 6, port: 111 },
  { prog: 0x2000_0b20, vers: 1, prot: 17, port: 50442 },
  { prog: 0xffff_ffff, vers: 0, prot: 0, port: 65535 },
];

test("DUMP's list and a mapping encode as libtirpc's xdr_pmaplist and xdr_pmap do", async () => {
  await checkCToolchain();
  const dir = mkdtempSync(join(tmpdir(), "once-pmap-wire-"));
  try {
    writeFileSync(join(dir, "pmap.c"), C_SOURCE);
    await run("gcc", ["-w", "-I/usr/include/tirpc", "-o", join(dir, "pmap"), join(dir, "pmap.c"), "-ltirpc"]);
    for (const n of [0, 1, 3]) {
      const { stdout } = await run(join(dir, "pmap"), [String(n)]);
      let list: pmapProt.PmaplistPtr = null;
      for (let i = n - 1; i >= 0; i--) list = { map: MAPPINGS[i], next: list };
      const ours =
        Buffer.from(encode(pmapProt.PmaplistPtrCodec, list)).toString("hex") +
        Buffer.from(encode(pmapProt.MappingCodec, MAPPINGS[1])).toString("hex");
      assert.equal(ours, stdout.trim(), `${n} mappings`);
      const bytes = Buffer.from(stdout.trim(), "hex");
      const listBytes = bytes.subarray(0, bytes.length - 16);
      assert.deepEqual(decode(pmapProt.PmaplistPtrCodec, listBytes), list);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
