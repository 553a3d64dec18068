/**
 * What the RPC benchmark sends: the same values for every row (the C client,
 * bench/c/echo-client.c, builds the same ones), and the floor's frames.
 */
import { authNone, writeCallHeader, type XdrCodec, XdrWriter } from "once-rpc";
import {
  BulkCodec,
  ECHO_BULK,
  ECHO_PROG,
  ECHO_SMALL,
  ECHO_V1,
  type Small,
  SmallCodec,
} from "../generated/echo.js";

/** The size of the bulk echo's payload. */
export const BULK_BYTES = 64 * 1024;

/** The two procedures of echo.x. */
export type Procedure = "small" | "bulk";

/** The struct of the small echo: a 20-character name and sixteen ints, 104 bytes of XDR. */
export function sampleSmall(): Small {
  return {
    id: 1_234_567,
    name: "Ada Lovelace, Byron!",
    score: 98.625_001,
    list: [
      0, 1, -1, 127, 128, -128, 65_535, 65_536, -65_536, 0x7fff_ffff, -0x8000_0000, 12_345_678, -12_345_678,
      42, 7, 99,
    ],
  };
}

/** 64 KiB of byte i = (i * 7 + 3) & 255. */
export function sampleBulk(): Uint8Array {
  const bytes = new Uint8Array(BULK_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 255;
  return bytes;
}

/**
 * The floor's message for a procedure: a 4-byte length, then the bytes of the
 * RPC call once-rpc sends for the same arguments (header with AUTH_NONE, then
 * the arguments in XDR), so that the floor carries as many bytes as the RPC
 * rows: 4 + 144 bytes for the small struct, 4 + 65,580 for 64 KiB.
 */
export function floorFrame(procedure: Procedure): Uint8Array {
  return procedure === "small"
    ? frame(ECHO_SMALL, SmallCodec, sampleSmall())
    : frame(ECHO_BULK, BulkCodec, sampleBulk());
}

function frame<T>(procedure: number, codec: XdrCodec<T>, value: T): Uint8Array {
  const writer = new XdrWriter();
  writer.writeUnsignedInt(0); // the length, set below
  writeCallHeader(writer, { xid: 1, program: ECHO_PROG, version: ECHO_V1, procedure }, authNone);
  codec.encode(writer, value);
  const bytes = writer.bytes();
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(0, bytes.length - 4);
  return bytes;
}
