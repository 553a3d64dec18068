/**
 * The JSON form of XDR values (docs/json.md): what `JSON.parse` gives and
 * `JSON.stringify` takes, and small helpers for reading and building it.
 */

/** A value as JSON has it: what `JSON.parse` returns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** True for a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short description of a JSON value for error messages: `"abc"`, `12`, `an array`, `an object`. */
export function describeJson(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "bigint") return `${value}n`;
  return Object.is(value, -0) ? "-0" : String(value);
}

/**
 * Sets `object[key]`. A field named `__proto__` becomes an own property, as
 * `JSON.parse` makes it, instead of replacing the object's prototype.
 */
export function setField(object: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/** Lists names for an error message, at most `limit` of them. */
export function listNames(names: readonly string[], limit = 24): string {
  if (names.length === 0) return "none";
  const shown = names.slice(0, limit).join(", ");
  return names.length > limit ? `${shown}, … (${names.length} in all)` : shown;
}
