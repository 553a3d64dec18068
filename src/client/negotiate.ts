/**
 * Version negotiation: of the versions of a program a client knows, use the
 * highest one the server also serves. The client asks the highest with a
 * NULL call; a PROG_MISMATCH reply says which versions the server has, and
 * a binder that knows no server of a version sends it to the next lower.
 */
import { isRpcError, ProgramMismatchError, type ProgramVersionDescriptor } from "../rpc/index.js";
import { xdrVoid } from "../xdr/index.js";
import type { BoundProcedure, CallOptions } from "./call-options.js";
import { type Client, type ClientOptions, type ClientTarget, createClient } from "./client.js";

/** A client of whichever version was agreed on, with that version. */
export type NegotiatedClient<Ds extends readonly ProgramVersionDescriptor[]> = {
  [K in keyof Ds]: { readonly version: Ds[K]["version"]; readonly client: Client<Ds[K]> };
}[number];

/**
 * A client of the highest version in `descriptors` (all of one program)
 * that the server serves. Rejects with the server's ProgramMismatchError
 * when it serves none of them, or with what the NULL call met (a binder's
 * NOT_REGISTERED, CONNECT_FAILED, …).
 */
export async function createNegotiatedClient<const Ds extends readonly ProgramVersionDescriptor[]>(
  descriptors: Ds,
  target: ClientTarget,
  options: ClientOptions = {},
  callOptions?: CallOptions,
): Promise<NegotiatedClient<Ds>> {
  if (descriptors.length === 0) throw new TypeError("createNegotiatedClient: no versions to choose from");
  const program = descriptors[0].program;
  if (descriptors.some((d) => d.program !== program)) {
    throw new TypeError("createNegotiatedClient: the descriptors are of different programs");
  }
  const byVersion = [...descriptors].sort((a, b) => b.version - a.version);
  let i = 0;
  for (;;) {
    const descriptor = byVersion[i];
    const client = createClient(descriptor, target, options);
    try {
      await client.$channel.call(nullProcedure(descriptor), null, callOptions);
      return { version: descriptor.version, client } as NegotiatedClient<Ds>;
    } catch (error) {
      if (!isCallChannel(target)) client.$destroy();
      if (error instanceof ProgramMismatchError) {
        const next = byVersion.findIndex(
          (d) => d.version < descriptor.version && d.version >= error.low && d.version <= error.high,
        );
        if (next >= 0) {
          i = next;
          continue;
        }
      } else if (isRpcError(error, "NOT_REGISTERED") && i + 1 < byVersion.length) {
        i++;
        continue;
      }
      throw error;
    }
  }
}

/** Procedure 0 of every program version: no arguments, no results (RFC 5531 §12.1's convention). */
function nullProcedure(d: ProgramVersionDescriptor): BoundProcedure<null, null> {
  return {
    program: d.program,
    version: d.version,
    procedure: 0,
    label: `${d.programName} v${d.version} NULL`,
    args: xdrVoid,
    result: xdrVoid,
  };
}

function isCallChannel(target: ClientTarget): boolean {
  return typeof target === "object" && "call" in target && !("send" in target);
}
