/**
 * `$((...))` as dash's arith_yacc.c evaluates it: 64-bit signed integers
 * (decimal, 0octal, 0xhex), variables by name, the C operators from unary
 * `+ - ! ~` down to `?:` and the assignments (`=`, `+=`, ...); no `++`,
 * `--`, `**` or `,`. Errors read as dash's: "arithmetic expression:
 * expecting primary: "1 +"".
 */

/** An arithmetic error: the message after "sh: LINE: ". */
export class ArithError {
  readonly _tag = "ArithError"
  constructor(readonly message: string) {}
}

/** What an expression reads and writes: variables as text (undefined when unset). */
export interface ArithVars {
  readonly get: (name: string) => string | undefined
  readonly set: (name: string, value: string) => void
}

const wrap = (n: bigint): bigint => BigInt.asIntN(64, n)

/** dash's strtoimax with base 0 over the whole text: a number, or undefined when something follows. */
const parseNumber = (text: string): bigint | undefined => {
  const m = /^\s*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text)
  if (m === null) return undefined
  const digits = m[2]!
  const value = digits.length > 1 && digits[0] === "0" && !/[xX]/.test(digits[1]!) ? BigInt("0o" + digits.slice(1)) : BigInt(digits)
  return wrap(m[1] === "-" ? -value : value)
}

const BINARY: ReadonlyArray<ReadonlyArray<string>> = [
  ["||"],
  ["&&"],
  ["|"],
  ["^"],
  ["&"],
  ["==", "!="],
  ["<=", ">=", "<", ">"],
  ["<<", ">>"],
  ["+", "-"],
  ["*", "/", "%"]
]
const ASSIGN_OPS = ["<<=", ">>=", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "="]
const TOKEN = /^(?:<<=|>>=|\|\||&&|==|!=|<=|>=|<<|>>|[*/%+\-&^|]=|[-+*/%<>=!~&^|?:()])/

/** Evaluate `expr`; `vars` reads and assigns variables. */
export const evalArith = (expr: string, vars: ArithVars): bigint | ArithError => {
  let pos = 0
  const fail = (what: string): ArithError => new ArithError(`arithmetic expression: ${what}: "${expr}"`)
  const skip = (): void => {
    while (pos < expr.length && /\s/.test(expr[pos]!)) pos++
  }
  const peekOp = (): string | undefined => {
    skip()
    return TOKEN.exec(expr.slice(pos))?.[0]
  }
  const valueOf = (name: string): bigint | ArithError => {
    const text = vars.get(name)
    if (text === undefined || text === "") return 0n
    return parseNumber(text) ?? new ArithError(`Illegal number: ${text}`)
  }

  // evaluation stops computing (but keeps parsing) in a branch not taken: `noeval`
  const primary = (noeval: boolean): bigint | ArithError => {
    skip()
    const rest = expr.slice(pos)
    const num = /^(0[xX][0-9a-fA-F]+|[0-9][0-9a-zA-Z_]*)/.exec(rest)
    if (num !== null) {
      const value = parseNumber(num[0])
      if (value === undefined) return fail("expecting EOF")
      pos += num[0].length
      return value
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)
    if (name !== null) {
      pos += name[0].length
      const op = peekOp()
      if (op !== undefined && ASSIGN_OPS.includes(op)) {
        pos += op.length
        const right = ternary(noeval)
        if (right instanceof ArithError) return right
        if (noeval) return 0n
        let value = right
        if (op !== "=") {
          const left = valueOf(name[0])
          if (left instanceof ArithError) return left
          const combined = binary(op.slice(0, -1), left, right)
          if (combined instanceof ArithError) return combined
          value = combined
        }
        vars.set(name[0], String(value))
        return value
      }
      return noeval ? 0n : valueOf(name[0])
    }
    const op = peekOp()
    if (op === "(") {
      pos++
      const inner = ternary(noeval)
      if (inner instanceof ArithError) return inner
      if (peekOp() !== ")") return fail("expecting ')'")
      pos++
      return inner
    }
    if (op === "-" || op === "+" || op === "!" || op === "~") {
      pos++
      const v = primary(noeval)
      if (v instanceof ArithError) return v
      return op === "-" ? wrap(-v) : op === "+" ? v : op === "!" ? (v === 0n ? 1n : 0n) : wrap(~v)
    }
    return fail("expecting primary")
  }

  const binary = (op: string, a: bigint, b: bigint): bigint | ArithError => {
    switch (op) {
      case "*":
        return wrap(a * b)
      case "/":
      case "%":
        if (b === 0n) return fail("division by zero")
        return wrap(op === "/" ? a / b : a % b)
      case "+":
        return wrap(a + b)
      case "-":
        return wrap(a - b)
      case "<<":
        return wrap(a << (b & 63n))
      case ">>":
        return wrap(a >> (b & 63n))
      case "<":
        return a < b ? 1n : 0n
      case "<=":
        return a <= b ? 1n : 0n
      case ">":
        return a > b ? 1n : 0n
      case ">=":
        return a >= b ? 1n : 0n
      case "==":
        return a === b ? 1n : 0n
      case "!=":
        return a !== b ? 1n : 0n
      case "&":
        return a & b
      case "^":
        return a ^ b
      default:
        return a | b
    }
  }

  const level = (k: number, noeval: boolean): bigint | ArithError => {
    if (k === BINARY.length) return primary(noeval)
    let left = level(k + 1, noeval)
    for (;;) {
      if (left instanceof ArithError) return left
      const op = peekOp()
      if (op === undefined || !BINARY[k]!.includes(op)) return left
      pos += op.length
      if (op === "&&" || op === "||") {
        const skipRight = noeval || (op === "&&" ? left === 0n : left !== 0n)
        const right = level(k + 1, skipRight)
        if (right instanceof ArithError) return right
        left = op === "&&" ? (left !== 0n && right !== 0n ? 1n : 0n) : left !== 0n || right !== 0n ? 1n : 0n
        continue
      }
      const right = level(k + 1, noeval)
      if (right instanceof ArithError) return right
      left = noeval ? 0n : binary(op, left, right)
    }
  }

  const ternary = (noeval: boolean): bigint | ArithError => {
    const cond = level(0, noeval)
    if (cond instanceof ArithError) return cond
    if (peekOp() !== "?") return cond
    pos++
    const yes = ternary(noeval || cond === 0n)
    if (yes instanceof ArithError) return yes
    if (peekOp() !== ":") return fail("expecting ':'")
    pos++
    const no = ternary(noeval || cond !== 0n)
    if (no instanceof ArithError) return no
    return cond !== 0n ? yes : no
  }

  const result = ternary(false)
  if (result instanceof ArithError) return result
  skip()
  if (pos < expr.length) return fail("expecting EOF")
  return result
}
