import type { XdrCodec, XdrReader } from "../xdr/index.js";
import type { Semantics } from "./semantics.js";

/**
 * One remote procedure as generated from a `.x` file: its number and the
 * codecs of its argument and result (RFC 5531 §12).
 */
export interface ProcedureDescriptor<Args = unknown, Result = unknown> {
  /** The procedure's name in the .x file, e.g. `NFSPROC_GETATTR`. */
  readonly name: string;
  /** The procedure number (RFC 5531 §9: `proc`). */
  readonly number: number;
  readonly args: XdrCodec<Args>;
  readonly result: XdrCodec<Result>;
  /** The default semantics of its calls (set with withSemantics; none in generated code). */
  readonly semantics?: Semantics;
  /** Running it twice has the effect of running it once (set with withSemantics). */
  readonly idempotent?: boolean;
}

/** The procedures of one program version, by their TypeScript method name. */
export type ProcedureTable = { readonly [method: string]: ProcedureDescriptor };

/**
 * One version of one program, as generated from a `.x` file. Clients and
 * server implementations are typed from it; generated code holds data, not classes.
 */
export interface ProgramVersionDescriptor<Procedures extends ProcedureTable = ProcedureTable> {
  /** The program's name in the .x file, e.g. `NFS_PROGRAM`. */
  readonly programName: string;
  /** The program number (RFC 5531 §9: `prog`). */
  readonly program: number;
  /** The version's name in the .x file, e.g. `NFS_VERSION`. */
  readonly versionName: string;
  /** The version number (RFC 5531 §9: `vers`). */
  readonly version: number;
  readonly procedures: Procedures;
}

/** The argument type of a procedure descriptor. */
export type ArgsOf<P> = P extends { readonly args: { decode(reader: XdrReader): infer A } } ? A : never;

/** The result type of a procedure descriptor. */
export type ResultOf<P> = P extends { readonly result: { decode(reader: XdrReader): infer R } } ? R : never;
