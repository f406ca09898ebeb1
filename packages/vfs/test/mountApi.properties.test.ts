import {
  AT_FDCWD,
  AT_RECURSIVE,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_CMD_RECONFIGURE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  MNT_DETACH,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_RDONLY,
  MOVE_MOUNT_BENEATH,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_SET_GROUP,
  MS_PRIVATE,
  MS_SHARED,
  MS_SLAVE,
  O_CREAT,
  O_WRONLY,
  OPEN_TREE_CLONE
} from "@simkernel/abi"
import { assertNoLeaks } from "@simkernel/kref"
import {
  close,
  createScenarioWorld,
  fsconfig,
  fsmount,
  fsopen,
  fspick,
  ksysUmount,
  mkdirat,
  mountSetattr,
  moveMount,
  openat,
  openTree,
  openTreeAttr,
  showMountinfo
} from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"

const PATHS = ["/a", "/b", "/a/x", "/b/x", "/"] as const
const KEYS = ["source", "size", "ro", "rw", "nr_inodes", "mode", "bogus"] as const

/** One mount-API call with arguments drawn from small sets, so calls meet each other's fds and mounts. */
const op = fc.oneof(
  fc.record({ k: fc.constant("fsopen" as const), type: fc.constantFrom("tmpfs", "ramfs", "mqueue") }),
  fc.record({ k: fc.constant("newmount" as const), type: fc.constantFrom("tmpfs", "ramfs", "mqueue") }),
  fc.record({ k: fc.constant("fsconfig" as const), fd: fc.integer({ min: 3, max: 7 }), cmd: fc.constantFrom(FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE, FSCONFIG_CMD_RECONFIGURE), key: fc.constantFrom(...KEYS) }),
  fc.record({ k: fc.constant("fsmount" as const), fd: fc.integer({ min: 3, max: 7 }), attr: fc.constantFrom(0, MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV) }),
  fc.record({ k: fc.constant("fspick" as const), path: fc.constantFrom(...PATHS) }),
  fc.record({ k: fc.constant("open_tree" as const), path: fc.constantFrom(...PATHS), flags: fc.constantFrom(0, OPEN_TREE_CLONE, OPEN_TREE_CLONE | AT_RECURSIVE) }),
  fc.record({ k: fc.constant("open_tree_attr" as const), path: fc.constantFrom(...PATHS), set: fc.constantFrom(MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV) }),
  fc.record({
    k: fc.constant("move_mount" as const),
    fd: fc.integer({ min: 3, max: 7 }),
    to: fc.constantFrom(...PATHS),
    flags: fc.constantFrom(MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_BENEATH, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_SET_GROUP)
  }),
  fc.record({ k: fc.constant("move_path" as const), from: fc.constantFrom(...PATHS), to: fc.constantFrom(...PATHS) }),
  fc.record({ k: fc.constant("setattr" as const), path: fc.constantFrom(...PATHS), rec: fc.boolean(), set: fc.constantFrom(0, MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV), prop: fc.constantFrom(0, MS_SHARED, MS_SLAVE, MS_PRIVATE) }),
  fc.record({ k: fc.constant("mkdir" as const), fd: fc.integer({ min: 3, max: 7 }) }),
  fc.record({ k: fc.constant("writer" as const), path: fc.constantFrom(...PATHS) }),
  fc.record({ k: fc.constant("close" as const), fd: fc.integer({ min: 3, max: 7 }) }),
  fc.record({ k: fc.constant("umount" as const), path: fc.constantFrom(...PATHS), detach: fc.boolean() })
)

describe("property: the mount API under random use", () => {
  it("never throws, keeps mountinfo well formed, and leaves no live object after teardown", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 40 }), (ops) => {
        const w = createScenarioWorld()
        const t = w.task
        for (const p of ["/a", "/b", "/a/x", "/b/x"]) mkdirat(t, AT_FDCWD, p, 0o755)
        for (const o of ops) {
          switch (o.k) {
            case "fsopen":
              fsopen(t, o.type, 0)
              break
            case "newmount": {
              const fs = fsopen(t, o.type, 0)
              if (typeof fs !== "number") break
              fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0)
              fsmount(t, fs, 0, 0)
              break
            }
            case "fsconfig":
              fsconfig(t, o.fd, o.cmd, o.cmd === FSCONFIG_SET_FLAG || o.cmd === FSCONFIG_SET_STRING ? o.key : null, o.cmd === FSCONFIG_SET_STRING ? "64k" : null, 0)
              break
            case "fsmount":
              fsmount(t, o.fd, 0, o.attr)
              break
            case "fspick":
              fspick(t, AT_FDCWD, o.path, 0)
              break
            case "open_tree":
              openTree(t, AT_FDCWD, o.path, o.flags)
              break
            case "open_tree_attr":
              openTreeAttr(t, AT_FDCWD, o.path, OPEN_TREE_CLONE, { attrSet: o.set }, 32)
              break
            case "move_mount":
              moveMount(t, o.fd, "", AT_FDCWD, o.to, o.flags)
              break
            case "move_path":
              moveMount(t, AT_FDCWD, o.from, AT_FDCWD, o.to, 0)
              break
            case "setattr":
              mountSetattr(t, AT_FDCWD, o.path, o.rec ? AT_RECURSIVE : 0, { attrSet: o.set, propagation: o.prop }, 32)
              break
            case "mkdir":
              mkdirat(t, o.fd, "x", 0o755)
              mkdirat(t, o.fd, "", 0o755)
              break
            case "writer":
              openat(t, AT_FDCWD, `${o.path === "/" ? "" : o.path}/f`, O_CREAT | O_WRONLY, 0o644)
              break
            case "close":
              close(t, o.fd)
              break
            case "umount":
              ksysUmount(t, o.path, o.detach ? MNT_DETACH : 0)
              break
          }
          for (const line of showMountinfo({ root: t.fs.root, ns: t.mntNs }).split("\n"))
            if (line !== "") expect(line).toMatch(/^\d+ \d+ 0:\d+ \S+ \S+ \S+( \S+)* - \S+ \S+ \S+$/)
        }
        w.destroy()
        assertNoLeaks(w.registry)
        assertNoLeaks()
      }),
      { numRuns: 300 }
    )
  })
})
