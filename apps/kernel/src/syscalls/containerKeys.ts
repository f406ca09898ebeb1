import { sysError, type SysError } from "@simkernel/abi"
import type { Container } from "@simkernel/container"
import { SchedKernel, type Kernel as Sched, type Task } from "@simkernel/sched"
import { Layer } from "effect"
import { containersOf } from "./container.js"
import { keysOf, setKeyContainerHooks } from "./keys.js"

/** Containers whose death already releases their key state (each watched once). */
const WATCHED = new WeakSet<Container>()

/** Dead containers a keyctl(2) in progress named: their key state goes when the call returns. */
const DEAD_NAMED = new Set<Container>()

/**
 * The seed's put_container() drops the container's keyring and intercepts:
 * here that happens when the container dies, since a dead container has no
 * members left to search them and can get none (fork_into_container is
 * ECANCELED), and death is what the container's wait queue reports. A
 * command on a container already dead keeps nothing past its return.
 */
const releaseKeysOnDeath = (t: Task, c: Container): void => {
  if (c.dead) {
    DEAD_NAMED.add(c)
    return
  }
  if (WATCHED.has(c)) return
  WATCHED.add(c)
  const keys = keysOf(t.kernel)
  const stop = c.waitQueue.add(() => {
    if (!c.dead) return
    stop()
    keys.releaseContainer(c)
  })
}

const afterKeyctl = (t: Task): void => {
  if (DEAD_NAMED.size === 0) return
  const keys = keysOf(t.kernel)
  for (const c of DEAD_NAMED) keys.releaseContainer(c)
  DEAD_NAMED.clear()
}

/**
 * fd_to_container() for keyctl: the container open at `fd` (EBADF when the
 * fd is not open, EINVAL when it is not a container fd), or, on a kernel
 * without the container subsystem, EINVAL for every open fd.
 */
const resolve = (t: Task, fd: number): Container | SysError => {
  const cs = containersOf(t.kernel)
  if (cs === undefined) return t.vfsTask().files.fdget(fd) === undefined ? sysError("EBADF", "keyctl") : sysError("EINVAL", "keyctl", "not a container")
  const c = cs.fromFd(t, fd, "keyctl")
  if (!(c instanceof Error)) releaseKeysOnDeath(t, c)
  return c
}

/**
 * The container a task runs in, for request_key()'s container keyring, the
 * intercepts and container ACEs: `.init` has no keyring and no intercepts,
 * so its members count as in no container (the seed's init_container).
 */
const containerOf = (t: Task): Container | undefined => {
  const cs = containersOf(t.kernel)
  const c = cs?.containerOf(t)
  return c === cs?.initContainer ? undefined : c
}

/** Plug the container subsystem into `kernel`'s add_key, request_key and keyctl calls. */
export const wireContainerKeys = (kernel: Sched): void => setKeyContainerHooks(kernel, { resolve, containerOf, afterKeyctl })

/**
 * The key calls wired to the container subsystem, as a Layer on the
 * scheduler. The hooks look the subsystem up at each call, so the order
 * against the container Layer does not matter; the key subsystem itself is
 * released when PID 1 exits, during the scheduler's shutdown, which the
 * container Layer runs before Containers.shutdown().
 */
export const containerKeysLayer: Layer.Layer<never, never, SchedKernel> = Layer.effectDiscard(SchedKernel.useSync(wireContainerKeys))
