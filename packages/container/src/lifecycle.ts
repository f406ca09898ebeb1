import { POLLHUP, SIGKILL } from "@simkernel/abi"
import { PF_EXITING, type SignalStruct, sigqueueKill, type Task } from "@simkernel/sched"
import { CONTAINER_FLAG_DEAD, type Container } from "./Container.js"

/** The wait status of a container killed because its parent died: killed by SIGKILL. */
export const KILLED_STATUS = SIGKILL

/**
 * SIGKILL (SI_KERNEL) to every member's process but `except`'s: once per
 * thread group, skipping tasks already exiting.
 */
export const killMembers = (c: Container, except?: Task): void => {
  const seen = new Set<SignalStruct>()
  if (except !== undefined) seen.add(except.signal)
  for (const m of c.members) {
    if ((m.flags & PF_EXITING) !== 0 || seen.has(m.signal)) continue
    seen.add(m.signal)
    sigqueueKill(m, SIGKILL)
  }
}

/**
 * The container dies (exit_container() for init, decision 2 without a PID
 * namespace): the status is recorded, DEAD set, every other member gets
 * SIGKILL, the child containers die with it, and waiters, pollers and a
 * supervisor are woken.
 */
export const containerDie = (c: Container, status: number, survivor?: Task): void => {
  if (c.dead) return
  c.exitCode = status
  c.flags |= CONTAINER_FLAG_DEAD
  killMembers(c, survivor)
  for (const child of [...c.children]) containerDie(child, KILLED_STATUS)
  c.waitQueue.wakeUp(POLLHUP)
  c.supervisor?.hangup()
}
