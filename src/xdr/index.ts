/**
 * The XDR runtime (RFC 4506): the writer, the reader, built-in codecs and
 * the one error type. Generated code imports this module as `once-rpc/xdr`.
 */
export {
  type DecodeOptions,
  decode,
  type EncodeOptions,
  encode,
  type XdrCodec,
  type XdrValue,
  xdrBool,
  xdrDouble,
  xdrFixedArray,
  xdrFixedOpaque,
  xdrFloat,
  xdrHyper,
  xdrInt,
  xdrOptional,
  xdrString,
  xdrUnsignedHyper,
  xdrUnsignedInt,
  xdrVariableArray,
  xdrVariableOpaque,
  xdrVoid,
} from "./codec.js";
export { withLinkPath, withPath, XDR_ERROR_CODES, XdrError, type XdrErrorCode } from "./errors.js";
export {
  DEFAULT_READER_OPTIONS,
  DEFAULT_WRITER_OPTIONS,
  MAX_XDR_LENGTH,
  type StringEncoding,
  type XdrReaderOptions,
  type XdrWriterOptions,
} from "./limits.js";
export { XdrReader } from "./reader.js";
export { describe, XdrWriter } from "./writer.js";
