/**
 * The round trip that proves a codec byte-exact with C, for a batch of values:
 *
 * 1. TypeScript encodes the value, and decodes its own bytes back to it.
 * 2. C (rpcgen + libtirpc) decodes TypeScript's bytes and re-encodes what it
 *    decoded: C's bytes must equal TypeScript's.
 * 3. TypeScript decodes C's bytes: the value must equal the original (NaN
 *    equals NaN, -0 is not +0, bytes by content); and re-encoding it must
 *    give C's bytes again.
 *
 * So TS -> C checks our encoder against C's decoder, and C -> TS checks C's
 * encoder against our decoder.
 */
import { decode, encode, type XdrCodec } from "../../src/xdr/index.js";
import { type CXdrPeer, CXdrStatus } from "../support/c-xdr-harness.js";
import { hex, show, xdrDifference } from "../support/xdr-equal.js";

/** Failure messages show at most this many bytes of each encoding. */
const LIMIT = 256;
const STATUS_NAMES = Object.fromEntries(Object.entries(CXdrStatus).map(([k, v]) => [v, k]));

/** Runs `values` of `typeName` through TypeScript and C; returns a description of each failure. */
export async function roundTripThroughC(
  peer: CXdrPeer,
  typeName: string,
  codec: XdrCodec<unknown>,
  values: readonly unknown[],
): Promise<string[]> {
  const failures: string[] = [];
  const sent: { value: unknown; bytes: Uint8Array; index: number }[] = [];
  values.forEach((value, index) => {
    let bytes: Uint8Array;
    try {
      bytes = encode(codec, value);
    } catch (e) {
      failures.push(`${typeName} #${index}: TS cannot encode ${show(value)}: ${(e as Error).message}`);
      return;
    }
    try {
      const back = decode(codec, bytes);
      const d = xdrDifference(back, value);
      if (d !== null) failures.push(`${typeName} #${index}: TS does not decode its own bytes back: ${d}`);
    } catch (e) {
      failures.push(
        `${typeName} #${index}: TS cannot decode its own bytes ${hex(bytes, LIMIT)}: ${(e as Error).message}`,
      );
    }
    sent.push({ value, bytes: bytes.slice(), index });
  });
  const replies = await peer.roundTripAll(
    typeName,
    sent.map((s) => s.bytes),
  );
  replies.forEach((reply, i) => {
    const { value, bytes, index } = sent[i];
    const where = `${typeName} #${index} ${show(value, 400)}`;
    if (reply.status !== CXdrStatus.OK) {
      failures.push(`${where}: C answered ${STATUS_NAMES[reply.status]} for TS bytes ${hex(bytes, LIMIT)}`);
      return;
    }
    if (Buffer.compare(reply.bytes, bytes) !== 0) {
      failures.push(`${where}: bytes differ\n  TS ${hex(bytes, LIMIT)}\n  C  ${hex(reply.bytes, LIMIT)}`);
      return;
    }
    try {
      const fromC = decode(codec, reply.bytes);
      const d = xdrDifference(fromC, value);
      if (d !== null) failures.push(`${where}: TS decodes C's bytes to another value: ${d}`);
      const again = encode(codec, fromC);
      if (Buffer.compare(again, reply.bytes) !== 0) {
        failures.push(
          `${where}: TS re-encodes C's bytes differently\n  C  ${hex(reply.bytes, LIMIT)}\n  TS ${hex(again, LIMIT)}`,
        );
      }
    } catch (e) {
      failures.push(
        `${where}: TS cannot decode C's bytes ${hex(reply.bytes, LIMIT)}: ${(e as Error).message}`,
      );
    }
  });
  return failures;
}

/** An assertion message listing the first few failures. */
export function failureReport(failures: readonly string[], context: string): string {
  const shown = failures.slice(0, 8).join("\n");
  const more = failures.length > 8 ? `\n… and ${failures.length - 8} more` : "";
  return `${failures.length} failures (${context}):\n${shown}${more}`;
}
