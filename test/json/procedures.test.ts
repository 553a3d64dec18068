/**
 * Program descriptors in the JSON form, against the generated ones, and the
 * lookup of a procedure by name or number as `once call` takes it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findJsonProcedure, jsonProgramDescriptors } from "../../src/json/index.js";
import type { ProgramVersionDescriptor } from "../../src/rpc/descriptor.js";
import { decode, encode } from "../../src/xdr/index.js";
import { loadGenerated } from "../support/load-generated.js";
import { compileText, compileX, expectJsonError, hex } from "./support.js";

const spec = compileText(
  `
struct point { int x; int y; };
program CALC_PROG {
  version CALC_V1 {
    void CALC_NULL(void) = 0;
    int CALC_ADD(int, point) = 1;
    string CALC_NAME(void) = 2;
  } = 1;
  version CALC_V2 {
    point CALC_MOVE(point) = 7;
    struct { int a; } CALC_ODD(unsigned hyper) = 8;
  } = 2;
} = 0x20000199;
program OTHER_PROG { version OTHER_V1 { void OTHER_NULL(void) = 0; } = 1; } = 400000;
`,
  "calc.x",
);

describe("jsonProgramDescriptors", () => {
  test("every program version, procedures keyed by their .x names", () => {
    const all = jsonProgramDescriptors(spec);
    assert.deepEqual(
      all.map((d) => [d.programName, d.program, d.versionName, d.version, Object.keys(d.procedures)]),
      [
        ["CALC_PROG", 0x20000199, "CALC_V1", 1, ["CALC_NULL", "CALC_ADD", "CALC_NAME"]],
        ["CALC_PROG", 0x20000199, "CALC_V2", 2, ["CALC_MOVE", "CALC_ODD"]],
        ["OTHER_PROG", 400000, "OTHER_V1", 1, ["OTHER_NULL"]],
      ],
    );
    assert.equal(all[1].procedures.CALC_MOVE.number, 7);
  });

  test("no argument is null; several (rpcgen -N) are an array; bare string is unbounded", () => {
    const [v1, v2] = jsonProgramDescriptors(spec);
    const { CALC_NULL, CALC_ADD, CALC_NAME } = v1.procedures;
    assert.equal(encode(CALC_NULL.args, null).length, 0);
    assert.equal(decode(CALC_NULL.result, new Uint8Array(0)), null);
    const bytes = encode(CALC_ADD.args, [5, { x: 1, y: 2 }]);
    assert.equal(hex(bytes), "000000050000000100000002");
    assert.deepEqual(decode(CALC_ADD.args, bytes), [5, { x: 1, y: 2 }]);
    expectJsonError(() => encode(CALC_ADD.args, [5]), {
      detail: "expected an array of the 2 arguments of CALC_ADD, got an array",
      path: "CALC_ADD arguments",
    });
    expectJsonError(() => encode(CALC_ADD.args, [5, { x: 1 }]), { path: "CALC_ADD arguments[1].y" });
    assert.equal(CALC_NAME.result.name, "string<>");
    assert.equal(decode(CALC_NAME.result, encode(CALC_NAME.result, "x".repeat(5000))), "x".repeat(5000));
    // An inline struct as a result type.
    const odd = v2.procedures.CALC_ODD;
    assert.deepEqual(decode(odd.result, encode(odd.result, { a: 3 })), { a: 3 });
    assert.equal(hex(encode(odd.args, "1")), "0000000000000001");
  });

  test("the same programs, versions, procedures and codec names as the generated descriptors", async () => {
    for (const file of [
      "test/fixtures/everything.x",
      "/usr/include/tirpc/rpc/rpcb_prot.x",
      "/usr/include/rpcsvc/nfs_prot.x",
    ]) {
      const exports = await loadGenerated(file);
      const theirs = Object.values(exports).filter(
        (v): v is ProgramVersionDescriptor => typeof v === "object" && v !== null && "programName" in v,
      );
      const summary = (d: ProgramVersionDescriptor) => ({
        program: [d.programName, d.program, d.versionName, d.version],
        procedures: Object.values(d.procedures)
          .map((p) => [p.name, p.number, p.args.name, p.result.name])
          .sort(),
      });
      const ours = jsonProgramDescriptors(compileX(file));
      assert.ok(ours.length > 0);
      assert.deepEqual(ours.map(summary), theirs.map(summary), file);
    }
  });
});

describe("findJsonProcedure", () => {
  test("by name or number, decimal or hex", () => {
    for (const [program, version, procedure] of [
      ["CALC_PROG", "CALC_V1", "CALC_ADD"],
      ["0x20000199", "1", "1"],
      ["536871321", "CALC_V1", "CALC_ADD"],
      ["0X20000199", "0x1", "0x01"],
    ]) {
      const found = findJsonProcedure(spec, program, version, procedure);
      assert.equal(found.descriptor.versionName, "CALC_V1");
      assert.equal(found.procedure.name, "CALC_ADD");
      assert.equal(found.procedure, found.descriptor.procedures.CALC_ADD);
    }
    assert.equal(findJsonProcedure(spec, "CALC_PROG", "2", "7").procedure.name, "CALC_MOVE");
    assert.equal(
      findJsonProcedure(spec, "400000", "OTHER_V1", "OTHER_NULL").descriptor.programName,
      "OTHER_PROG",
    );
    const everything = compileX("test/fixtures/everything.x");
    const echo = findJsonProcedure(everything, "EVERYTHING_PROG", "EVERYTHING_V1", "EVERYTHING_ECHO");
    assert.equal(echo.procedure.args.name, "everything");
  });

  test("what is not there is an Error listing what is", () => {
    assert.throws(() => findJsonProcedure(spec, "NOPE", "1", "1"), {
      message: 'calc.x has no program "NOPE"; its programs: CALC_PROG (0x20000199), OTHER_PROG (0x61a80)',
    });
    assert.throws(() => findJsonProcedure(spec, "0x20000198", "1", "1"), {
      message: /^calc\.x has no program "0x20000198"/,
    });
    assert.throws(() => findJsonProcedure(spec, "CALC_PROG", "3", "1"), {
      message: 'program CALC_PROG has no version "3"; its versions: CALC_V1 (1), CALC_V2 (2)',
    });
    assert.throws(() => findJsonProcedure(spec, "CALC_PROG", "OTHER_V1", "1"), {
      message: /^program CALC_PROG has no version "OTHER_V1"/,
    });
    assert.throws(() => findJsonProcedure(spec, "CALC_PROG", "CALC_V2", "CALC_ADD"), {
      message:
        'version CALC_V2 of program CALC_PROG has no procedure "CALC_ADD"; its procedures: CALC_MOVE (7), CALC_ODD (8)',
    });
    assert.throws(() => findJsonProcedure(compileText("struct a { int b; };", "types.x"), "P", "1", "1"), {
      message: "types.x defines no program",
    });
  });
});
