import { AT_FDCWD } from "@simkernel/abi"
import type { Program } from "@simkernel/sched"
import { Effect } from "effect"
import { ArgError, type ArgEncoding, CALLS, decodeArgs, type Decoded, type MountAttrArg, type Saved } from "../conformance/args.js"
import type { Arg } from "../conformance/format.js"
import { Syscalls } from "../syscalls/table.js"
import { program, writeAll } from "./program.js"

/** The calls mountfd drives: the fd-based mount API and the fds it passes around. */
const STEPS = new Set(["fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "open_tree_attr", "move_mount", "mount_setattr", "close"])

const USAGE = `usage: mountfd CALL ARG... [=NAME] [, CALL ARG... [=NAME]]...
  each step is a call of the mount API with Linux's arguments, in order:
    fsopen FSNAME FLAGS
    fsconfig FD CMD KEY VALUE AUX
    fsmount FD FLAGS ATTR_FLAGS
    fspick DIRFD PATH FLAGS
    open_tree DIRFD PATH FLAGS
    move_mount FROM_DIRFD FROM_PATH TO_DIRFD TO_PATH FLAGS
    mount_setattr DIRFD PATH FLAGS attr_set=X,attr_clr=Y,propagation=Z SIZE
    close FD
  flags are numbers or constant names joined with '|'; NULL is a null pointer;
  =NAME keeps a step's result, @NAME passes it to a later step
`

/** A shell word as the scenario argument its encoding expects. */
const toArg = (enc: ArgEncoding, word: string): Arg | ArgError => {
  if (word === "NULL") return null
  const ref = word.startsWith("@") ? `$${word.slice(1)}` : word
  switch (enc) {
    case "fd":
    case "aux":
      return /^-?\d+$/.test(ref) ? Number(ref) : ref
    case "attr": {
      const fields: Record<string, string> = {}
      for (const kv of ref.split(",")) {
        const eq = kv.indexOf("=")
        if (eq <= 0) return new ArgError(`bad struct mount_attr field '${kv}' (want attr_set=, attr_clr=, propagation=, userns_fd=)`)
        fields[kv.slice(0, eq)] = kv.slice(eq + 1).replace(/^@/, "$")
      }
      return fields
    }
    default:
      return ref
  }
}

/** The handlers' struct mount_attr from the decoder's. */
const mountAttr = (d: Decoded): unknown => {
  if (d === null || typeof d !== "object" || Array.isArray(d)) return d
  const a = d as MountAttrArg
  return { attrSet: a.attrSet, attrClr: a.attrClr, propagation: a.propagation, usernsFd: a.usernsFd, tail: Uint8Array.from(a.tail) }
}

/** What an fs context fd logged ("e tmpfs: Bad value for 'size'"), read as a process reads it. */
const drainLog = (sys: Syscalls, fd: number): Effect.Effect<Array<string>> =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const buf = new Uint8Array(1024)
    for (;;) {
      const n = yield* Effect.result(sys.call("read", fd, buf, buf.length))
      if (n._tag === "Failure" || n.success === 0) return lines
      lines.push(new TextDecoder().decode(buf.subarray(0, n.success)))
    }
  })

/**
 * mountfd: drive the fd-based mount API step by step from the shell. Each
 * step prints as strace shows the call; the first failing one ends the
 * run (status 1) after the fs context's log messages.
 */
export const mountfd: Program = program((sys, argv, complain) =>
  Effect.gen(function* () {
    const words = argv.slice(1)
    if (words.length === 0 || words[0] === "--help") {
      yield* writeAll(sys, words.length === 0 ? 2 : 1, USAGE)
      return words.length === 0 ? 1 : 0
    }
    const traced: Array<string> = []
    const tracing = new Syscalls(sys.ctx, (line) => traced.push(line.replace(/^\[pid \d+\] /, "")))
    const saved: Saved = new Map([["AT_FDCWD", AT_FDCWD]])
    const steps: Array<Array<string>> = [[]]
    for (const w of words) {
      if (w === ",") steps.push([])
      else steps.at(-1)!.push(w)
    }
    for (const step of steps) {
      const [call, ...rest] = step
      if (call === undefined || !STEPS.has(call)) {
        yield* complain(call === undefined ? "empty step" : `unknown call '${call}'`)
        return 1
      }
      const name = rest.at(-1)?.startsWith("=") === true ? rest.pop()!.slice(1) : undefined
      const encodings = CALLS[call]!
      const args: Array<Arg> = []
      for (let i = 0; i < rest.length; i++) {
        const a = toArg(encodings[i] ?? "str", rest[i]!)
        if (a instanceof ArgError) {
          yield* complain(`${call}: ${a.message}`)
          return 1
        }
        args.push(a)
      }
      const decoded = decodeArgs(call, args, saved)
      if (decoded instanceof ArgError) {
        yield* complain(decoded.message.replaceAll("$", "@"))
        return 1
      }
      if (decoded.length < encodings.length) {
        yield* complain(`${call}: ${encodings.length} arguments expected, ${decoded.length} given`)
        return 1
      }
      const r = yield* Effect.result(tracing.call(call, ...decoded.map(mountAttr)))
      yield* writeAll(sys, 1, traced.splice(0).map((l) => `${l}\n`).join(""))
      if (r._tag === "Failure") {
        const fd = decoded[0]
        if ((call === "fsconfig" || call === "fsmount") && typeof fd === "number") {
          for (const line of yield* drainLog(sys, fd)) yield* complain(line.trimEnd())
        }
        return 1
      }
      if (name !== undefined) saved.set(name, r.success as number)
    }
    return 0
  })
)
