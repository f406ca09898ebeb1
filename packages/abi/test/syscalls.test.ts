import { describe, expect, it } from "@effect/vitest"
import { LINUX_SYSCALLS, SEED_SYSCALLS, syscallName, syscallNumber } from "../src/index.js"

describe("syscall numbers", () => {
  it("match Linux x86_64 for the calls simkernel simulates", () => {
    // values from arch/x86/entry/syscalls/syscall_64.tbl
    const expected: Record<string, number> = {
      read: 0, write: 1, open: 2, close: 3, stat: 4, fstat: 5, lseek: 8, pipe: 22, dup: 32, dup2: 33, pause: 34,
      getpid: 39, socket: 41, clone: 56, fork: 57, vfork: 58, execve: 59, exit: 60, wait4: 61, kill: 62, uname: 63,
      fcntl: 72, ftruncate: 77, getdents: 78, chdir: 80, fchdir: 81, rename: 82, mkdir: 83, rmdir: 84, link: 86,
      unlink: 87, symlink: 88, readlink: 89, chmod: 90, umask: 95, getuid: 102, setuid: 105, setgid: 106,
      geteuid: 107, setpgid: 109, getppid: 110, setsid: 112, setreuid: 113, setgroups: 116, setresuid: 117,
      getpgid: 121, setfsuid: 122, getsid: 124, capget: 125, capset: 126, mknod: 133, statfs: 137, fstatfs: 138,
      prctl: 157, chroot: 161, mount: 165, umount2: 166, sethostname: 170, setdomainname: 171, gettid: 186,
      tkill: 200, getdents64: 217, exit_group: 231, tgkill: 234, waitid: 247, add_key: 248, request_key: 249,
      keyctl: 250, openat: 257, mkdirat: 258, mknodat: 259, fchownat: 260, newfstatat: 262, unlinkat: 263,
      renameat: 264, linkat: 265, symlinkat: 266, readlinkat: 267, fchmodat: 268, unshare: 272, utimensat: 280,
      dup3: 292, pipe2: 293, setns: 308, renameat2: 316, execveat: 322, statx: 332, rseq: 334,
      pidfd_send_signal: 424, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432,
      fspick: 433, pidfd_open: 434, clone3: 435, close_range: 436, openat2: 437, pidfd_getfd: 438,
      mount_setattr: 442, set_mempolicy_home_node: 450, fchmodat2: 452, statmount: 457, listmount: 458,
      mseal: 462, open_tree_attr: 467, file_setattr: 469
    }
    for (const [name, nr] of Object.entries(expected)) {
      expect([name, syscallNumber(name)]).toEqual([name, nr])
      expect(syscallName(nr)).toBe(name)
    }
  })

  it("have no number twice and no name twice, and a hole where x86_64 has none", () => {
    const all = [...LINUX_SYSCALLS, ...SEED_SYSCALLS]
    expect(new Set(all.map(([nr]) => nr)).size).toBe(all.length)
    expect(new Set(all.map(([, name]) => name)).size).toBe(all.length)
    expect(syscallName(335)).toBeUndefined()
    expect(syscallName(423)).toBeUndefined()
    expect(syscallNumber("no_such_call")).toBeUndefined()
  })

  it("number the seed's calls above mainline's", () => {
    const top = Math.max(...LINUX_SYSCALLS.map(([nr]) => nr))
    expect(top).toBe(469)
    for (const [nr] of SEED_SYSCALLS) expect(nr).toBeGreaterThan(top)
    expect(syscallNumber("container_create")).toBe(1000)
    expect(syscallNumber("fork_into_container")).toBe(1001)
  })
})
