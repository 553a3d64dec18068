/**
 * JSON-form codecs of arrays (RFC 4506 §4.12–§4.13) and of optional data
 * (§4.19, which the RFC describes as an array of at most one element).
 */
import { MAX_XDR_LENGTH, withPath } from "../xdr/index.js";
import { describeJson, type JsonValue } from "./json-value.js";
import type { JsonCodec } from "./scalar-codecs.js";

/** A bound as a codec's name shows it: empty when unbounded. */
export function boundText(max: number): string {
  return max === MAX_XDR_LENGTH ? "" : String(max);
}

/** RFC 4506 §4.12: a JSON array of exactly `length` elements. */
export function fixedArrayCodec(element: JsonCodec, length: number): JsonCodec {
  return {
    name: `${element.name}[${length}]`,
    encode(w, v) {
      if (!Array.isArray(v))
        throw w.fail(`expected an array of ${length} ${element.name}, got ${describeJson(v)}`);
      w.checkFixedLength(v.length, length);
      let i = 0;
      try {
        for (; i < length; i++) element.encode(w, v[i]);
      } catch (e) {
        throw withPath(e, `[${i}]`, w.length);
      }
    },
    decode(r) {
      const out: JsonValue[] = new Array(length);
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

/** RFC 4506 §4.13: a JSON array of at most `max` elements; the count read is checked before allocating. */
export function variableArrayCodec(element: JsonCodec, max: number, minElementBytes: number): JsonCodec {
  return {
    name: `${element.name}<${boundText(max)}>`,
    encode(w, v) {
      if (!Array.isArray(v)) throw w.fail(`expected an array of ${element.name}, got ${describeJson(v)}`);
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
      const out: JsonValue[] = new Array(n);
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

/** RFC 4506 §4.19: `null`, or the value. */
export function optionalCodec(element: JsonCodec): JsonCodec {
  return {
    name: `*${element.name}`,
    encode(w, v) {
      w.writeBool(v !== null);
      if (v !== null) element.encode(w, v);
    },
    decode: (r) => (r.readBool() ? element.decode(r) : null),
  };
}
