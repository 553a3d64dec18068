/**
 * Every real .x file on the machine (rpcsvc-proto, libtirpc-dev) parses and
 * resolves, and the fixtures in test/fixtures/idl behave as documented.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { compileSpecification, type ResolvedSpecification } from "../../src/idl/index.js";
import { repoPath, SYSTEM_X_DIRS } from "../support/paths.js";
import { errorsOf } from "./support.js";

const readFile = (path: string) => readFileSync(path, "utf8");
const compileFile = (path: string, includePaths: string[] = []) =>
  compileSpecification(path, { readFile, includePaths });

const systemFiles = SYSTEM_X_DIRS.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".x"))
    .map((f) => join(dir, f)),
).sort();

/** Program name -> number, version name -> number and procedure count. */
function programs(r: ResolvedSpecification) {
  return Object.fromEntries(
    r.spec.definitions.flatMap((d) =>
      d.kind === "program"
        ? [
            [
              d.name,
              {
                number: r.value(d.number),
                versions: Object.fromEntries(
                  d.versions.map((v) => [v.name, [r.value(v.number), v.procedures.length]]),
                ),
              },
            ],
          ]
        : [],
    ),
  );
}

test("there are real .x files to read", () => {
  assert.ok(systemFiles.length >= 19, systemFiles.join(", "));
});

for (const file of systemFiles) {
  test(`${file} parses and resolves`, () => {
    const r = compileFile(file);
    assert.ok(r.spec.definitions.length > 0);
  });
}

test("nfs_prot.x, mount.x: the NFS v2 and MOUNT v1 programs", () => {
  assert.deepEqual(programs(compileFile("/usr/include/rpcsvc/nfs_prot.x")), {
    NFS_PROGRAM: { number: 100003n, versions: { NFS_VERSION: [2n, 18] } },
  });
  const mount = compileFile("/usr/include/rpcsvc/mount.x");
  assert.deepEqual(programs(mount), { MOUNTPROG: { number: 100005n, versions: { MOUNTVERS: [1n, 7] } } });
  assert.equal(mount.constants.get("MNTPATHLEN")?.value, 1024n);
});

test("rpcb_prot.x: RPCBPROG 100000 versions 3 and 4, netbuf from the library, procedure names as numbers", () => {
  const r = compileFile("/usr/include/tirpc/rpc/rpcb_prot.x");
  assert.deepEqual(programs(r), {
    RPCBPROG: { number: 100000n, versions: { RPCBVERS: [3n, 8], RPCBVERS4: [4n, 12] } },
  });
  assert.equal(r.types.get("netbuf")?.loc.file, "<xdr library>");
  // const rpcb_highproc_4 = RPCBPROC_GETSTAT;
  assert.equal(r.constants.get("rpcb_highproc_4")?.value, 12n);
  // The RPC_HDR view: its passthrough is collected.
  assert.ok(r.spec.passthrough.some((p) => p.text.includes("typedef rpcb RPCB;")));
});

test("nis.x takes in nis_object.x through #include; nis_callback.x takes nis.x's types through %#include <rpcsvc/nis.h>", () => {
  const nis = compileFile("/usr/include/rpcsvc/nis.x");
  assert.equal(nis.types.get("nis_object")?.loc.file, "/usr/include/rpcsvc/nis_object.x");
  assert.equal(programs(nis).NIS_PROG.number, 100300n);
  // The %#define continued over three lines without '%' is one passthrough line.
  assert.ok(
    nis.spec.passthrough.some((p) => /^#define OWNER_DEFAULT .*NIS_DESTROY_ACC\) << 16\)$/.test(p.text)),
  );
  const cb = compileFile("/usr/include/rpcsvc/nis_callback.x");
  assert.equal(programs(cb).CB_PROG.number, 100302n);
  assert.ok(cb.types.has("nis_object"));
});

test("the others: key_prot's string constant, yp.x's three programs, nlm_prot's %#define bound", () => {
  const key = compileFile("/usr/include/rpcsvc/key_prot.x");
  assert.equal(key.spec.stringConstants?.[0].name, "HEXMODULUS");
  assert.equal(programs(key).KEY_PROG.number, 100029n);
  assert.deepEqual(Object.keys(programs(compileFile("/usr/include/rpcsvc/yp.x"))), [
    "YPPROG",
    "YPPUSH_XFRRESPPROG",
    "YPBINDPROG",
  ]);
  assert.equal(compileFile("/usr/include/rpcsvc/nlm_prot.x").constants.get("LM_MAXSTRLEN")?.value, 1024n);
});

test("fixture main.x: includes, conditionals, macros, passthrough", () => {
  const r = compileFile(repoPath("test/fixtures/idl/main.x"), [repoPath("test/fixtures/idl/inc")]);
  assert.deepEqual([...r.types.keys()], ["item", "bag"]);
  assert.equal(r.constants.get("ITEMS")?.value, 64n);
  assert.equal(r.constants.get("LIMIT_ITEMS")?.loc.file, repoPath("test/fixtures/idl/inc/limits.x"));
  assert.deepEqual(
    r.spec.passthrough.map((p) => p.text),
    ["#include <stdio.h>", "#define LONG_MACRO (1 + \t2)"],
  );
  assert.deepEqual(programs(r), { BAG_PROG: { number: 0x20000101n, versions: { BAG_V1: [1n, 3] } } });
});

test("fixture cycle-a.x: an include cycle is an error", () => {
  const a = repoPath("test/fixtures/idl/cycle-a.x");
  const b = repoPath("test/fixtures/idl/cycle-b.x");
  assert.deepEqual(
    errorsOf(() => compileFile(a)),
    [`${b}:1:10: #include cycle: ${a} -> ${b} -> ${a}`],
  );
});

test("fixture errors.x: every problem at once, in source order", () => {
  const f = repoPath("test/fixtures/idl/errors.x");
  assert.deepEqual(
    errorsOf(() => compileFile(f)),
    [
      `${f}:3:9: quadruple is not supported (RFC 4506 §4.8: no portable 128-bit float)`,
      `${f}:6:2: unknown type 'unknown_t'`,
      `${f}:7:6: duplicate field 'a' in struct 's' (first at ${f}:5:6)`,
      `${f}:9:17: cannot switch on float: a union discriminant must be int, unsigned int, an enum or bool (RFC 4506 §4.15)`,
      `${f}:12:17: 'A' is already defined (as a member of enum 'e' at ${f}:12:10)`,
    ],
  );
});
