/**
 * The integer expressions of `#if` and `#elif`, evaluated as cpp does
 * (C11 §6.10.1): `defined NAME` and `defined(NAME)` first, then object-like
 * macros expanded, then any identifier left is 0. Arithmetic is done in
 * signed 64 bits (cpp's intmax_t); the unsigned variants of the operators are
 * not modelled, which no `.x` file needs.
 */

/** A problem in an expression; `index` is the offset in the expression text. */
export class CppExpressionError extends Error {
  readonly index: number;

  constructor(message: string, index: number) {
    super(message);
    this.name = "CppExpressionError";
    this.index = index;
  }
}

/** What the evaluator needs to know about macros. */
export interface MacroLookup {
  /** The replacement text of an object-like macro, or undefined when `name` is not defined. */
  get(name: string): string | undefined;
}

interface Token {
  readonly kind: "number" | "identifier" | "operator";
  readonly text: string;
  /** Offset of the token in the original expression; tokens from a macro take the macro use's offset. */
  readonly index: number;
}

// Longest first, so that "<<" is not read as "<" "<".
const OPERATORS = [
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "&&",
  "||",
  "(",
  ")",
  "!",
  "~",
  "-",
  "+",
  "*",
  "/",
  "%",
  "<",
  ">",
  "&",
  "^",
  "|",
  "?",
  ":",
];

function tokenize(text: string, index: number | null): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = index ?? i;
    const word = /^[A-Za-z_]\w*/.exec(text.slice(i));
    if (word) {
      tokens.push({ kind: "identifier", text: word[0], index: at });
      i += word[0].length;
      continue;
    }
    // A pp-number: digits, letters (hex digits, suffixes) and dots.
    const number = /^\.?\d[\w.]*/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: "number", text: number[0], index: at });
      i += number[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new CppExpressionError(`unexpected '${c}' in #if expression`, at);
    tokens.push({ kind: "operator", text: op, index: at });
    i += op.length;
  }
  return tokens;
}

/** Replaces `defined X` by 1 or 0 and macros by their tokens; `active` guards against self-reference. */
function expand(tokens: readonly Token[], macros: MacroLookup, active: ReadonlySet<string>): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === "identifier" && t.text === "defined") {
      let j = i + 1;
      const paren = tokens[j]?.text === "(";
      if (paren) j++;
      const name = tokens[j];
      if (name?.kind !== "identifier") {
        throw new CppExpressionError("'defined' needs a macro name", (name ?? t).index);
      }
      if (paren && tokens[j + 1]?.text !== ")") {
        throw new CppExpressionError("expected ')' after 'defined(" + name.text + "'", name.index);
      }
      const isDefined = macros.get(name.text) !== undefined;
      out.push({ kind: "number", text: isDefined ? "1" : "0", index: t.index });
      i = paren ? j + 1 : j;
      continue;
    }
    const replacement = t.kind === "identifier" && !active.has(t.text) ? macros.get(t.text) : undefined;
    if (replacement === undefined) {
      out.push(t);
      continue;
    }
    const inner = new Set(active).add(t.text);
    out.push(...expand(tokenize(replacement, t.index), macros, inner));
  }
  return out;
}

/** Reads a C integer constant: decimal, 0x hex or 0 octal, with optional u/l suffixes. */
function parseInteger(token: Token): bigint {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)([uU]?[lL]{0,2}|[lL]{1,2}[uU])$/.exec(token.text);
  if (!m) throw new CppExpressionError(`invalid integer '${token.text}' in #if expression`, token.index);
  const digits = m[1];
  // BigInt reads "0x.." itself; a leading 0 means octal in C.
  const value =
    digits.length > 1 && digits[0] === "0" && !/[xX]/.test(digits)
      ? BigInt("0o" + digits.slice(1))
      : BigInt(digits);
  return BigInt.asIntN(64, value);
}

type Node =
  | { readonly kind: "value"; readonly value: bigint }
  | { readonly kind: "unary"; readonly op: string; readonly operand: Node }
  | {
      readonly kind: "binary";
      readonly op: string;
      readonly left: Node;
      readonly right: Node;
      readonly index: number;
    }
  | { readonly kind: "conditional"; readonly test: Node; readonly then: Node; readonly otherwise: Node };

// Binary operators from loosest to tightest binding (C11 §6.5.5–§6.5.14).
const LEVELS: readonly (readonly string[])[] = [
  ["||"],
  ["&&"],
  ["|"],
  ["^"],
  ["&"],
  ["==", "!="],
  ["<", "<=", ">", ">="],
  ["<<", ">>"],
  ["+", "-"],
  ["*", "/", "%"],
];

class ExpressionParser {
  #pos = 0;
  readonly #tokens: readonly Token[];
  readonly #end: number;

  constructor(tokens: readonly Token[], end: number) {
    this.#tokens = tokens;
    this.#end = end;
  }

  /** When set, an identifier left after macro expansion is an error instead of 0. */
  strict = false;

  parse(): Node {
    if (this.#tokens.length === 0) throw new CppExpressionError("#if with no expression", this.#end);
    const node = this.#conditional();
    const rest = this.#tokens[this.#pos];
    if (rest) throw new CppExpressionError(`unexpected '${rest.text}' in #if expression`, rest.index);
    return node;
  }

  #peek(): Token | undefined {
    return this.#tokens[this.#pos];
  }

  #expect(text: string): void {
    const t = this.#peek();
    if (t?.kind !== "operator" || t.text !== text) {
      const found = t ? `'${t.text}'` : "end of line";
      throw new CppExpressionError(
        `expected '${text}' in #if expression, found ${found}`,
        t?.index ?? this.#end,
      );
    }
    this.#pos++;
  }

  #conditional(): Node {
    const test = this.#binary(0);
    if (this.#peek()?.text !== "?") return test;
    this.#pos++;
    const then = this.#conditional();
    this.#expect(":");
    const otherwise = this.#conditional();
    return { kind: "conditional", test, then, otherwise };
  }

  #binary(level: number): Node {
    if (level === LEVELS.length) return this.#unary();
    let left = this.#binary(level + 1);
    for (;;) {
      const t = this.#peek();
      if (t?.kind !== "operator" || !LEVELS[level].includes(t.text)) return left;
      this.#pos++;
      const right = this.#binary(level + 1);
      left = { kind: "binary", op: t.text, left, right, index: t.index };
    }
  }

  #unary(): Node {
    const t = this.#peek();
    if (!t) throw new CppExpressionError("expected a value in #if expression, found end of line", this.#end);
    this.#pos++;
    if (t.kind === "number") return { kind: "value", value: parseInteger(t) };
    // An identifier that survived macro expansion is 0 (C11 §6.10.1p4).
    if (t.kind === "identifier") {
      if (this.strict) throw new CppExpressionError(`'${t.text}' is not defined`, t.index);
      return { kind: "value", value: 0n };
    }
    if (t.text === "(") {
      const inner = this.#conditional();
      this.#expect(")");
      return inner;
    }
    if (t.text === "!" || t.text === "~" || t.text === "-" || t.text === "+") {
      return { kind: "unary", op: t.text, operand: this.#unary() };
    }
    throw new CppExpressionError(`expected a value in #if expression, found '${t.text}'`, t.index);
  }
}

const truth = (b: boolean): bigint => (b ? 1n : 0n);

function evaluate(node: Node): bigint {
  switch (node.kind) {
    case "value":
      return node.value;
    case "unary": {
      const v = evaluate(node.operand);
      if (node.op === "!") return truth(v === 0n);
      if (node.op === "~") return BigInt.asIntN(64, ~v);
      return node.op === "-" ? BigInt.asIntN(64, -v) : v;
    }
    case "conditional":
      // Only the chosen branch is evaluated, so `1 ? 2 : 1/0` is fine.
      return evaluate(node.test) !== 0n ? evaluate(node.then) : evaluate(node.otherwise);
    case "binary": {
      // && and || short-circuit: the unevaluated side may divide by zero.
      if (node.op === "&&") return truth(evaluate(node.left) !== 0n && evaluate(node.right) !== 0n);
      if (node.op === "||") return truth(evaluate(node.left) !== 0n || evaluate(node.right) !== 0n);
      const a = evaluate(node.left);
      const b = evaluate(node.right);
      return BigInt.asIntN(64, binary(node.op, a, b, node.index));
    }
  }
}

function binary(op: string, a: bigint, b: bigint, index: number): bigint {
  switch (op) {
    case "*":
      return a * b;
    case "/":
    case "%":
      if (b === 0n) throw new CppExpressionError("division by zero in #if expression", index);
      return op === "/" ? a / b : a % b;
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "<<":
      return b < 0n ? a >> -b : a << (b > 64n ? 64n : b);
    case ">>":
      return b < 0n ? a << (-b > 64n ? 64n : -b) : a >> b;
    case "<":
      return truth(a < b);
    case "<=":
      return truth(a <= b);
    case ">":
      return truth(a > b);
    case ">=":
      return truth(a >= b);
    case "==":
      return truth(a === b);
    case "!=":
      return truth(a !== b);
    case "&":
      return a & b;
    case "^":
      return a ^ b;
    default:
      return a | b;
  }
}

/**
 * The value of a `#if`/`#elif` expression. Throws {@link CppExpressionError}
 * with the offset in `text` of the problem. With `strict`, an identifier that
 * is not a macro is an error rather than 0 (for reading the value of a
 * `%#define`, where 0 would hide a mistake).
 */
export function evaluateCondition(text: string, macros: MacroLookup, strict = false): bigint {
  const tokens = expand(tokenize(text, null), macros, new Set());
  const parser = new ExpressionParser(tokens, text.length);
  parser.strict = strict;
  return evaluate(parser.parse());
}
