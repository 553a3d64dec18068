/**
 * JSON text of a JSON-form value without recursion. A linked list in the
 * JSON form is nested objects, one level per element, and `JSON.stringify`
 * overflows the stack on a list of 100,000 elements; `JSON.parse` does not
 * need this, as it reads such text without recursion.
 */
import type { JsonValue } from "./json-value.js";

type Frame =
  | { readonly array: readonly JsonValue[]; i: number; readonly indent: string }
  | {
      readonly object: { readonly [key: string]: JsonValue };
      readonly keys: readonly string[];
      i: number;
      readonly indent: string;
    };

/**
 * The text `JSON.stringify(value, null, space)` gives, character for
 * character, for data nested to any depth. `space` is as for JSON.stringify:
 * a number of spaces (at most 10) or a string (its first 10 characters).
 */
export function stringifyJson(value: JsonValue, space: number | string = ""): string {
  const gap =
    typeof space === "number" ? " ".repeat(Math.max(0, Math.min(10, Math.floor(space)))) : space.slice(0, 10);
  const colon = gap === "" ? ":" : ": ";
  const out: string[] = [];
  const stack: Frame[] = [];
  let next: JsonValue | undefined = value;
  let indent = "";
  for (;;) {
    if (next !== undefined) {
      const v: JsonValue = next;
      next = undefined;
      if (Array.isArray(v)) {
        if (v.length === 0) out.push("[]");
        else {
          out.push("[");
          stack.push({ array: v, i: 0, indent });
        }
      } else if (typeof v === "object" && v !== null) {
        // JSON.stringify leaves out properties whose value is undefined; a JsonValue has none, but a cast one might.
        const keys = Object.keys(v).filter((k) => v[k] !== undefined);
        if (keys.length === 0) out.push("{}");
        else {
          out.push("{");
          stack.push({ object: v, keys, i: 0, indent });
        }
      } else {
        out.push(JSON.stringify(v));
      }
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return out.join("");
    const length = "array" in top ? top.array.length : top.keys.length;
    if (top.i < length) {
      let sep = top.i === 0 ? "" : ",";
      if (gap !== "") sep += `\n${top.indent}${gap}`;
      if ("array" in top) {
        next = top.array[top.i];
      } else {
        const key = top.keys[top.i];
        sep += JSON.stringify(key) + colon;
        next = top.object[key];
      }
      out.push(sep);
      indent = top.indent + gap;
      top.i++;
    } else {
      out.push((gap === "" ? "" : `\n${top.indent}`) + ("array" in top ? "]" : "}"));
      stack.pop();
    }
  }
}
