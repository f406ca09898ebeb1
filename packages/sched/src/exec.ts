import { SIGKILL, sysError, SysError } from "@simkernel/abi"
import { abortCreds, bprmCredsFromFile, commitCreds } from "@simkernel/cred"
import { execTaskNamespaces, switchTaskNamespaces } from "@simkernel/nsproxy"
import { Effect } from "effect"
import type { ProgramEntry } from "./Kernel.js"
import { signalWakeUp } from "./signal.js"
import { SigHand } from "./signal-types.js"
import { sigismember, sigmask } from "./sigset.js"
import { PF_EXITING, PF_FORKNOEXEC, SIGNAL_GROUP_EXIT, type Task } from "./Task.js"

/**
 * The kernel side of execve(2) up to starting the new program: find the
 * program (the kernel's execLookup; EACCES without an execute bit),
 * kill the other threads (de_thread()), compute and commit the new
 * credentials (set-id bits, capabilities), unshare and close-on-exec the
 * descriptor table, move into the time namespace for children, reset caught
 * signal handlers (ignored ones stay ignored), clear pdeath_signal when the
 * credentials changed, set comm/argv/envp, and release a vfork parent.
 * Returns the program entry to run.
 */
export const doExecve = Effect.fnUntraced(function* (
  t: Task,
  path: string,
  argv: ReadonlyArray<string>,
  envp: ReadonlyArray<string>,
  dirfd?: number,
  flags?: number
) {
  const k = t.kernel
  const entry: ProgramEntry | SysError = dirfd === undefined ? k.execLookup(t, path) : k.execLookup(t, path, dirfd, flags)
  if (entry instanceof SysError) return yield* Effect.fail(entry)
  if ((entry.mode & 0o111) === 0) return yield* Effect.fail(sysError("EACCES", "execve", path))
  const bprm = yield* bprmCredsFromFile(t.cred, { mode: entry.mode, uid: entry.uid, gid: entry.gid, nosuid: entry.nosuid }, {
    sharedFs: t.fs !== undefined && t.fs.users > 1
  })
  const nsp = t.nsproxy === undefined ? undefined : execTaskNamespaces(t.nsproxy, t.cred)
  if (nsp instanceof Error) {
    abortCreds(bprm.cred)
    return yield* Effect.fail(nsp)
  }
  // de_thread(): the other threads die; wait until they are gone
  const sig = t.signal
  if (!t.threadGroupEmpty) {
    sig.groupExecTask = t
    for (const th of sig.threads) {
      if (th === t || (th.flags & PF_EXITING) !== 0) continue
      th.pending.set |= sigmask(SIGKILL)
      signalWakeUp(th, true)
    }
    while (sig.threads.some((th) => th !== t && (th.flags & PF_EXITING) === 0)) {
      yield* k.park(t, "exec")
      if (sigismember(t.pending.set, SIGKILL) || (sig.flags & SIGNAL_GROUP_EXIT) !== 0) break
    }
    sig.groupExecTask = undefined
    if ((sig.flags & SIGNAL_GROUP_EXIT) !== 0 || sigismember(t.pending.set, SIGKILL)) {
      abortCreds(bprm.cred)
      if (nsp !== undefined) nsp.put()
      return yield* Effect.fail(sysError("EINTR", "execve", "killed during exec"))
    }
  }
  // point of no return
  if (nsp !== undefined) switchTaskNamespaces(t, nsp)
  if (commitCreds(t, bprm.cred) || bprm.perClearOnSetid) t.pdeathSignal = 0
  const files = t.files
  if (files !== undefined) {
    if (files.count() > 1) {
      t.files = files.copy()
      files.put()
    }
    t.files!.closeOnExec()
  }
  if (t.sighand.users > 1) {
    const own = new SigHand(t.sighand)
    t.sighand.users--
    t.sighand = own
  }
  t.sighand.flushHandlers(false)
  t.flags &= ~PF_FORKNOEXEC
  t.selfExecId++
  // bprm->filename: the path, or "/dev/fd/N" for execveat(fd, "", AT_EMPTY_PATH)
  const filename = path === "" && dirfd !== undefined ? `/dev/fd/${dirfd}` : path
  t.comm = filename.slice(filename.lastIndexOf("/") + 1).slice(0, 15)
  t.argv = argv
  t.envp = envp
  t.exePath = entry.exePath ?? filename
  t.program = entry.program
  for (const hook of k.execHooks) hook(t, filename, argv, envp)
  const parent = t.vforkParent
  if (parent !== undefined) {
    t.vforkParent = undefined
    k.wakeChan(parent, "vfork")
  }
  return entry
})
