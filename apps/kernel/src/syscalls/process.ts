import { sysError } from "@simkernel/abi"
import type { Program } from "@simkernel/sched"
import { Effect } from "effect"
import { type Handler, int } from "./common.js"

/** kernel/sys.c, kernel/signal.c, kernel/exit.c, kernel/pid.c, kernel/fork.c, fs/exec.c */
export const PROCESS_HANDLERS: Readonly<Record<string, Handler>> = {
  getpid: (ctx) => ctx.proc.getpid(),
  getppid: (ctx) => ctx.proc.getppid(),
  gettid: (ctx) => ctx.proc.gettid(),
  getpgid: (ctx, a) => ctx.proc.getpgid(int(a[0])),
  setpgid: (ctx, a) => ctx.proc.setpgid(int(a[0]), int(a[1])),
  getsid: (ctx, a) => ctx.proc.getsid(int(a[0])),
  setsid: (ctx) => ctx.proc.setsid(),
  setuid: (ctx, a) => ctx.proc.setuid(int(a[0])),
  setgid: (ctx, a) => ctx.proc.setgid(int(a[0])),
  setresuid: (ctx, a) => ctx.proc.setresuid(int(a[0]), int(a[1]), int(a[2])),
  setresgid: (ctx, a) => ctx.proc.setresgid(int(a[0]), int(a[1]), int(a[2])),
  // the group list is an array of gids; anything else reads as an empty list (EFAULT once size > 0)
  setgroups: (ctx, a) => ctx.proc.setgroups(int(a[0]), Array.isArray(a[1]) ? a[1].map(int) : []),
  kill: (ctx, a) => ctx.proc.kill(int(a[0]), int(a[1])),
  tgkill: (ctx, a) => ctx.proc.tgkill(int(a[0]), int(a[1]), int(a[2])),
  tkill: (ctx, a) => ctx.proc.tkill(int(a[0]), int(a[1])),
  pause: (ctx) => ctx.proc.pause(),
  sched_yield: (ctx) => ctx.proc.sched_yield(),
  exit_group: (ctx, a) => ctx.proc.exit_group(int(a[0])),
  exit: (ctx, a) => ctx.proc.exit(int(a[0])),
  wait4: (ctx, a) =>
    Effect.map(ctx.proc.wait4(int(a[0]), int(a[2])), (w) => {
      if (a[1] !== null && typeof a[1] === "object") (a[1] as { value?: number }).value = w.status
      return w.pid
    }),
  prctl: (ctx, a) => Effect.map(ctx.proc.prctl(int(a[0]), typeof a[1] === "string" ? a[1] : int(a[1])), (r) => (typeof r === "number" ? r : 0)),
  pidfd_open: (ctx, a) => ctx.proc.pidfd_open(int(a[0]), int(a[1])),
  pidfd_send_signal: (ctx, a) => ctx.proc.pidfd_send_signal(int(a[0]), int(a[1]), undefined, int(a[3])),
  // the child of fork() runs the program its caller gives: there is no memory image to copy
  fork: (ctx, a) => (typeof a[0] === "function" ? ctx.proc.fork(a[0] as Program) : Effect.fail(sysError("EFAULT", "fork"))),
  execve: (ctx, a) =>
    typeof a[0] === "string"
      ? ctx.proc.execve(a[0], (a[1] as ReadonlyArray<string> | undefined) ?? [], (a[2] as ReadonlyArray<string> | undefined) ?? [])
      : Effect.fail(sysError("EFAULT", "execve"))
}
