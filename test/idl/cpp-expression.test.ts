import assert from "node:assert/strict";
import { test } from "node:test";
import { CppExpressionError, evaluateCondition } from "../../src/idl/cpp-expression.js";

const macros = (m: Record<string, string>) => ({ get: (name: string) => m[name] });
const none = macros({});

test("integer constants: decimal, hex, octal, suffixes", () => {
  assert.equal(evaluateCondition("42", none), 42n);
  assert.equal(evaluateCondition("0x1F", none), 31n);
  assert.equal(evaluateCondition("017", none), 15n);
  assert.equal(evaluateCondition("0", none), 0n);
  assert.equal(evaluateCondition("10UL", none), 10n);
});

test("operators follow C precedence and associativity", () => {
  const cases: [string, bigint][] = [
    ["1 + 2 * 3", 7n],
    ["(1 + 2) * 3", 9n],
    ["10 - 4 - 3", 3n],
    ["7 / 2", 3n],
    ["-7 % 3", -1n],
    ["1 << 4 >> 2", 4n],
    ["3 < 4 == 1", 1n],
    ["5 <= 4", 0n],
    ["5 >= 5 && 2 > 1", 1n],
    ["6 & 3 | 8", 10n],
    ["6 ^ 3", 5n],
    ["!0 + !5", 1n],
    ["~0", -1n],
    ["-(-3)", 3n],
    ["0 || 0", 0n],
    ["1 ? 2 : 3", 2n],
    ["0 ? 2 : 0 ? 3 : 4", 4n],
    ["1 != 2", 1n],
  ];
  for (const [text, want] of cases) assert.equal(evaluateCondition(text, none), want, text);
});

test("defined X and defined(X), before macro expansion", () => {
  const m = macros({ RPC_HDR: "1", EMPTY: "" });
  assert.equal(evaluateCondition("defined RPC_HDR", m), 1n);
  assert.equal(evaluateCondition("defined(EMPTY)", m), 1n);
  assert.equal(evaluateCondition("defined ( RPC_XDR )", m), 0n);
  assert.equal(evaluateCondition("!defined(RPC_XDR) && RPC_HDR", m), 1n);
});

test("macros expand recursively; a self-referencing macro stops; unknown names are 0", () => {
  const m = macros({ A: "B + 1", B: "2", SELF: "SELF + 1" });
  // Macros are text, as in cpp: A * 2 is B + 1 * 2.
  assert.equal(evaluateCondition("A * 2", m), 4n);
  assert.equal(evaluateCondition("(A) * 2", m), 6n);
  assert.equal(evaluateCondition("SELF", m), 1n);
  assert.equal(evaluateCondition("NOT_DEFINED", none), 0n);
});

test("strict mode refuses unknown names", () => {
  assert.throws(() => evaluateCondition("X + 1", none, true), /'X' is not defined/);
});

test("short-circuit and ?: do not evaluate the branch not taken", () => {
  assert.equal(evaluateCondition("0 && 1 / 0", none), 0n);
  assert.equal(evaluateCondition("1 || 1 / 0", none), 1n);
  assert.equal(evaluateCondition("1 ? 5 : 1 / 0", none), 5n);
});

test("errors carry the offset of the problem", () => {
  const check = (text: string, message: RegExp, index: number) => {
    assert.throws(
      () => evaluateCondition(text, none),
      (e: unknown) => e instanceof CppExpressionError && message.test(e.message) && e.index === index,
      text,
    );
  };
  check("1 / 0", /division by zero/, 2);
  check("(1 + 2", /expected '\)'/, 6);
  check("1 +", /expected a value/, 3);
  check("", /no expression/, 0);
  check("1 2", /unexpected '2'/, 2);
  check("defined", /needs a macro name/, 0);
  check("1 @ 2", /unexpected '@'/, 2);
  check("09", /invalid integer '09'/, 0);
});
