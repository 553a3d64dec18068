/**
 * Decoding limits and their defaults, in one place.
 *
 * Every length read from the wire is checked against three things before
 * anything is allocated: the bound declared in the .x file, the bytes that
 * remain in the input, and `maxLength` below.
 */
export interface XdrReaderOptions {
  /**
   * Ceiling for any single length read from the wire (string bytes, opaque
   * bytes, array elements), whatever the .x file declares. Default 64 MiB.
   */
  maxLength?: number;
  /** How deep recursive data that is not a linked list may nest. Default 1,000. */
  maxDepth?: number;
  /** Accept non-zero padding bytes instead of failing with NONZERO_PADDING. Default false. */
  allowNonZeroPadding?: boolean;
  /**
   * Decode opaque data as a copy instead of a view into the input. Default
   * false: views are free, but they keep the whole input buffer alive and
   * change if it is reused, so copy when you keep the data past the call.
   */
  copyOpaque?: boolean;
  /**
   * How string bytes become JavaScript strings. `"utf-8"` (default) refuses
   * bytes that are not valid UTF-8 with BAD_STRING, so nothing is lost
   * silently. `"latin1"` maps each byte to one character (U+0000–U+00FF): no
   * byte is ever refused or lost, for peers that put arbitrary bytes in
   * strings (file names over NFS, say). Use the same setting on the writer.
   */
  stringEncoding?: StringEncoding;
}

/** The two ways strings can map to bytes; see `XdrReaderOptions.stringEncoding`. */
export type StringEncoding = "utf-8" | "latin1";

/** The limits a reader uses when an option is not given. */
export const DEFAULT_READER_OPTIONS: Readonly<Required<XdrReaderOptions>> = Object.freeze({
  maxLength: 64 * 1024 * 1024,
  maxDepth: 1000,
  allowNonZeroPadding: false,
  copyOpaque: false,
  stringEncoding: "utf-8",
});

export interface XdrWriterOptions {
  /** Size of the buffer a writer starts with; it doubles as needed. Default 1 KiB. */
  initialBytes?: number;
  /**
   * Opaque data at least this long is kept by reference instead of copied,
   * so that `chunks()` can hand it to a vectored write. Default 32 KiB.
   * `Infinity` always copies.
   */
  referenceMinBytes?: number;
  /**
   * `"utf-8"` (default): strings are written as UTF-8, and a string with a
   * lone surrogate is refused with BAD_VALUE. `"latin1"`: each character is one
   * byte, and characters above U+00FF are refused.
   */
  stringEncoding?: StringEncoding;
}

/** The writer settings used when an option is not given. */
export const DEFAULT_WRITER_OPTIONS: Readonly<Required<XdrWriterOptions>> = Object.freeze({
  initialBytes: 1024,
  referenceMinBytes: 32 * 1024,
  stringEncoding: "utf-8",
});

/** The largest length XDR can express: lengths are unsigned 32-bit (RFC 4506 §4.10). */
export const MAX_XDR_LENGTH = 0xffff_ffff;
