/**
 * "Are you alive?": a NULL call (procedure 0, which every program version
 * has: RFC 5531 §12.1) to an instance's program version at its address,
 * over its netid.
 */
import { createClient } from "../../client/index.js";
import { isRpcError, type ProgramVersionDescriptor } from "../../rpc/index.js";
import type { Address } from "../../transport/index.js";
import { isWildcardHost, parseUniversalAddress } from "../../transport/universal-address.js";
import { xdrVoid } from "../../xdr/index.js";

/** What a probe needs to know of an instance. */
export interface ProbeTarget {
  readonly program: number;
  readonly version: number;
  readonly netid: string;
  readonly address: string;
}

/** Asks an instance whether it is alive; resolves true or false, never rejects. */
export type Probe = (target: ProbeTarget, timeoutMs: number, signal: AbortSignal) => Promise<boolean>;

/**
 * Where to send a probe: the universal address on its netid, a wildcard
 * host (`0.0.0.0`, `::`) taken as this host's loopback. Undefined when the
 * address does not parse on the netid.
 */
export function probeAddress(target: Pick<ProbeTarget, "netid" | "address">): Address | undefined {
  const address = parseUniversalAddress(target.address, target.netid);
  if (address === undefined || address.protocol === "unix" || !isWildcardHost(address.host)) return address;
  return { ...address, host: address.host.includes(":") ? "::1" : "127.0.0.1" };
}

/**
 * The default probe: a NULL call with AUTH_NONE that must be answered
 * within `timeoutMs`. Alive when it succeeds, and when the server answers
 * PROC_UNAVAIL or AUTH_ERROR (it is there and serves the program, it just
 * will not run NULL for this caller). A miss on anything else: no answer,
 * no connection, or PROG_UNAVAIL / PROG_MISMATCH (something else listens
 * there now).
 */
export async function probeInstance(
  target: ProbeTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const address = probeAddress(target);
  if (address === undefined) return false;
  const descriptor = {
    programName: `program ${target.program}`,
    program: target.program,
    versionName: `version ${target.version}`,
    version: target.version,
    procedures: { null: { name: "NULL", number: 0, args: xdrVoid, result: xdrVoid } },
  } as const satisfies ProgramVersionDescriptor;
  const client = createClient(descriptor, address, {
    timeoutMs,
    connectTimeoutMs: timeoutMs,
    // Over UDP a lost datagram is sent again within the timeout, so one loss is not a miss.
    retransmitInitialMs: Math.max(1, Math.floor(timeoutMs / 3)),
  });
  try {
    await client.null(null, { signal });
    return true;
  } catch (error) {
    return isRpcError(error) && (error.code === "PROC_UNAVAIL" || error.code === "AUTH_ERROR");
  } finally {
    client.$destroy();
  }
}
