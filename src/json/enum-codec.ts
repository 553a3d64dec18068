/** The JSON-form codec of an enum (RFC 4506 §4.3): members by name. */
import type { XdrReader } from "../xdr/index.js";
import { describeJson, listNames } from "./json-value.js";
import type { JsonCodec } from "./scalar-codecs.js";
import type { EnumNode } from "./type-graph.js";

/** RFC 4506 §4.3: a member's name; its number is accepted on input. Unknown values are refused both ways. */
export function enumCodec(node: EnumNode): Pick<JsonCodec, "encode" | "decode"> {
  const byName = new Map(node.members.map((m) => [m.name, m.value]));
  const byValue = new Map<number, string>();
  // Two names for one value: the first written is the one decoded.
  for (const m of node.members) if (!byValue.has(m.value)) byValue.set(m.value, m.name);
  return {
    encode(w, v) {
      let n: number | undefined;
      if (typeof v === "string") {
        n = byName.get(v);
        if (n === undefined) {
          const names = listNames(node.members.map((m) => m.name));
          throw w.fail(`${describeJson(v)} is not a member of enum ${node.name} (its members: ${names})`);
        }
      } else if (typeof v === "number") {
        if (!byValue.has(v)) throw w.fail(`${describeJson(v)} is not a value of enum ${node.name}`);
        n = v;
      } else {
        throw w.fail(`expected enum ${node.name} (a member's name or value), got ${describeJson(v)}`);
      }
      w.writeInt(n);
    },
    decode(r: XdrReader) {
      const v = r.readInt();
      const name = byValue.get(v);
      if (name === undefined)
        throw r.fail("BAD_ENUM", `${v} is not a value of enum ${node.name}`, r.offset - 4);
      return name;
    },
  };
}
