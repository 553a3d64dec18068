/** RFC 5531 messages through the codecs our compiler generated from rpc_msg.x, against hand-checked wire bytes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AcceptStat,
  AUTH_NONE,
  AUTH_SYS,
  AuthStat,
  AuthsysParmsCodec,
  MsgType,
  RejectStat,
  ReplyStat,
  type RpcMsg,
  RpcMsgCodec,
} from "once-rpc/rpc";
import { decode, encode, XdrError } from "once-rpc/xdr";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const none = { flavor: AUTH_NONE, body: new Uint8Array(0) };

test("a NULL call to rpcbind (prog 100000, vers 2, proc 0) with AUTH_NONE is the 40 bytes rpcinfo sends", () => {
  const call: RpcMsg = {
    xid: 0x12345678,
    body: {
      mtype: MsgType.CALL,
      cbody: { rpcvers: 2, prog: 100000, vers: 2, proc: 0, cred: none, verf: none },
    },
  };
  const bytes = encode(RpcMsgCodec, call);
  assert.equal(
    hex(bytes),
    "12345678" +
      "00000000" +
      "00000002" +
      "000186a0" +
      "00000002" +
      "00000000" +
      "0000000000000000" +
      "0000000000000000",
  );
  assert.deepEqual(decode(RpcMsgCodec, bytes), call);
});

test("reply bodies: success, PROG_MISMATCH with its range, and denials", () => {
  const cases: [RpcMsg, string][] = [
    [
      {
        xid: 1,
        body: {
          mtype: MsgType.REPLY,
          rbody: {
            stat: ReplyStat.MSG_ACCEPTED,
            areply: { verf: none, reply_data: { stat: AcceptStat.SUCCESS } },
          },
        },
      },
      "00000001 00000001 00000000 00000000 00000000 00000000",
    ],
    [
      {
        xid: 2,
        body: {
          mtype: MsgType.REPLY,
          rbody: {
            stat: ReplyStat.MSG_ACCEPTED,
            areply: {
              verf: none,
              reply_data: { stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 1, high: 2 } },
            },
          },
        },
      },
      "00000002 00000001 00000000 00000000 00000000 00000002 00000001 00000002",
    ],
    [
      {
        xid: 3,
        body: {
          mtype: MsgType.REPLY,
          rbody: {
            stat: ReplyStat.MSG_DENIED,
            rreply: { stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_TOOWEAK },
          },
        },
      },
      "00000003 00000001 00000001 00000001 00000005",
    ],
    [
      {
        xid: 4,
        body: {
          mtype: MsgType.REPLY,
          rbody: {
            stat: ReplyStat.MSG_DENIED,
            rreply: { stat: RejectStat.RPC_MISMATCH, mismatch_info: { low: 2, high: 2 } },
          },
        },
      },
      "00000004 00000001 00000001 00000000 00000002 00000002",
    ],
  ];
  for (const [msg, wire] of cases) {
    const bytes = encode(RpcMsgCodec, msg);
    assert.equal(hex(bytes), wire.replaceAll(" ", ""));
    assert.deepEqual(decode(RpcMsgCodec, bytes), msg);
  }
});

test("an unknown auth flavor still decodes (the server must answer AUTH_ERROR, not drop it)", () => {
  const call: RpcMsg = {
    xid: 9,
    body: {
      mtype: MsgType.CALL,
      cbody: {
        rpcvers: 2,
        prog: 1,
        vers: 1,
        proc: 1,
        cred: { flavor: 390_004, body: Uint8Array.of(1, 2, 3) },
        verf: none,
      },
    },
  };
  assert.deepEqual(decode(RpcMsgCodec, encode(RpcMsgCodec, call)), call);
});

test("AUTH_SYS parameters: wire form, and the limits of 255 bytes of machine name and 16 groups", () => {
  const parms = { stamp: 1, machinename: "host", uid: 1000, gid: 1000, gids: [1000, 27] };
  const bytes = encode(AuthsysParmsCodec, parms);
  assert.equal(
    hex(bytes),
    "00000001" + "00000004" + "686f7374" + "000003e8" + "000003e8" + "00000002" + "000003e8" + "0000001b",
  );
  assert.equal(AUTH_SYS, 1);
  assert.throws(() => encode(AuthsysParmsCodec, { ...parms, machinename: "m".repeat(256) }), XdrError);
  assert.throws(() => encode(AuthsysParmsCodec, { ...parms, gids: new Array(17).fill(1) }), XdrError);
  const seventeen = Uint8Array.from(
    Buffer.from("00000001" + "00000000" + "00000000" + "00000000" + "00000011", "hex"),
  );
  assert.throws(
    () => decode(AuthsysParmsCodec, seventeen),
    (e: unknown) => e instanceof XdrError && e.code === "BOUND_EXCEEDED",
  );
});

test("a message type other than CALL or REPLY is refused", () => {
  const bytes = Uint8Array.from(Buffer.from("00000001" + "00000002", "hex"));
  assert.throws(
    () => decode(RpcMsgCodec, bytes),
    (e: unknown) => e instanceof XdrError && e.code === "BAD_ENUM",
  );
});
