import { CAP_SYS_PTRACE } from "@simkernel/abi"
import { type Cred, nsCapable } from "@simkernel/cred"
import { type Kernel as Sched, type Task, TaskVfsView } from "@simkernel/sched"

/**
 * Who is asking. The VFS passes the calling task to ->get_link, ->open and
 * a data node's write, but not to lookup, ->permission or read, so for
 * those procfs asks the scheduler for the running task (`sched.current`,
 * set while a task's program runs); code that calls the VFS from outside a
 * task's fiber (boot, tests, the console) names the task with asTask().
 */
let named: Task | undefined = undefined

/** Run `f` with `task` as the task procfs treats as current (its reader, writer or mounter). */
export const asTask = <A>(task: Task, f: () => A): A => {
  const prev = named
  named = task
  try {
    return f()
  } finally {
    named = prev
  }
}

/** The current task: asTask()'s, else the one the scheduler runs, else PID 1 (a kernel-side caller). */
export const currentTask = (sched: Sched): Task => named ?? sched.current ?? sched.initTask

/** The task behind the VfsTask a ->get_link, ->open or write receives (a TaskVfsView), else the current one. */
export const walkerTask = (sched: Sched, walker: unknown): Task => (walker instanceof TaskVfsView ? walker.task : currentTask(sched))

/**
 * __ptrace_may_access() with PTRACE_MODE_READ_FSCREDS, as procfs checks
 * for fd/, root, cwd, exe and ns/: the same thread group may; otherwise the
 * caller's fsuid must equal the target's real, effective and saved uid and
 * its fsgid the three gids, or the caller needs CAP_SYS_PTRACE in the
 * target's user namespace. (Every task counts as dumpable: sched keeps no
 * dumpable flag.)
 */
export const ptraceMayAccessFsCreds = (caller: Task, target: Task): boolean => {
  if (caller.signal === target.signal) return true
  const c: Cred = caller.cred
  const t: Cred = target.cred
  if (c.fsuid === t.uid && c.fsuid === t.euid && c.fsuid === t.suid && c.fsgid === t.gid && c.fsgid === t.egid && c.fsgid === t.sgid) return true
  return nsCapable(c, t.userNs, CAP_SYS_PTRACE)
}
