/** Helpers shared by the .x front-end tests. */
import assert from "node:assert/strict";
import { compileSpecification, IdlError, type ResolvedSpecification } from "../../src/idl/index.js";

/** A readFile over an in-memory map of path to text; a missing path throws like fs does. */
export function memoryFiles(files: Readonly<Record<string, string>>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
    return text;
  };
}

/** Compiles `text` as the file `t.x` (other files may be given for #include). */
export function compile(text: string, others: Readonly<Record<string, string>> = {}): ResolvedSpecification {
  return compileSpecification("t.x", { readFile: memoryFiles({ ...others, "t.x": text }) });
}

/** Runs `fn`, which must throw IdlError, and gives its message lines (`file:line:col: message`). */
export function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IdlError, `expected IdlError, got ${String(e)}`);
    assert.equal(e.message.split("\n").length, e.diagnostics.length);
    return e.message.split("\n");
  }
  assert.fail("expected an IdlError");
}
