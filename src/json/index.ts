/**
 * XDR in its JSON form (docs/json.md), for tools that meet a `.x` file only
 * at run time, like `once call`: codecs and program descriptors built from a
 * resolved specification, byte-exact with the generated codecs.
 */
export { createJsonCodec, type JsonTypeRef } from "./json-codec.js";
export type { JsonObject, JsonValue } from "./json-value.js";
export {
  findJsonProcedure,
  type JsonProcedureDescriptor,
  type JsonProcedureMatch,
  type JsonProgramVersionDescriptor,
  jsonProgramDescriptors,
} from "./program-descriptors.js";
export type { JsonCodec } from "./scalar-codecs.js";
export { stringifyJson } from "./stringify-json.js";
