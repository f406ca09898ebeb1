import { describe, expect, it } from "@effect/vitest"
import {
  AF_INET,
  AF_NETLINK,
  AF_UNIX,
  AT_FDCWD,
  CONTAINER_FD_CLOEXEC,
  CONTAINER_KILL_ON_CLOSE,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_NET_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_UTS_NS,
  F_GETFD,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_CONTAINER,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  NETLINK_ROUTE,
  O_DIRECTORY,
  O_RDONLY,
  SIGKILL,
  SIGTERM,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOCK_STREAM,
  sysError,
  WNOHANG
} from "@simkernel/abi"
import { bootOnVfsWorld, type Process } from "@simkernel/sched"
import { createScenarioWorld } from "@simkernel/vfs"
import { Effect } from "effect"
import { Syscalls } from "../src/index.js"
import { containersOf } from "../src/syscalls/container.js"
import { formatSyscall } from "../src/syscalls/strace.js"
import { errno, tmpfsMount, withSys } from "./support.js"

describe("the container syscalls in strace's notation", () => {
  it("print the flags, the mount API's container values and the wait status by name", () => {
    expect(formatSyscall(1, "container_create", ["fred", CONTAINER_NEW_EMPTY_FS_NS | CONTAINER_KILL_ON_CLOSE, 0, 0, 0], 3)).toBe(
      '[pid 1] container_create("fred", CONTAINER_NEW_EMPTY_FS_NS|CONTAINER_KILL_ON_CLOSE, 0, 0, 0) = 3'
    )
    expect(formatSyscall(1, "container_create", [null, 0x400, 0, 0, 0], sysError("EINVAL"))).toBe(
      "[pid 1] container_create(NULL, 0x400, 0, 0, 0) = -1 EINVAL (Invalid argument)"
    )
    expect(formatSyscall(1, "fsconfig", [4, FSCONFIG_SET_CONTAINER, null, null, 3], 0)).toBe("[pid 1] fsconfig(4, FSCONFIG_SET_CONTAINER, NULL, NULL, 3) = 0")
    expect(formatSyscall(1, "move_mount", [5, "", 3, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT], 0)).toBe(
      '[pid 1] move_mount(5, "", 3, "/", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_CONTAINER_ROOT) = 0'
    )
    expect(formatSyscall(1, "fork_into_container", [3], 2)).toBe("[pid 1] fork_into_container(3) = 2")
    expect(formatSyscall(1, "container_wait", [3, { value: 7 << 8 }, 0, null], 0)).toBe(
      "[pid 1] container_wait(3, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL) = 0"
    )
    expect(formatSyscall(1, "container_wait", [3, { value: SIGKILL }, WNOHANG, null], 0)).toBe(
      "[pid 1] container_wait(3, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], WNOHANG, NULL) = 0"
    )
    expect(formatSyscall(1, "container_kill", [3, 1, SIGTERM], sysError("ESRCH"))).toBe("[pid 1] container_kill(3, 1, SIGTERM) = -1 ESRCH (No such process)")
    expect(formatSyscall(1, "container_socket", [3, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE], 4)).toBe(
      "[pid 1] container_socket(3, AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, 0) = 4"
    )
  })

  it.effect("are traced as a program makes them", () =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      yield* withSys(
        (sys) =>
          Effect.gen(function* () {
            const c = yield* sys.call("container_create", "fred", CONTAINER_NEW_EMPTY_FS_NS | CONTAINER_KILL_ON_CLOSE, 0, 0, 0)
            yield* errno(sys.call("container_create", "a/b", 0, 0, 0, 0))
            yield* sys.call("close", c)
          }),
        (line) => trace.push(line)
      )
      expect(trace).toEqual([
        '[pid 1] container_create("fred", CONTAINER_NEW_EMPTY_FS_NS|CONTAINER_KILL_ON_CLOSE, 0, 0, 0) = 0',
        '[pid 1] container_create("a/b", 0, 0, 0, 0) = -1 EINVAL (Invalid argument)',
        "[pid 1] close(0) = 0"
      ])
    })
  )
})

describe("the container syscalls on a booted kernel", () => {
  it.effect("every booted kernel has the container package: PID 1 is in .init", () =>
    Effect.gen(function* () {
      const names = yield* withSys((_sys, proc) => Effect.sync(() => containersOf(proc.task.kernel)?.containerOf(proc.task)?.name))
      expect(names).toBe(".init")
    })
  )

  it.effect("run the seed's sample: an empty container gets a root, a task forked in is PID 1, and container_wait reports its exit", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "foo-test", CONTAINER_NEW_EMPTY_FS_NS | CONTAINER_NEW_PID_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
          const m = yield* tmpfsMount(sys)
          yield* sys.call("move_mount", m, "", c, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT)
          yield* sys.call("close", m)
          yield* sys.call("mkdirat", c, "proc", 0o555)
          const pfs = yield* sys.call("fsopen", "proc", 0)
          yield* sys.call("fsconfig", pfs, FSCONFIG_SET_CONTAINER, null, null, c)
          yield* sys.call("fsconfig", pfs, FSCONFIG_CMD_CREATE, null, null, 0)
          const pm = yield* sys.call("fsmount", pfs, 0, 0)
          yield* sys.call("move_mount", pm, "", c, "proc", MOVE_MOUNT_F_EMPTY_PATH)
          let inside: Array<number | string> = []
          const child = (p: Process) =>
            Effect.gen(function* () {
              const s = new Syscalls({ proc: p })
              const self = new Uint8Array(16)
              const n = yield* s.call("readlinkat", AT_FDCWD, "/proc/self", self, 16)
              inside = [yield* s.call("getpid"), yield* s.call("getppid"), new TextDecoder().decode(self.subarray(0, n))]
              return 7
            })
          const pid = yield* sys.call("fork_into_container", c, child)
          const status: { value?: number } = {}
          yield* sys.call("container_wait", c, status, 0, null)
          const reaped = yield* sys.call("wait4", pid, {}, 0, null)
          const cloexec = yield* sys.call("fcntl", c, F_GETFD, 0)
          return { inside, status: status.value, same: reaped === pid, cloexec, again: yield* errno(sys.call("fork_into_container", c, child)) }
        })
      )
      expect(got).toEqual({ inside: [1, 0, "1"], status: 7 << 8, same: true, cloexec: 1, again: "ECANCELED" })
    })
  )

  it.effect("container_wait with WNOHANG leaves *wstatus alone while the container lives; container_kill reaches every member", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "pair", 0, 0, 0, 0)
          const sleeper = (p: Process) => Effect.as(Effect.ignore(p.pause()), 0)
          const a = yield* sys.call("fork_into_container", c, sleeper)
          const b = yield* sys.call("fork_into_container", c, sleeper)
          yield* sys.call("sched_yield")
          const early: { value?: number } = {}
          const nohang = yield* sys.call("container_wait", c, early, WNOHANG, null)
          const killed = yield* sys.call("container_kill", c, 0, SIGTERM)
          const sa: { value?: number } = {}
          const sb: { value?: number } = {}
          yield* sys.call("wait4", a, sa, 0, null)
          yield* sys.call("wait4", b, sb, 0, null)
          const late: { value?: number } = {}
          const rusage = {}
          yield* sys.call("container_wait", c, late, 0, rusage)
          return { nohang, early: early.value, killed, a: sa.value, b: sb.value, late: late.value, rusage: Object.keys(rusage).sort() }
        })
      )
      expect(got).toEqual({ nohang: 0, early: undefined, killed: 0, a: SIGTERM, b: SIGTERM, late: SIGTERM, rusage: ["ru_stime", "ru_utime"] })
    })
  )

  it.effect("container_socket installs a socket in the container's network namespace, with SOCK_CLOEXEC; socket(2)'s errors", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys, proc) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "net", CONTAINER_NEW_NET_NS, 0, 0, 0)
          const u = yield* sys.call("container_socket", c, AF_UNIX, SOCK_STREAM, 0)
          const n = yield* sys.call("container_socket", c, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)
          const flags = [yield* sys.call("fcntl", u, F_GETFD, 0), yield* sys.call("fcntl", n, F_GETFD, 0)]
          const link = new Uint8Array(64)
          const len = yield* sys.call("readlinkat", AT_FDCWD, `/proc/self/fd/${n}`, link, 64)
          const errors = [
            yield* errno(sys.call("container_socket", c, AF_INET, SOCK_STREAM, 0)),
            yield* errno(sys.call("container_socket", 99, AF_UNIX, SOCK_STREAM, 0)),
            yield* errno(sys.call("container_socket", u, AF_UNIX, SOCK_STREAM, 0))
          ]
          const polled = yield* proc.poll([{ fd: n, events: 0x4 }], 0)
          yield* sys.call("close", u)
          yield* sys.call("close", n)
          return { flags, link: new TextDecoder().decode(link.subarray(0, len)), errors, writable: (polled[0]! & 0x4) !== 0 }
        })
      )
      expect(got).toEqual({ flags: [0, 1], link: "anon_inode:socket", errors: ["EAFNOSUPPORT", "EBADF", "EINVAL"], writable: true })
    })
  )

  it.effect("faults on an unreadable name only after the flag checks; fork_into_container needs the child's program", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.all([
          errno(sys.call("container_create", 42, 0, 0, 0, 0)),
          errno(sys.call("container_create", 42, 0x400, 0, 0, 0)),
          errno(sys.call("container_create", 42, 0, 0, 1, 0)),
          errno(sys.call("container_create", 42, CONTAINER_NEW_FS_NS | CONTAINER_NEW_EMPTY_FS_NS, 0, 0, 0)),
          errno(sys.call("container_create", undefined, 0, 0, 0, 0)),
          errno(sys.call("fork_into_container", 0))
        ])
      )
      expect(got).toEqual(["EFAULT", "EINVAL", "EINVAL", "EINVAL", "EINVAL", "EFAULT"])
    })
  )

  it.effect("making namespaces needs CAP_SYS_ADMIN as unshare(2) does: EPERM after setuid(1000), while a container of the caller's own namespaces is made", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          yield* sys.call("setuid", 1000)
          return [
            yield* errno(sys.call("container_create", "u", CONTAINER_NEW_UTS_NS, 0, 0, 0)),
            yield* errno(sys.call("container_create", "e", CONTAINER_NEW_EMPTY_FS_NS, 0, 0, 0)),
            typeof (yield* sys.call("container_create", "plain", 0, 0, 0, 0))
          ]
        })
      )
      expect(got).toEqual(["EPERM", "EPERM", "number"])
    })
  )

  it.effect("ioctl knows only the container requests: ENOTTY on any other fd, EBADF on a closed one", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const d = yield* sys.call("openat", AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0)
          const c = yield* sys.call("container_create", "x", 0, 0, 0, 0)
          return [yield* errno(sys.call("ioctl", d, 0x5401, null)), yield* errno(sys.call("ioctl", 99, 0x5401, null)), yield* errno(sys.call("ioctl", c, 0x5401, null))]
        })
      )
      expect(got).toEqual(["ENOTTY", "EBADF", "EINVAL"])
    })
  )

  it.effect("KILL_ON_CLOSE: closing the last fd kills the members", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "k", CONTAINER_KILL_ON_CLOSE, 0, 0, 0)
          const pid = yield* sys.call(
            "fork_into_container",
            c,
            (p: Process) =>
              Effect.gen(function* () {
                yield* new Syscalls({ proc: p }).call("close", c)
                yield* Effect.ignore(p.pause())
                return 0
              })
          )
          yield* sys.call("sched_yield")
          yield* sys.call("close", c)
          const st: { value?: number } = {}
          yield* sys.call("wait4", pid, st, 0, null)
          return st.value
        })
      )
      expect(got).toBe(SIGKILL)
    })
  )
})

describe("a kernel without the container package", () => {
  it.effect("answers the seed's calls with ENOSYS and the mount API's container values as mainline does", () =>
    Effect.gen(function* () {
      const world = createScenarioWorld()
      const sched = yield* bootOnVfsWorld(world)
      let got: Array<unknown> = []
      yield* sched.run((proc) =>
        Effect.gen(function* () {
          const sys = new Syscalls({ proc })
          const fs = yield* sys.call("fsopen", "tmpfs", 0)
          got = [
            yield* errno(sys.call("container_create", "c", 0, 0, 0, 0)),
            yield* errno(sys.call("fork_into_container", 3, () => Effect.succeed(0))),
            yield* errno(sys.call("container_wait", 3, {}, 0, null)),
            yield* errno(sys.call("container_kill", 3, 0, SIGKILL)),
            yield* errno(sys.call("container_socket", 3, AF_UNIX, SOCK_STREAM, 0)),
            yield* errno(sys.call("fsconfig", fs, FSCONFIG_SET_CONTAINER, null, null, 0)),
            yield* errno(sys.call("move_mount", fs, "", AT_FDCWD, "/", MOVE_MOUNT_T_CONTAINER_ROOT)),
            containersOf(proc.task.kernel)
          ]
          return 0
        })
      )
      yield* sched.shutdown()
      world.vfs.shutdown()
      expect(got).toEqual(["ENOSYS", "ENOSYS", "ENOSYS", "ENOSYS", "ENOSYS", "EOPNOTSUPP", "EINVAL", undefined])
      expect(world.registry.size()).toBe(0)
    })
  )
})
