/**
 * ONCE_CONTROL_PROG 0x2f0ce002 v1 (once_session.x, docs/semantics.md "The
 * control program"): the calls a session client makes about its other
 * calls — extend a deadline, cancel, announce a restart (reincarnation),
 * claim a call a gentle reincarnation would kill, kill what an extermination
 * log found unfinished. Every session server serves it; it is not listed
 * with the server's programs (a binder does not learn of it).
 *
 * The 16-byte client id in the arguments is what authorizes a control call:
 * it is random, and only the client (and whoever reads its traffic) knows it.
 */

import {
  type OnceCallRef,
  OnceControlProgV1,
  type OnceControlRes,
  OnceControlStat,
} from "../rpc/protocol/once_session.js";
import type { Implementation } from "./implementation.js";
import type { OrphanRegistry } from "./orphans.js";

export { OnceControlProgV1 };

function result(affected: number): OnceControlRes {
  return {
    stat: affected > 0 ? OnceControlStat.ONCE_CONTROL_OK : OnceControlStat.ONCE_CONTROL_UNKNOWN,
    affected,
  };
}

function ref(call: OnceCallRef) {
  return {
    clientKey: Buffer.from(call.client_id).toString("hex"),
    epoch: call.epoch,
    sequence: call.sequence,
  };
}

/**
 * The control program's handlers over `orphans`. ONCE_REINCARNATE answers
 * ONCE_CONTROL_OK even when nothing of the client ran (the announcement is
 * recorded either way); the others answer ONCE_CONTROL_UNKNOWN when no
 * call they name runs.
 */
export function controlImplementation(orphans: OrphanRegistry): Implementation<typeof OnceControlProgV1> {
  return {
    extend: (args) => result(orphans.extend(ref(args.call), args.timeout_ms, Date.now())),
    cancel: (call) => result(orphans.cancel(ref(call))),
    reincarnate: (args) => ({
      stat: OnceControlStat.ONCE_CONTROL_OK,
      affected: orphans.reincarnate(
        Buffer.from(args.client_id).toString("hex"),
        args.epoch,
        args.gentle ? args.grace_ms : 0,
      ),
    }),
    claim: (call) => result(orphans.claim(ref(call))),
    kill: (args) =>
      result(orphans.kill(Buffer.from(args.client_id).toString("hex"), args.epoch, args.sequences)),
  };
}
