import { withPath, XdrError } from "./errors.js";
import { MAX_XDR_LENGTH, type XdrReaderOptions, type XdrWriterOptions } from "./limits.js";
import { XdrReader } from "./reader.js";
import { XdrWriter } from "./writer.js";

/**
 * Encodes and decodes values of one XDR type. Generated code makes one per
 * type in a .x file; the runtime provides the built-in ones below.
 */
export interface XdrCodec<T> {
  /** The type's name in the .x file (or the XDR keyword), for error paths and tools. */
  readonly name: string;
  /** Appends `value` to the writer; throws XdrError when it does not fit the type. */
  encode(writer: XdrWriter, value: T): void;
  /** Reads one value; throws XdrError on malformed or hostile input. */
  decode(reader: XdrReader): T;
}

/** The value type of a codec. */
export type XdrValue<C> = C extends XdrCodec<infer T> ? T : never;

/** RFC 4506 §4.16: no data. */
export const xdrVoid: XdrCodec<null> = {
  name: "void",
  encode() {},
  decode() {
    return null;
  },
};

/** RFC 4506 §4.1. */
export const xdrInt: XdrCodec<number> = {
  name: "int",
  encode: (w, v) => w.writeInt(v),
  decode: (r) => r.readInt(),
};

/** RFC 4506 §4.2. */
export const xdrUnsignedInt: XdrCodec<number> = {
  name: "unsigned int",
  encode: (w, v) => w.writeUnsignedInt(v),
  decode: (r) => r.readUnsignedInt(),
};

/** RFC 4506 §4.4. */
export const xdrBool: XdrCodec<boolean> = {
  name: "bool",
  encode: (w, v) => w.writeBool(v),
  decode: (r) => r.readBool(),
};

/** RFC 4506 §4.5. */
export const xdrHyper: XdrCodec<bigint> = {
  name: "hyper",
  encode: (w, v) => w.writeHyper(v),
  decode: (r) => r.readHyper(),
};

/** RFC 4506 §4.5. */
export const xdrUnsignedHyper: XdrCodec<bigint> = {
  name: "unsigned hyper",
  encode: (w, v) => w.writeUnsignedHyper(v),
  decode: (r) => r.readUnsignedHyper(),
};

/** RFC 4506 §4.6. */
export const xdrFloat: XdrCodec<number> = {
  name: "float",
  encode: (w, v) => w.writeFloat(v),
  decode: (r) => r.readFloat(),
};

/** RFC 4506 §4.7. */
export const xdrDouble: XdrCodec<number> = {
  name: "double",
  encode: (w, v) => w.writeDouble(v),
  decode: (r) => r.readDouble(),
};

/** RFC 4506 §4.11: `string<max>`; unbounded when `max` is omitted (rpcgen's xdr_wrapstring). */
export function xdrString(max: number = MAX_XDR_LENGTH): XdrCodec<string> {
  return {
    name: max === MAX_XDR_LENGTH ? "string<>" : `string<${max}>`,
    encode: (w, v) => w.writeString(v, max),
    decode: (r) => r.readString(max),
  };
}

/** RFC 4506 §4.9: `opaque[length]`. */
export function xdrFixedOpaque(length: number): XdrCodec<Uint8Array> {
  return {
    name: `opaque[${length}]`,
    encode: (w, v) => w.writeFixedOpaque(v, length),
    decode: (r) => r.readFixedOpaque(length),
  };
}

/** RFC 4506 §4.10: `opaque<max>`. */
export function xdrVariableOpaque(max: number = MAX_XDR_LENGTH): XdrCodec<Uint8Array> {
  return {
    name: max === MAX_XDR_LENGTH ? "opaque<>" : `opaque<${max}>`,
    encode: (w, v) => w.writeVariableOpaque(v, max),
    decode: (r) => r.readVariableOpaque(max),
  };
}

/**
 * RFC 4506 §4.13: `T<max>`. `minElementBytes` is the least an element can take
 * on the wire; the reader uses it to refuse counts the input cannot hold.
 */
export function xdrVariableArray<T>(
  element: XdrCodec<T>,
  max: number = MAX_XDR_LENGTH,
  minElementBytes = 4,
): XdrCodec<T[]> {
  return {
    name: `${element.name}<${max === MAX_XDR_LENGTH ? "" : max}>`,
    encode(w, v) {
      if (!Array.isArray(v)) throw new XdrError("BAD_VALUE", "not an array", w.length);
      w.writeLength(v.length, max);
      let i = 0;
      try {
        for (; i < v.length; i++) element.encode(w, v[i]);
      } catch (e) {
        throw withPath(e, `[${i}]`, w.length);
      }
    },
    decode(r) {
      const n = r.readLength(max, minElementBytes);
      const out = new Array<T>(n);
      let i = 0;
      try {
        for (; i < n; i++) out[i] = element.decode(r);
      } catch (e) {
        throw withPath(e, `[${i}]`, r.offset);
      }
      return out;
    },
  };
}

/** RFC 4506 §4.12: `T[length]`. */
export function xdrFixedArray<T>(element: XdrCodec<T>, length: number): XdrCodec<T[]> {
  return {
    name: `${element.name}[${length}]`,
    encode(w, v) {
      if (!Array.isArray(v)) throw new XdrError("BAD_VALUE", "not an array", w.length);
      w.checkFixedLength(v.length, length);
      let i = 0;
      try {
        for (; i < length; i++) element.encode(w, v[i]);
      } catch (e) {
        throw withPath(e, `[${i}]`, w.length);
      }
    },
    decode(r) {
      const out = new Array<T>(length);
      let i = 0;
      try {
        for (; i < length; i++) out[i] = element.decode(r);
      } catch (e) {
        throw withPath(e, `[${i}]`, r.offset);
      }
      return out;
    },
  };
}

/** RFC 4506 §4.19: `*T`, a bool then the value when it is TRUE. */
export function xdrOptional<T>(element: XdrCodec<T>): XdrCodec<T | null> {
  return {
    name: `*${element.name}`,
    encode(w, v) {
      w.writeBool(v !== null && v !== undefined);
      if (v !== null && v !== undefined) element.encode(w, v);
    },
    decode(r) {
      return r.readBool() ? element.decode(r) : null;
    },
  };
}

/** Options of the one-shot `encode` helper. */
export type EncodeOptions = XdrWriterOptions;

/** Options of the one-shot `decode` helper. */
export interface DecodeOptions extends XdrReaderOptions {
  /** Accept bytes after the value instead of failing with TRAILING_BYTES. Default false. */
  allowTrailingBytes?: boolean;
}

/**
 * The writer `encode()` borrows when it is called without options, so that a
 * call allocates only its result: making a writer (and growing its buffer)
 * cost several times more than encoding a small struct. Null while lent out,
 * so a codec that calls `encode()` from inside `encode()` gets a writer of its own.
 */
let spareWriter: XdrWriter | null = null;
/** A spare writer that took a message longer than this is dropped rather than kept, with its buffer. */
const SPARE_WRITER_MAX_BYTES = 64 * 1024;

/** Encodes one value into a fresh byte array. Reuse an `XdrWriter` instead on hot paths. */
export function encode<T>(codec: XdrCodec<T>, value: T, options?: EncodeOptions): Uint8Array {
  let writer: XdrWriter;
  const borrowed = options === undefined;
  if (borrowed) {
    writer = spareWriter ?? new XdrWriter();
    spareWriter = null;
  } else {
    writer = new XdrWriter(options);
  }
  try {
    codec.encode(writer, value);
    return writer.bytes();
  } catch (e) {
    throw withPath(e, codec.name, writer.length);
  } finally {
    if (borrowed) {
      const keep = writer.length <= SPARE_WRITER_MAX_BYTES;
      // Forget the message, including opaque data the writer held by reference.
      writer.reset();
      if (keep) spareWriter = writer;
    }
  }
}

/** Decodes one value that must fill `bytes` exactly (unless `allowTrailingBytes`). */
export function decode<T>(codec: XdrCodec<T>, bytes: Uint8Array, options?: DecodeOptions): T {
  const reader = new XdrReader(bytes, options);
  let value: T;
  try {
    value = codec.decode(reader);
  } catch (e) {
    throw withPath(e, codec.name, reader.offset);
  }
  if (!options?.allowTrailingBytes) reader.expectEnd();
  return value;
}
