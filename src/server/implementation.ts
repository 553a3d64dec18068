/** The type of a program version's implementation, derived from its descriptor. */
import type { ArgsOf, ProcedureDescriptor, ProgramVersionDescriptor, ResultOf } from "../rpc/index.js";
import type { CallContext } from "./call-context.js";

/** Serves one procedure: returns (or resolves to) its result. Throwing replies SYSTEM_ERR. */
export type Handler<P> = (args: ArgsOf<P>, context: CallContext) => ResultOf<P> | Promise<ResultOf<P>>;

type Procedures<D extends ProgramVersionDescriptor> = D["procedures"];

/**
 * One handler per procedure, named as the client methods are. The NULL
 * procedure (number 0) may be left out: the server answers it anyway.
 */
export type Implementation<D extends ProgramVersionDescriptor> = {
  readonly [K in keyof Procedures<D> as Procedures<D>[K]["number"] extends 0 ? never : K]: Handler<
    Procedures<D>[K]
  >;
} & {
  readonly [K in keyof Procedures<D> as Procedures<D>[K]["number"] extends 0 ? K : never]?: Handler<
    Procedures<D>[K]
  >;
};

/** A procedure ready for dispatch: its descriptor, handler (undefined: answer void) and label. */
export interface ServedProcedure {
  readonly descriptor: ProcedureDescriptor;
  readonly handler: ((args: unknown, context: CallContext) => unknown) | undefined;
  readonly label: string;
}

/**
 * Checks an implementation against its descriptor (a missing handler is a
 * TypeError naming it) and indexes the handlers by procedure number.
 */
export function serveProcedures(
  descriptor: ProgramVersionDescriptor,
  implementation: object,
): Map<number, ServedProcedure> {
  const served = new Map<number, ServedProcedure>();
  const missing: string[] = [];
  const handlers = implementation as Record<string, unknown>;
  for (const [method, procedure] of Object.entries(descriptor.procedures)) {
    const handler = handlers[method];
    if (typeof handler !== "function" && !(handler === undefined && procedure.number === 0)) {
      missing.push(method);
      continue;
    }
    served.set(procedure.number, {
      descriptor: procedure,
      // Bound, so that an implementation can be a class instance using `this`.
      handler:
        handler === undefined
          ? undefined
          : (handler as (a: unknown, c: CallContext) => unknown).bind(implementation),
      label: `${descriptor.programName} v${descriptor.version} ${procedure.name}`,
    });
  }
  if (missing.length > 0) {
    throw new TypeError(
      `the implementation of ${descriptor.programName} v${descriptor.version} has no handler for ${missing.join(", ")}`,
    );
  }
  return served;
}
