import { sysError, type SysError } from "@simkernel/abi"
import type { NsCommon } from "@simkernel/cred"
import { setdomainname, sethostname, setnsNamespace } from "@simkernel/nsproxy"
import type { Process, Task } from "@simkernel/sched"
import { installNsFd, nsFromFile, type Vfs } from "@simkernel/vfs"
import { Effect } from "effect"
import { buf, type Handler, int, vfsCall } from "./common.js"

/** The namespace /proc/PID/ns/<kind> names for a task (pid is its active one, pid_for_children its children's). */
export const nsOf = (t: Task, kind: string): NsCommon | undefined => {
  const nsp = t.nsproxy
  switch (kind) {
    case "user":
      return t.cred.userNs
    case "pid":
      return t.activePidNs
    case "pid_for_children":
      return nsp?.pidForChildren
    case "time_for_children":
      return nsp?.timeForChildren
    case "mnt":
    case "uts":
    case "ipc":
    case "cgroup":
    case "net":
    case "time":
      return nsp?.slot(kind)
    default:
      return undefined
  }
}

/** open("/proc/self/ns/<kind>", O_RDONLY|O_CLOEXEC): an nsfs fd of the task's namespace. */
export const openNsfd = (vfs: Vfs, t: Task, kind: string): number | SysError => {
  const ns = nsOf(t, kind)
  if (ns === undefined) return sysError("ENOENT", "open", `/proc/self/ns/${kind}`)
  return installNsFd(vfs, t.vfsTask().files, ns, t.cred)
}

/**
 * setns(2): with a namespace file, an nsproxy transaction committed into
 * the task; with a pidfd, sched's setns (all the namespaces the flags name).
 */
export const setns = (proc: Process, fd: number, nstype: number): Effect.Effect<number, SysError> =>
  Effect.suspend(() => {
    const t = proc.task
    const file = t.vfsTask().files.fdget(fd)
    if (file === undefined) return Effect.fail(sysError("EBADF", "setns"))
    const ns = nsFromFile(file)
    if (ns === undefined) return proc.setns(fd, nstype)
    const tx = setnsNamespace(
      { nsproxy: t.nsproxy!, cred: t.cred, fsUsers: t.fs?.users ?? 1, threads: t.signal.threads.length, activePidNs: t.activePidNs, fs: t.fs },
      ns,
      nstype
    )
    if (tx instanceof Error) return Effect.fail(tx)
    tx.commit(t)
    return Effect.succeed(0)
  })

/** kernel/nsproxy.c and kernel/sys.c's UTS calls */
export const NS_HANDLERS: Readonly<Record<string, Handler>> = {
  unshare: (ctx, a) => ctx.proc.unshare(int(a[0])),
  setns: (ctx, a) => setns(ctx.proc, int(a[0]), int(a[1])),
  sethostname: vfsCall((ctx, a) => {
    const name = buf(a[0])
    return name instanceof Error ? name : sethostname(ctx.proc.task.nsproxy!, ctx.proc.task.cred, name, int(a[1]))
  }),
  setdomainname: vfsCall((ctx, a) => {
    const name = buf(a[0])
    return name instanceof Error ? name : setdomainname(ctx.proc.task.nsproxy!, ctx.proc.task.cred, name, int(a[1]))
  })
}
