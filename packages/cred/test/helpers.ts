import type { ErrnoName, SysError } from "@simkernel/abi"
import { Effect, Result } from "effect"
import {
  type CapTask,
  commitCreds,
  createInitCred,
  createInitUserNs,
  type Cred,
  type InitUserNsOptions,
  procGidMapWrite,
  procSetgroupsWrite,
  procUidMapWrite,
  setresgid,
  setresuid,
  unshareUserns
} from "@simkernel/cred"

/** A stand-in for a task: something holding a Cred, with a pid for capget/capset. */
export interface Task extends CapTask {
  cred: Cred
  pid: number
}

const tasks: Array<Task> = []
let nextPid = 1

/** A fresh kernel: its initial user namespace and a root task holding init_cred. */
export const boot = (options?: InitUserNsOptions): Task => {
  const init = createInitUserNs(options)
  const root: Task = { cred: createInitCred(init), pid: nextPid++ }
  init.put()
  tasks.push(root)
  return root
}

/** A child task sharing its parent's Cred, as fork(2) without CLONE_NEWUSER does (one more reference). */
export const fork = (parent: Task): Task => {
  const child: Task = { cred: parent.cred.get(), pid: nextPid++ }
  tasks.push(child)
  return child
}

/** Put the Cred every task made by this file's helpers holds. Call before assertNoLeaks(). */
export const teardown = (): void => {
  for (const t of tasks.splice(0)) t.cred.put()
}

export type Outcome<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly errno: ErrnoName }

export const attempt = <A>(effect: Effect.Effect<A, SysError>): Outcome<A> => {
  const r = Effect.runSync(Effect.result(effect))
  return Result.isSuccess(r) ? { ok: true, value: r.success } : { ok: false, errno: r.failure.errno }
}

/** "ok" or the errno the call failed with. */
export const errnoOf = (effect: Effect.Effect<unknown, SysError>): ErrnoName | "ok" => {
  const o = attempt(effect)
  return o.ok ? "ok" : o.errno
}

export const run = <A>(effect: Effect.Effect<A, SysError>): A => Effect.runSync(effect)

/** A forked child that dropped to uid/gid `id` with setresgid + setresuid: no capabilities left. */
export const unprivileged = (parent: Task, uid: number, gid = uid): Task => {
  const t = fork(parent)
  run(setresgid(t, gid, gid, gid))
  run(setresuid(t, uid, uid, uid))
  return t
}

/** unshare(CLONE_NEWUSER) for a task. */
export const unshareUser = (task: Task): void => {
  commitCreds(task, run(unshareUserns(task.cred)))
}

/**
 * What an unprivileged task does after unshare(CLONE_NEWUSER) (as
 * `unshare -r`): deny setgroups, then map uid and gid 0 to its old euid and
 * egid, given as ids of the parent namespace.
 */
export const mapRootToSelf = (task: Task, parentUid: number, parentGid: number): void => {
  const ns = task.cred.userNs
  run(procSetgroupsWrite(ns, "deny", task.cred))
  run(procUidMapWrite(ns, `0 ${parentUid} 1\n`, task.cred))
  run(procGidMapWrite(ns, `0 ${parentGid} 1\n`, task.cred))
}
