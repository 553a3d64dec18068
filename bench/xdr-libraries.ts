/**
 * The libraries once-rpc's XDR codecs are compared with, each set up the way
 * its documentation recommends for speed, for the same data as
 * bench/fixtures/record.x.
 */
import { readFileSync } from "node:fs";
import {
  array,
  double,
  int32,
  struct,
  UNBOUNDED_MAX_LENGTH,
  uint32,
  varOpaque,
  string as xdrString,
} from "@stellar/js-xdr";
import { Packr } from "msgpackr";
import protobuf from "protobufjs";

/**
 * @stellar/js-xdr (v5 schema builders; v5 dropped the `XDR.config` DSL of
 * v1–v4). Its strings are byte arrays, not JS strings, and it decodes opaque
 * data as copies.
 */
export const jsXdr = {
  record: struct("record", {
    id: int32(),
    name: xdrString(UNBOUNDED_MAX_LENGTH),
    score: double(),
    blob: varOpaque(UNBOUNDED_MAX_LENGTH),
    list: array(uint32(), 10),
  }),
  payload: varOpaque(UNBOUNDED_MAX_LENGTH, "payload"),
};

/**
 * protobufjs with the schema parsed at run time from bench/fixtures/record.proto.
 * `Type.encode` and `Type.decode` are the codecs protobufjs generates on first
 * use (reflection with generated code, its fastest path without a build step).
 */
export function loadProtobuf(): { record: protobuf.Type; payload: protobuf.Type } {
  const text = readFileSync(new URL("../fixtures/record.proto", import.meta.url), "utf8");
  const root = protobuf.parse(text, { keepCase: true }).root;
  return { record: root.lookupType("bench.Record"), payload: root.lookupType("bench.Payload") };
}

/** msgpackr with objects as plain MessagePack maps: self-describing, readable by any MessagePack decoder. */
export function msgpackrMaps(): Packr {
  return new Packr({ useRecords: false });
}

/**
 * msgpackr's record extension with shared structures: the field names are
 * sent once (here: kept in the Packr) and every later message refers to them.
 * Only a decoder that shares the structures can read the bytes.
 */
export function msgpackrRecords(): Packr {
  return new Packr({ structures: [] });
}
