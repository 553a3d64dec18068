/**
 * Call semantics, chosen per procedure and per call (shared/design.md):
 * what a client and a server promise about how often a call runs.
 *
 * | semantics       | client                                    | server                              |
 * |-----------------|-------------------------------------------|-------------------------------------|
 * | maybe           | sends once                                | runs what arrives                   |
 * | at-least-once   | sends again until a reply or the deadline | runs what arrives                   |
 * | at-most-once    | sends again, the same call                | reply cache: a duplicate gets the   |
 * |                 |                                           | first reply, never a second run     |
 * | exactly-once    | the same call identity across reconnects  | durable completion records          |
 * |                 | and its own restarts                      |                                     |
 */
import type { ProcedureDescriptor, ProgramVersionDescriptor } from "./descriptor.js";
import { OnceSemantics } from "./protocol/once_session.js";

/** The semantics by name (the contract in shared/design.md). */
export type Semantics = "maybe" | "at-least-once" | "at-most-once" | "exactly-once";

/** Every semantics, weakest first. */
export const SEMANTICS: readonly Semantics[] = Object.freeze([
  "maybe",
  "at-least-once",
  "at-most-once",
  "exactly-once",
]);

/** A semantics name as the session credential carries it. */
export function semanticsCode(semantics: Semantics): OnceSemantics {
  switch (semantics) {
    case "maybe":
      return OnceSemantics.ONCE_MAYBE;
    case "at-least-once":
      return OnceSemantics.ONCE_AT_LEAST_ONCE;
    case "at-most-once":
      return OnceSemantics.ONCE_AT_MOST_ONCE;
    case "exactly-once":
      return OnceSemantics.ONCE_EXACTLY_ONCE;
  }
}

/** The name of a semantics code from the wire. */
export function semanticsName(code: OnceSemantics): Semantics {
  return SEMANTICS[code];
}

/** Whether `s` is a semantics name (for options read at run time). */
export function isSemantics(s: unknown): s is Semantics {
  return typeof s === "string" && (SEMANTICS as readonly string[]).includes(s);
}

/** Whether the client sends a call again until it has its reply. */
export function retransmits(s: Semantics): boolean {
  return s !== "maybe";
}

/** Whether the semantics needs the server to know the caller across connections (the session flavor). */
export function needsSession(s: Semantics): boolean {
  return s === "at-most-once" || s === "exactly-once";
}

/**
 * How a procedure's calls may be repeated: its default semantics (a
 * client's or a call's choice overrides it), and whether running it twice
 * has the effect of running it once (a client may then send it again after
 * a lost connection, to the same or another server).
 */
export type ProcedureSemantics = Pick<ProcedureDescriptor, "semantics" | "idempotent">;

/**
 * A copy of a generated descriptor with semantics marked per procedure, by
 * method name: `withSemantics(BankV1, { transfer: { semantics: "exactly-once" },
 * balance: { idempotent: true } })`. Clients and servers made from it use
 * these as their defaults.
 */
export function withSemantics<D extends ProgramVersionDescriptor>(
  descriptor: D,
  marks: { readonly [K in keyof D["procedures"]]?: ProcedureSemantics },
): D {
  const procedures: Record<string, ProcedureDescriptor & ProcedureSemantics> = {};
  for (const [method, procedure] of Object.entries(descriptor.procedures)) {
    const mark = (marks as Record<string, ProcedureSemantics | undefined>)[method];
    if (mark?.semantics !== undefined && !isSemantics(mark.semantics)) {
      throw new TypeError(`withSemantics: ${method}: unknown semantics ${JSON.stringify(mark.semantics)}`);
    }
    procedures[method] = mark === undefined ? procedure : { ...procedure, ...mark };
  }
  for (const method of Object.keys(marks)) {
    if (!(method in descriptor.procedures)) {
      throw new TypeError(
        `withSemantics: ${descriptor.programName} v${descriptor.version} has no procedure ${method}`,
      );
    }
  }
  return { ...descriptor, procedures } as D;
}
