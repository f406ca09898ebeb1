import { sysError, type SysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { type KeyCaller, type KeyContainer, KeyConstructionWait, keyctl, Keys, procKeys, procKeyUsers } from "@simkernel/keys"
import type { Kernel as Sched, Task } from "@simkernel/sched"
import { Effect } from "effect"
import { type Handler, int, lift, opt } from "./common.js"

/** How the key calls learn about containers, which the container package plugs in. */
export interface KeyContainerHooks {
  /** A cfd argument to its container: EBADF for a closed fd, EINVAL for an fd of another kind. */
  readonly resolve: (task: Task, fd: number) => KeyContainer | SysError
  /** The container a task runs in, for the seed's container keyring, intercepts and ACEs. */
  readonly containerOf: (task: Task) => KeyContainer | undefined
  /** Called after each keyctl(2), for state a command left on a container that no longer needs it. */
  readonly afterKeyctl?: (task: Task) => void
}

/** Until a container package is installed: no fd is a container and no task is in one. */
const NO_CONTAINERS: KeyContainerHooks = {
  resolve: (task, fd) => (task.vfsTask().files.fdget(fd) === undefined ? sysError("EBADF", "keyctl") : sysError("EINVAL", "keyctl", "not a container")),
  containerOf: () => undefined
}

const HOOKS = new WeakMap<Sched, KeyContainerHooks>()
const SUBSYSTEMS = new WeakMap<Sched, Keys>()

/** Plug the container package's fd resolver and membership into a kernel's key calls. */
export const setKeyContainerHooks = (kernel: Sched, hooks: KeyContainerHooks): void => {
  HOOKS.set(kernel, hooks)
}

/**
 * The key subsystem of a kernel, made on first use with the kernel's clock
 * (seconds since boot) and dropped when PID 1 exits, so the user keyrings
 * it holds are released before the leak audit.
 */
export const keysOf = (kernel: Sched): Keys => {
  let keys = SUBSYSTEMS.get(kernel)
  if (keys === undefined) {
    const made = new Keys({ registry: kernel.live, clock: () => Math.floor(kernel.uptimeNs() / 1e9) })
    keys = made
    SUBSYSTEMS.set(kernel, made)
    kernel.taskHooks.push({
      onExit: (t) => {
        if (t === kernel.initTask) made.shutdown()
      }
    })
  }
  return keys
}

/** A task as the key subsystem's caller: its credentials are replaced by commit_creds() like any task's. */
const callerOf = (t: Task): KeyCaller => ({
  get cred(): Cred {
    return t.cred
  },
  set cred(c: Cred) {
    t.cred = c
  },
  keyContainer: (HOOKS.get(t.kernel) ?? NO_CONTAINERS).containerOf(t),
  pid: t.tgidIn(t.activePidNs)
})

/** /proc/keys as the reading task sees it. */
export const procKeysShow = (t: Task): string => procKeys(keysOf(t.kernel), callerOf(t))

/** /proc/key-users as the reading task sees it. */
export const procKeyUsersShow = (t: Task): string => procKeyUsers(keysOf(t.kernel), callerOf(t))

const bytesOrNull = (v: unknown): Uint8Array | null => (v instanceof Uint8Array ? v : null)

/**
 * request_key(2): a construction handed to a container's supervisor sleeps
 * until the key is instantiated or rejected (wait_for_key_construction()).
 */
const requestKey: Handler = (ctx, a) =>
  Effect.suspend(() => {
    const t = ctx.proc.task
    const keys = keysOf(t.kernel)
    const r = keys.requestKey(callerOf(t), opt(a[0]), opt(a[1]), opt(a[2]), int(a[3]))
    if (!(r instanceof KeyConstructionWait)) return lift(r)
    const finish = Effect.suspend(() => lift(keys.requestKeyFinish(r)))
    if (r.ready()) return finish
    const abandon = Effect.sync(() => void keys.requestKeyFinish(r))
    return Effect.flatMap(Effect.onInterrupt(t.kernel.sleepOn(t, "sleep", r.wq, r.ready), () => abandon), () => finish)
  })

/** add_key(2), request_key(2) and keyctl(2), by syscall name. */
export const KEY_HANDLERS: Readonly<Record<string, Handler>> = {
  add_key: (ctx, a) =>
    Effect.suspend(() => {
      const t = ctx.proc.task
      return lift(keysOf(t.kernel).addKey(callerOf(t), opt(a[0]), opt(a[1]), bytesOrNull(a[2]), int(a[3]), int(a[4])))
    }),
  request_key: requestKey,
  keyctl: (ctx, a) =>
    Effect.suspend(() => {
      const t = ctx.proc.task
      const hooks = HOOKS.get(t.kernel) ?? NO_CONTAINERS
      const r = keyctl(keysOf(t.kernel), callerOf(t), int(a[0]), a.slice(1), (fd) => hooks.resolve(t, fd))
      hooks.afterKeyctl?.(t)
      return lift(r)
    })
}
