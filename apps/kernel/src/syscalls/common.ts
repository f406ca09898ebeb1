import { sysError, type SysError } from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import type { File } from "@simkernel/vfs"
import { Effect } from "effect"

/** What a handler runs with: the calling task's Process (its VFS view, namespaces and credentials). */
export interface SyscallContext {
  readonly proc: Process
}

/**
 * A syscall handler: Linux's arguments in Linux's order (pointers are JS
 * values: strings for paths, Uint8Array for buffers, an object to fill for
 * a struct out), the return value or the errno.
 */
export type Handler = (ctx: SyscallContext, args: ReadonlyArray<unknown>) => Effect.Effect<number, SysError>

export const lift = (r: number | SysError | undefined): Effect.Effect<number, SysError> =>
  r === undefined ? Effect.succeed(0) : typeof r === "number" ? Effect.succeed(r) : Effect.fail(r)
export const int = (v: unknown): number => (typeof v === "number" ? v : 0)
export const opt = (v: unknown): string | null => (typeof v === "string" ? v : null)
export const buf = (v: unknown): Uint8Array | SysError => (v instanceof Uint8Array ? v : sysError("EFAULT"))

/** Run `f` with the task's VFS view; a NULL among the path arguments `pathArgs` faults first. */
export const vfsCall =
  (f: (ctx: SyscallContext, a: ReadonlyArray<unknown>) => number | SysError | undefined, ...pathArgs: ReadonlyArray<number>): Handler =>
  (ctx, a) =>
    Effect.suspend(() => {
      for (const i of pathArgs) if (typeof a[i] !== "string") return Effect.fail(sysError("EFAULT"))
      return lift(f(ctx, a))
    })

export const task = (ctx: SyscallContext) => ctx.proc.task.vfsTask()

/** A call on the open file at fd a[0] (fdget()); EBADF when nothing is open there. */
export const onFd = (name: string, f: (file: File) => SysError | undefined): Handler =>
  vfsCall((ctx, a) => {
    const file = task(ctx).files.fdget(int(a[0]))
    return file === undefined ? sysError("EBADF", name) : f(file)
  })
