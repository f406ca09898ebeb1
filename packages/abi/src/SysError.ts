import { Data, Effect, Predicate } from "effect"
import { ERRNO, type ErrnoAlias, errnoCanonical, type ErrnoName } from "./errno.js"

/**
 * The one error every simkernel subsystem fails with: a syscall's -errno.
 * `syscall` names the call that failed, `detail` says why in words.
 */
export class SysError extends Data.TaggedError("SysError")<{
  readonly errno: ErrnoName
  readonly syscall: string | undefined
  readonly detail: string | undefined
}> {
  /** The errno number, as a syscall returns it negated. */
  get code(): number {
    return ERRNO[this.errno].errno
  }

  // A getter, so the text is built only when someone reads it.
  override get message(): string {
    const base = `${this.errno} (${ERRNO[this.errno].message})`
    return this.detail === undefined ? base : `${base}: ${this.detail}`
  }
}

/**
 * A SysError for `errno`. An errno is an answer, not a bug, so no stack is
 * captured: that keeps error paths (ENOENT in a path walk, EAGAIN in a loop)
 * about as cheap as success.
 */
export const sysError = (
  errno: ErrnoName | ErrnoAlias,
  syscall?: string,
  detail?: string
): SysError => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new SysError({ errno: errnoCanonical(errno), syscall, detail })
  } finally {
    Error.stackTraceLimit = limit
  }
}

export const sysFail = (
  errno: ErrnoName | ErrnoAlias,
  syscall?: string,
  detail?: string
): Effect.Effect<never, SysError> => Effect.fail(sysError(errno, syscall, detail))

export const isSysError = (u: unknown): u is SysError => Predicate.isTagged(u, "SysError")

/**
 * A kernel bug ("oops"): something that cannot happen unless simkernel
 * itself is wrong, such as boot failing to mount its root. Unlike an errno
 * it is thrown; the kernel's boundary turns it into a report.
 */
export class Oops extends Error {
  override readonly name = "Oops"
}
