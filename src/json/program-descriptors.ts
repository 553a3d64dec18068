/**
 * The programs of a resolved specification as descriptors whose codecs speak
 * the JSON form, and the lookup of a procedure as a command line names it.
 */
import type { ResolvedSpecification } from "../idl/index.js";
import type { ProcedureDescriptor, ProgramVersionDescriptor } from "../rpc/descriptor.js";
import { withPath } from "../xdr/index.js";
import { jsonCodecFactory } from "./json-codec.js";
import { describeJson, type JsonValue, listNames } from "./json-value.js";
import type { JsonCodec } from "./scalar-codecs.js";

/** A procedure whose argument and result are in the JSON form. */
export type JsonProcedureDescriptor = ProcedureDescriptor<JsonValue, JsonValue>;

/** A program version whose procedures are keyed by their .x names (`NFSPROC_GETATTR`) and speak the JSON form. */
export type JsonProgramVersionDescriptor = ProgramVersionDescriptor<{
  readonly [name: string]: JsonProcedureDescriptor;
}>;

/** What {@link findJsonProcedure} finds. */
export interface JsonProcedureMatch {
  readonly descriptor: JsonProgramVersionDescriptor;
  readonly procedure: JsonProcedureDescriptor;
}

const descriptorCache = new WeakMap<ResolvedSpecification, JsonProgramVersionDescriptor[]>();

/**
 * Every program version of the resolved specification, in the order written,
 * as a descriptor whose codecs speak the JSON form. A procedure with no
 * argument takes `null`; one with several (rpcgen -N) takes a JSON array of
 * its arguments in order.
 */
export function jsonProgramDescriptors(spec: ResolvedSpecification): JsonProgramVersionDescriptor[] {
  const known = descriptorCache.get(spec);
  if (known !== undefined) return [...known];
  const factory = jsonCodecFactory(spec);
  const graph = factory.graph;
  const out: JsonProgramVersionDescriptor[] = [];
  for (const def of spec.spec.definitions) {
    if (def.kind !== "program") continue;
    for (const v of def.versions) {
      const procedures: Record<string, JsonProcedureDescriptor> = {};
      for (const p of v.procedures) {
        const args = p.args
          .filter((a) => a.kind !== "void")
          .map((a) => factory.shape(graph.procedureType(a, p.name)));
        procedures[p.name] = {
          name: p.name,
          number: Number(spec.value(p.number)),
          args: args.length <= 1 ? (args[0] ?? factory.shape({ kind: "void" })) : tupleCodec(args, p.name),
          result: factory.shape(graph.procedureType(p.result, p.name)),
        };
      }
      out.push({
        programName: def.name,
        program: Number(spec.value(def.number)),
        versionName: v.name,
        version: Number(spec.value(v.number)),
        procedures,
      });
    }
  }
  descriptorCache.set(spec, out);
  return [...out];
}

/** rpcgen -N arguments: the XDR of each in turn; in JSON, an array with one element per argument. */
function tupleCodec(args: readonly JsonCodec[], procedure: string): JsonCodec {
  return {
    name: `${procedure} arguments`,
    encode(w, v) {
      if (!Array.isArray(v) || v.length !== args.length) {
        throw w.fail(
          `expected an array of the ${args.length} arguments of ${procedure}, got ${describeJson(v)}`,
        );
      }
      let i = 0;
      try {
        for (; i < args.length; i++) args[i].encode(w, v[i]);
      } catch (e) {
        throw withPath(e, `[${i}]`, w.length);
      }
    },
    decode(r) {
      const out: JsonValue[] = [];
      let i = 0;
      try {
        for (; i < args.length; i++) out.push(args[i].decode(r));
      } catch (e) {
        throw withPath(e, `[${i}]`, r.offset);
      }
      return out;
    },
  };
}

/** A number as written on a command line: decimal, or hex with `0x`; null when it is not one. */
function parseNumber(text: string): number | null {
  if (/^[0-9]+$/.test(text)) return Number(text);
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  return null;
}

/** The entry named `key` (exactly), else the one whose number it is. */
function pick<T>(
  items: readonly T[],
  key: string,
  name: (t: T) => string,
  number: (t: T) => number,
): T | undefined {
  const byName = items.find((t) => name(t) === key);
  if (byName !== undefined) return byName;
  const n = parseNumber(key);
  return n === null ? undefined : items.find((t) => number(t) === n);
}

/**
 * Finds a program version and procedure as given on a command line: each by
 * its .x name or its number, decimal or hex (`INTEROP_PROG`, `0x20000101`
 * or `536871169`; `INTEROP_V1` or `1`; `INTEROP_ECHO` or `1`). Throws an Error
 * that lists what the specification has when one is not found.
 */
export function findJsonProcedure(
  spec: ResolvedSpecification,
  program: string,
  version: string,
  procedure: string,
): JsonProcedureMatch {
  const all = jsonProgramDescriptors(spec);
  const file = spec.spec.file;
  const programs = [...new Map(all.map((d) => [d.programName, d])).values()];
  if (programs.length === 0) throw new Error(`${file} defines no program`);
  const prog = pick(
    programs,
    program,
    (d) => d.programName,
    (d) => d.program,
  );
  if (prog === undefined) {
    const list = programs.map((d) => `${d.programName} (0x${d.program.toString(16)})`);
    throw new Error(`${file} has no program ${JSON.stringify(program)}; its programs: ${listNames(list)}`);
  }
  const versions = all.filter((d) => d.programName === prog.programName);
  const descriptor = pick(
    versions,
    version,
    (d) => d.versionName,
    (d) => d.version,
  );
  if (descriptor === undefined) {
    const list = versions.map((d) => `${d.versionName} (${d.version})`);
    throw new Error(
      `program ${prog.programName} has no version ${JSON.stringify(version)}; its versions: ${listNames(list)}`,
    );
  }
  const procedures = Object.values(descriptor.procedures);
  const found = pick(
    procedures,
    procedure,
    (p) => p.name,
    (p) => p.number,
  );
  if (found === undefined) {
    const list = procedures.map((p) => `${p.name} (${p.number})`);
    throw new Error(
      `version ${descriptor.versionName} of program ${prog.programName} has no procedure ${JSON.stringify(procedure)}; its procedures: ${listNames(list, 64)}`,
    );
  }
  return { descriptor, procedure: found };
}
