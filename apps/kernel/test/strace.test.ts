import { describe, expect, it } from "@effect/vitest"
import {
  AT_FDCWD,
  AT_RECURSIVE,
  CLONE_NEWNS,
  CLONE_NEWUTS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_STRING,
  FSOPEN_CLOEXEC,
  MOUNT_ATTR_NODEV,
  MOVE_MOUNT_F_EMPTY_PATH,
  MS_BIND,
  MS_REC,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_WRONLY,
  OPEN_TREE_CLONE,
  S_IFCHR,
  sysError
} from "@simkernel/abi"
import { formatSyscall, quoteString } from "../src/syscalls/strace.js"

describe("strace-style trace lines", () => {
  it("print each call with Linux's argument order and strace's notation", () => {
    expect(formatSyscall(3, "fsopen", ["tmpfs", FSOPEN_CLOEXEC], 4)).toBe('[pid 3] fsopen("tmpfs", FSOPEN_CLOEXEC) = 4')
    expect(formatSyscall(3, "fsconfig", [4, FSCONFIG_SET_STRING, "source", "ltpsrc", 0], 0)).toBe(
      '[pid 3] fsconfig(4, FSCONFIG_SET_STRING, "source", "ltpsrc", 0) = 0'
    )
    expect(formatSyscall(3, "fsconfig", [4, FSCONFIG_CMD_CREATE, null, null, 0], 0)).toBe(
      "[pid 3] fsconfig(4, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0"
    )
    expect(formatSyscall(3, "fsmount", [4, 0, MOUNT_ATTR_NODEV], 5)).toBe("[pid 3] fsmount(4, 0, MOUNT_ATTR_NODEV) = 5")
    expect(formatSyscall(3, "move_mount", [5, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH], 0)).toBe(
      '[pid 3] move_mount(5, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH) = 0'
    )
    expect(formatSyscall(1, "open_tree", [AT_FDCWD, "/a", OPEN_TREE_CLONE | AT_RECURSIVE], 3)).toBe(
      '[pid 1] open_tree(AT_FDCWD, "/a", OPEN_TREE_CLONE|AT_RECURSIVE) = 3'
    )
    expect(formatSyscall(1, "mount", ["/a", "/b", null, MS_BIND | MS_REC, null], 0)).toBe(
      '[pid 1] mount("/a", "/b", NULL, MS_BIND|MS_REC, NULL) = 0'
    )
    // as strace 6.1 printed the same call here; the mode only shows with O_CREAT or O_TMPFILE
    expect(formatSyscall(1, "openat", [AT_FDCWD, "/", O_DIRECTORY | O_CLOEXEC, 0], 3)).toBe(
      '[pid 1] openat(AT_FDCWD, "/", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 3'
    )
    expect(formatSyscall(1, "openat", [AT_FDCWD, "f", O_CREAT | O_WRONLY, 0o644], 3)).toBe(
      '[pid 1] openat(AT_FDCWD, "f", O_WRONLY|O_CREAT, 0644) = 3'
    )
    expect(formatSyscall(1, "mkdirat", [AT_FDCWD, "mnt", 0o755], 0)).toBe('[pid 1] mkdirat(AT_FDCWD, "mnt", 0755) = 0')
    expect(formatSyscall(1, "mkdirat", [AT_FDCWD, "d", 0], 0)).toBe('[pid 1] mkdirat(AT_FDCWD, "d", 000) = 0')
    expect(formatSyscall(1, "mknodat", [AT_FDCWD, "null", S_IFCHR | 0o666, [1, 3]], 0)).toBe(
      '[pid 1] mknodat(AT_FDCWD, "null", S_IFCHR|0666, makedev(0x1, 0x3)) = 0'
    )
    expect(formatSyscall(1, "unshare", [CLONE_NEWNS | CLONE_NEWUTS], 0)).toBe("[pid 1] unshare(CLONE_NEWNS|CLONE_NEWUTS) = 0")
  })

  it("print a failure as -1, the errno name and its text", () => {
    expect(formatSyscall(7, "fsopen", ["nosuchfs", 0], sysError("ENODEV"))).toBe(
      '[pid 7] fsopen("nosuchfs", 0) = -1 ENODEV (No such device)'
    )
    expect(formatSyscall(7, "fsconfig", [-1, 100, null, null, 0], sysError("EINVAL"))).toBe(
      "[pid 7] fsconfig(-1, 100, NULL, NULL, 0) = -1 EINVAL (Invalid argument)"
    )
  })

  it("print pipe2's flags, wait4's status and a read's buffer as strace does", () => {
    expect(formatSyscall(1, "pipe2", [[3, 4], 0], 0)).toBe("[pid 1] pipe2([3, 4], 0) = 0")
    expect(formatSyscall(1, "pipe2", [[3, 4], 0o2000000], 0)).toBe("[pid 1] pipe2([3, 4], O_CLOEXEC) = 0")
    expect(formatSyscall(1, "wait4", [2, { value: 0x0300 }, 0, null], 2)).toBe("[pid 1] wait4(2, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 2")
    expect(formatSyscall(1, "wait4", [2, { value: 9 }, 0, null], 2)).toBe("[pid 1] wait4(2, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 2")
    const buf = new Uint8Array(16)
    buf.set(new TextEncoder().encode("hi\n"))
    expect(formatSyscall(3, "read", [0, buf, 16], 3)).toBe('[pid 3] read(0, "hi\\n", 16) = 3')
    expect(formatSyscall(1, "fork", [() => 0], 2)).toBe("[pid 1] fork() = 2")
  })

  it("quote strings as strace does: escapes, octal for other bytes, 32 bytes then ...", () => {
    expect(quoteString('a"b\\c\n\t')).toBe('"a\\"b\\\\c\\n\\t"')
    expect(quoteString(new Uint8Array([0, 1, 0xff]))).toBe('"\\0\\1\\377"')
    expect(quoteString("x".repeat(40))).toBe(`"${"x".repeat(32)}"...`)
  })
})
