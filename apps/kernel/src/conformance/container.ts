import {
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  POLLRDHUP,
  signalName,
  sysError,
  type SysError
} from "@simkernel/abi"
import type { Containers } from "@simkernel/container"
import { NetNamespace, netNamespaceOps } from "@simkernel/net"
import { type NamespaceOps, sethostname } from "@simkernel/nsproxy"
import type { Kernel, Process, Program } from "@simkernel/sched"
import type { UserNamespace } from "@simkernel/cred"
import { Effect } from "effect"
import { CONTAINER_HANDLERS, installContainers } from "../syscalls/container.js"
import { ArgError, type Decoded } from "./args.js"
import type { Step } from "./format.js"

/**
 * The container steps of conformance/FORMAT.md section 8 on the sched
 * machine. A scenario that uses any of the seed's calls runs on a kernel
 * with the container package and a network namespace loaded; every other
 * scenario runs on a mainline kernel, where FSCONFIG_SET_CONTAINER (9) and
 * MOVE_MOUNT_T_CONTAINER_ROOT (0x80) stay invalid values, as Linux has them.
 */

/** The seed's calls: Linux answers ENOSYS for each. */
export const CONTAINER_CALLS: ReadonlySet<string> = new Set([
  "container_create",
  "fork_into_container",
  "container_wait",
  "container_kill",
  "container_socket"
])

/** Does any step (a forked child's steps included) call one of the seed's calls? */
export const usesContainerCalls = (steps: ReadonlyArray<Step>): boolean =>
  steps.some((s) => CONTAINER_CALLS.has(s.call) || usesContainerCalls(s.child ?? []))

/** The initial network namespace a container machine boots with (container_socket, CONTAINER_NEW_NET_NS). */
export const containerMachineNamespaces = (initUserNs: UserNamespace): { readonly net: readonly [NamespaceOps, NetNamespace] } => ({
  net: [netNamespaceOps as unknown as NamespaceOps, NetNamespace.createInit(initUserNs)]
})

/** Load the container package on a booted machine; shut it down after the kernel, before the Vfs. */
export const installContainerMachine = (kernel: Kernel): Containers => installContainers(kernel)

const num = (d: Decoded | undefined): number => (typeof d === "number" ? d : 0)

/** What the poll observation asks for, and the names of the bits it reports (FORMAT.md section 4). */
const POLL_REQUEST = POLLIN | POLLPRI | POLLOUT | POLLRDHUP
const POLL_NAMES: ReadonlyArray<readonly [string, number]> = [
  ["POLLERR", POLLERR],
  ["POLLHUP", POLLHUP],
  ["POLLIN", POLLIN],
  ["POLLNVAL", POLLNVAL],
  ["POLLOUT", POLLOUT],
  ["POLLPRI", POLLPRI],
  ["POLLRDHUP", POLLRDHUP]
]

/** A container's wait status as a result object: `{"exited": N}` or `{"signaled": "SIGNAME"}`. */
const statusRet = (s: number): unknown => ((s & 0x7f) === 0 ? { exited: (s >> 8) & 0xff } : { signaled: signalName(s & 0x7f) ?? s & 0x7f })

type StepCall = (a: ReadonlyArray<Decoded>) => Effect.Effect<unknown, SysError | ArgError>

/**
 * The section 8 calls of one scenario process (through the kernel app's
 * syscall handlers, as a program would make them), the `poll`
 * observation, and `sethostname` (refused as a scenario error in the
 * initial UTS namespace, which on Linux is the host's).
 */
export const containerStepCalls = (proc: Process): Readonly<Record<string, StepCall>> => {
  const ctx = { proc }
  const t = proc.task
  return {
    container_create: (a) => CONTAINER_HANDLERS.container_create!(ctx, [a[0] ?? null, num(a[1]), num(a[2]), num(a[3]), num(a[4])]),
    container_wait: (a) => {
      const wstatus: { value?: number } = {}
      return Effect.map(CONTAINER_HANDLERS.container_wait!(ctx, [num(a[0]), wstatus, num(a[1]), null]), () =>
        wstatus.value === undefined ? 0 : statusRet(wstatus.value)
      )
    },
    container_kill: (a) => CONTAINER_HANDLERS.container_kill!(ctx, [num(a[0]), num(a[1]), num(a[2])]),
    container_socket: (a) => CONTAINER_HANDLERS.container_socket!(ctx, [num(a[0]), num(a[1]), num(a[2]), num(a[3])]),
    poll: (a) =>
      Effect.map(proc.poll([{ fd: num(a[0]), events: POLL_REQUEST }], 0), (revents) => {
        const r = revents[0] ?? 0
        return { revents: POLL_NAMES.filter(([, bit]) => (r & bit) !== 0).map(([name]) => name) }
      }),
    // as the Linux runner, never in the UTS namespace the scenario started in (the host's there)
    sethostname: (a) =>
      Effect.suspend((): Effect.Effect<number, SysError | ArgError> => {
        if (t.nsproxy?.uts === t.kernel.initTask.nsproxy?.uts)
          return Effect.fail(new ArgError("sethostname: only in a UTS namespace the scenario made (unshare(CLONE_NEWUTS) first), never the host's"))
        if (typeof a[0] !== "string") return Effect.fail(sysError("EFAULT", "sethostname"))
        const err = sethostname(t.nsproxy!, t.cred, new TextEncoder().encode(a[0]), num(a[1]))
        return err === undefined ? Effect.succeed(0) : Effect.fail(err)
      })
  }
}

/** fork_into_container(cfd): the child runs `child` (its steps), as the fork step's does. */
export const forkIntoContainer = (proc: Process, args: ReadonlyArray<Decoded>, child: Program): Effect.Effect<number, SysError> =>
  CONTAINER_HANDLERS.fork_into_container!({ proc }, [num(args[0]), child])
