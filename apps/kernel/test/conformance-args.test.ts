import { describe, expect, it } from "@effect/vitest"
import { AT_FDCWD, FSCONFIG_SET_STRING, MOUNT_ATTR_NODEV, MOUNT_ATTR_RDONLY, MS_SHARED, S_IFIFO } from "@simkernel/abi"
import { ArgError, CALLS, decodeArgs } from "../src/conformance/args.js"

describe("conformance argument encodings", () => {
  const saved = new Map([["fs", 3], ["m", 5]])

  it("decode every FORMAT.md form", () => {
    expect(decodeArgs("fsconfig", ["$fs", "FSCONFIG_SET_STRING", "source", "ltpsrc", 0], saved)).toEqual([3, FSCONFIG_SET_STRING, "source", "ltpsrc", 0])
    expect(decodeArgs("mkdirat", ["AT_FDCWD", "/mnt", "0755"], saved)).toEqual([AT_FDCWD, "/mnt", 0o755])
    expect(decodeArgs("mknodat", ["$m", "fifo", "S_IFIFO|0644", 0], saved)).toEqual([5, "fifo", S_IFIFO | 0o644, [0, 0]])
    expect(decodeArgs("mknodat", ["$m", "null", "S_IFCHR|0666", [1, 3]], saved)).toEqual([5, "null", 0o20666, [1, 3]])
    expect(decodeArgs("fsconfig", [-1, -1, null, null, 0], saved)).toEqual([-1, -1, null, null, 0])
    expect(decodeArgs("fsmount", ["$fs", 0, "0x10|MOUNT_ATTR_RDONLY"], saved)).toEqual([3, 0, 0x11])
    expect(decodeArgs("mount_setattr", ["$m", "", "AT_EMPTY_PATH", { attr_set: "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NODEV", propagation: "MS_SHARED", tail: [0, 1] }, 40], saved)).toEqual([
      5,
      "",
      0x1000,
      { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, attrClr: 0, propagation: MS_SHARED, usernsFd: 0, tail: [0, 1] },
      40
    ])
    expect(decodeArgs("mount_setattr", ["$m", "", 0, null, 32], saved)).toEqual([5, "", 0, null, 32])
    expect(decodeArgs("read", ["$m", 16], saved)).toEqual([5, 16])
    expect(decodeArgs("read", ["$m"], saved)).toEqual([5])
  })

  it("say what is wrong with a bad step instead of guessing", () => {
    for (const [call, args] of [
      ["fsopen", ["tmpfs", "NO_SUCH_FLAG"]],
      ["close", ["$never"]],
      ["close", ["AT_FDCWD_TYPO"]],
      ["mkdirat", ["AT_FDCWD", 5, 0]],
      ["mknodat", ["AT_FDCWD", "x", 0, "1:3"]],
      ["no_such_call", []],
      ["close", [1, 2]]
    ] as const) {
      expect(decodeArgs(call, args, saved)).toBeInstanceOf(ArgError)
    }
  })

  it("cover every call of the shared scenarios", () => {
    for (const call of ["chdir", "cloexec", "close", "fchdir", "fsconfig", "fsmount", "fsopen", "fspick", "listdir", "mkdirat", "mknodat", "mount", "mount_setattr", "mountinfo", "move_mount", "nsfd", "open_tree", "openat", "read", "same_file", "setns", "stat", "statfs", "symlinkat", "umount2", "unlinkat", "unshare", "write"]) {
      expect(CALLS[call]).toBeDefined()
    }
  })
})
