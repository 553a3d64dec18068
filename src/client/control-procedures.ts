/** The procedures of the control program (once_session.x) a channel calls by itself. */
import { OnceControlProgV1 } from "../rpc/index.js";

/** How long a control call (extend, cancel, reincarnate) waits for its answer at most. */
export const CONTROL_TIMEOUT_MS = 5_000;

/** A procedure of the control program, bound for Channel.call. */
function controlProcedure<K extends keyof typeof OnceControlProgV1.procedures>(name: K) {
  const p = OnceControlProgV1.procedures[name];
  return {
    program: OnceControlProgV1.program,
    version: OnceControlProgV1.version,
    procedure: p.number,
    label: `ONCE_CONTROL_PROG v1 ${p.name}`,
    args: p.args as (typeof OnceControlProgV1.procedures)[K]["args"],
    result: p.result as (typeof OnceControlProgV1.procedures)[K]["result"],
  };
}

/** The control procedures a channel calls by itself. */
export const CONTROL = {
  extend: controlProcedure("extend"),
  cancel: controlProcedure("cancel"),
  reincarnate: controlProcedure("reincarnate"),
};
