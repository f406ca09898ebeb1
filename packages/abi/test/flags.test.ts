import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import * as Abi from "../src/index.js"
import { FLAG_KINDS, type FlagKindName, formatFlags, parseFlags } from "../src/index.js"

// Rows marked "strace" are what strace 6.1 printed for the same value on Linux x86_64.
const FORMAT_CASES: ReadonlyArray<readonly [FlagKindName, number | bigint, string]> = [
  // open: access mode first, O_SYNC over O_DSYNC, O_TMPFILE over O_DIRECTORY (strace)
  ["open", 0, "O_RDONLY"],
  ["open", 0o2004000 + 0o200000, "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"],
  ["open", 0o1 + 0o100 + 0o1000 + 0o4010000, "O_WRONLY|O_CREAT|O_TRUNC|O_SYNC"],
  ["open", 0o2 + 0o20200000 + 0o200, "O_RDWR|O_EXCL|O_TMPFILE"],
  ["open", 0o3 + 0o10000, "O_ACCMODE|O_DSYNC"],
  ["open", 0o3 + 0o200000, "O_ACCMODE|O_DIRECTORY"],
  ["open", 0o100000, "O_RDONLY|O_LARGEFILE"],
  ["open", 0x80000000, "O_RDONLY|0x80000000"],
  ["open", 0o2000000 + 0x40000000, "O_RDONLY|O_CLOEXEC|0x40000000"],
  [
    "open",
    0x7ffffffc,
    "O_RDONLY|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_SYNC|O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_PATH|O_TMPFILE|FASYNC|0x7f80003c"
  ],
  // mode (strace, mknodat)
  ["mode", 0o20620, "S_IFCHR|0620"],
  ["mode", 0o171777, "0171777"],
  ["mode", 0, "000"],
  ["mode", 0o100000, "S_IFREG|000"],
  ["mode", 0o7777, "S_ISUID|S_ISGID|S_ISVTX|0777"],
  ["mode", 0o1, "001"],
  ["mode", 0o40755, "S_IFDIR|0755"],
  ["mode", 0o755, "0755"],
  ["mode", 0o41777, "S_IFDIR|S_ISVTX|0777"],
  // mount(2) (strace)
  ["ms", 0xc0ed0000, "MS_MGC_VAL"],
  ["ms", 0xc0ed0001, "MS_MGC_VAL|MS_RDONLY"],
  ["ms", 0x8000, "MS_SILENT"],
  ["ms", 0, "0"],
  [
    "ms",
    0xbbf10000,
    "MS_POSIXACL|MS_SHARED|MS_RELATIME|MS_KERNMOUNT|MS_I_VERSION|MS_STRICTATIME|MS_LAZYTIME|MS_NOREMOTELOCK|MS_NOSEC|MS_BORN|MS_NOUSER"
  ],
  ["ms", 0x4000 + 0x40000, "MS_REC|MS_PRIVATE"],
  ["umount", 0x10f, "MNT_FORCE|MNT_DETACH|MNT_EXPIRE|UMOUNT_NOFOLLOW|0x100"],
  // fd-based mount API (strace, where it knew the flag)
  ["fsopen", 3, "FSOPEN_CLOEXEC|0x2"],
  ["fsmount", 1, "FSMOUNT_CLOEXEC"],
  ["fsmount", 0, "0"],
  ["move_mount", 0x4004, "MOVE_MOUNT_F_EMPTY_PATH|0x4000"],
  ["move_mount", 0, "0"],
  ["move_mount", 0x84, "MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_CONTAINER_ROOT"],
  [
    "move_mount",
    0xffffffff,
    "MOVE_MOUNT_F_SYMLINKS|MOVE_MOUNT_F_AUTOMOUNTS|MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_SYMLINKS|MOVE_MOUNT_T_AUTOMOUNTS|MOVE_MOUNT_T_EMPTY_PATH|MOVE_MOUNT_T_CONTAINER_ROOT|MOVE_MOUNT_SET_GROUP|MOVE_MOUNT_BENEATH|0xfffffc08"
  ],
  ["fspick", 0x1f, "FSPICK_CLOEXEC|FSPICK_SYMLINK_NOFOLLOW|FSPICK_NO_AUTOMOUNT|FSPICK_EMPTY_PATH|0x10"],
  [
    "open_tree",
    0x80000 + 1 + 0x8000 + 0x1000 + 0x100 + 0x800,
    "OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE"
  ],
  ["fsconfig_cmd", 6, "FSCONFIG_CMD_CREATE"],
  ["fsconfig_cmd", 0, "FSCONFIG_SET_FLAG"],
  ["fsconfig_cmd", 9, "FSCONFIG_SET_CONTAINER"],
  ["fsconfig_cmd", 10, "10"],
  ["fsconfig_cmd", -1, "-1"],
  // mount_attr: RELATIME (0) and the _ATIME mask never print; 0x40 is inside the atime field but unnamed
  ["mount_attr", 0, "0"],
  [
    "mount_attr",
    0x70 + 0x100000 + 0x200000 + 0x80 + 0xf,
    "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC|MOUNT_ATTR_NOATIME|MOUNT_ATTR_STRICTATIME|MOUNT_ATTR_NODIRATIME|MOUNT_ATTR_IDMAP|MOUNT_ATTR_NOSYMFOLLOW|0x40"
  ],
  // u64 attr_set = -1: every bit
  [
    "mount_attr",
    -1,
    "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC|MOUNT_ATTR_NOATIME|MOUNT_ATTR_STRICTATIME|MOUNT_ATTR_NODIRATIME|MOUNT_ATTR_IDMAP|MOUNT_ATTR_NOSYMFOLLOW|0xffffffffffcfff40"
  ],
  // clone / unshare (strace) and clone3 flags above 2^31
  [
    "clone",
    0x7e020080,
    "CLONE_NEWTIME|CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET"
  ],
  ["clone", 0, "0"],
  ["clone", 0x100 + 0x80000000 + 0x100000000 + 0x200000000, "CLONE_VM|CLONE_IO|CLONE_CLEAR_SIGHAND|CLONE_INTO_CGROUP"],
  ["clone", 0x200000000 + 0x10000000000, "CLONE_INTO_CGROUP|0x10000000000"],
  ["clone", 0x200000000n + 0x20000n, "CLONE_NEWNS|CLONE_INTO_CGROUP"],
  ["clone", 2n ** 63n, "0x8000000000000000"],
  ["clone", 0x11, "0x11"],
  ["signal", 9, "SIGKILL"],
  ["signal", 32, "SIGRTMIN"],
  ["signal", 64, "SIGRTMAX"],
  ["signal", 33, "33"],
  ["signal", 0, "0"],
  ["signal", -1, "-1"],
  ["sa", 0x04000000 + 0x10000000 + 4, "SA_SIGINFO|SA_RESTORER|SA_RESTART"],
  ["sa", 0x80000000 + 0x40000000, "SA_NODEFER|SA_RESETHAND"],
  [
    "wait",
    0xe100000f,
    "WNOHANG|WUNTRACED|WEXITED|WCONTINUED|WNOWAIT|__WNOTHREAD|__WALL|__WCLONE"
  ],
  ["wait", 0, "0"],
  ["idtype", 3, "P_PIDFD"],
  ["idtype", 7, "7"],
  ["pidfd", 0x880, "PIDFD_NONBLOCK|PIDFD_THREAD"],
  ["cap", 5, "CAP_KILL"],
  ["cap", 21, "CAP_SYS_ADMIN"],
  ["cap", 40, "CAP_CHECKPOINT_RESTORE"],
  ["cap", 41, "41"],
  ["securebits", 0x55, "SECBIT_NOROOT|SECBIT_NO_SETUID_FIXUP|SECBIT_KEEP_CAPS|SECBIT_NO_CAP_AMBIENT_RAISE"],
  [
    "container",
    0x342,
    "CONTAINER_NEW_EMPTY_FS_NS|CONTAINER_NEW_PID_NS|CONTAINER_KILL_ON_CLOSE|CONTAINER_FD_CLOEXEC"
  ],
  ["container", 0x400, "0x400"],
  ["keyctl", 0, "KEYCTL_GET_KEYRING_ID"],
  ["keyctl", 30, "KEYCTL_MOVE"],
  ["keyctl", 32, "KEYCTL_WATCH_KEY"],
  ["keyctl", 1031, "KEYCTL_CONTAINER_INTERCEPT"],
  ["keyctl", 1035, "KEYCTL_GRANT_PERMISSION"],
  ["keyctl", -5, "-5"],
  ["key_spec", -3, "KEY_SPEC_SESSION_KEYRING"],
  ["key_ace", 0x9, "KEY_ACE_VIEW|KEY_ACE_SEARCH"],
  ["prctl", 47, "PR_CAP_AMBIENT"],
  ["prctl", 38, "PR_SET_NO_NEW_PRIVS"],
  ["prctl", 999, "999"],
  [
    "poll",
    0xffff,
    "POLLIN|POLLPRI|POLLOUT|POLLERR|POLLHUP|POLLNVAL|POLLRDNORM|POLLRDBAND|POLLWRNORM|POLLWRBAND|POLLMSG|POLLREMOVE|POLLRDHUP|0xc800"
  ],
  ["poll", 0x2001, "POLLIN|POLLRDHUP"],
  ["rename", 0x17, "RENAME_NOREPLACE|RENAME_EXCHANGE|RENAME_WHITEOUT|0x10"],
  ["at", 0x200, "AT_REMOVEDIR"],
  [
    "at",
    0x100 + 0x200 + 0x800 + 0x1000 + 0x2000 + 0x4000 + 0x8000,
    "AT_SYMLINK_NOFOLLOW|AT_REMOVEDIR|AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC|AT_RECURSIVE"
  ],
  ["at", 0, "0"],
  ["resolve", 0x18, "RESOLVE_BENEATH|RESOLVE_IN_ROOT"],
  ["resolve", 0x40, "0x40"],
  // statx: the composite names win (strace)
  ["statx_mask", 0x7ff, "STATX_BASIC_STATS"],
  ["statx_mask", 0xfff + 0x1000 + 0x2000, "STATX_ALL|STATX_MNT_ID|STATX_DIOALIGN"],
  ["statx_mask", 0x3 + 0x80000000, "STATX_TYPE|STATX_MODE|STATX__RESERVED"],
  ["st", 0x1021, "ST_RDONLY|ST_VALID|ST_RELATIME"],
  // sockets (strace)
  ["sock_type", 1 + 0o2000000 + 0o4000, "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK"],
  ["sock_type", 3, "SOCK_RAW"],
  ["sock_type", 2 + 0o4000, "SOCK_DGRAM|SOCK_NONBLOCK"],
  ["sock_type", 0xf, "0xf"],
  ["sock_type", 0, "0"],
  ["af", 1, "AF_UNIX"],
  ["af", 10, "AF_INET6"],
  ["af", 16, "AF_NETLINK"],
  ["af", 99, "99"],
  ["seek", 4, "SEEK_HOLE"],
  ["seek", 9, "9"],
  ["fcntl_cmd", 1030, "F_DUPFD_CLOEXEC"],
  ["fcntl_cmd", 4, "F_SETFL"],
  ["fcntl_cmd", 999, "999"]
]

describe("formatFlags", () => {
  it("prints like strace", () => {
    for (const [kind, value, expected] of FORMAT_CASES) {
      expect(formatFlags(kind, value), `${kind} ${value}`).toBe(expected)
    }
  })

  it("never throws, whatever it is given", () => {
    const kinds = Object.keys(FLAG_KINDS) as Array<FlagKindName>
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.oneof(fc.double(), fc.integer(), fc.bigInt(), fc.maxSafeInteger()),
        (kind, v) => {
          expect(typeof formatFlags(kind, v)).toBe("string")
        }
      )
    )
    expect(formatFlags("ms", 1.5)).toBe("1.5")
    expect(formatFlags("clone", Number.NaN)).toBe("NaN")
    expect(formatFlags("nope" as FlagKindName, 3)).toBe("3")
  })
})

/** Every flag expression the conformance scenarios use, with its value. */
const SCENARIO_EXPRESSIONS: ReadonlyArray<readonly [string, number]> = [
  ["01444", 804],
  ["01777", 1023],
  ["0600", 384],
  ["0644", 420],
  ["0666", 438],
  ["0700", 448],
  ["0755", 493],
  ["0777", 511],
  ["0x1", 1],
  ["0x10", 16],
  ["0x100", 256],
  ["0x2", 2],
  ["0x80000000", 2147483648],
  ["0xFFFFFFFF", 4294967295],
  ["1", 1],
  ["100", 100],
  ["AT_EMPTY_PATH", 4096],
  ["AT_EMPTY_PATH|OPEN_TREE_CLONE", 4097],
  ["AT_FDCWD", -100],
  ["AT_RECURSIVE", 32768],
  ["AT_REMOVEDIR", 512],
  ["AT_SYMLINK_FOLLOW", 1024],
  ["AT_SYMLINK_NOFOLLOW", 256],
  ["AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT", 2304],
  ["CLONE_NEWNS", 131072],
  ["CLONE_NEWUSER|CLONE_NEWNS", 268566528],
  ["FSCONFIG_CMD_CREATE", 6],
  ["FSCONFIG_CMD_CREATE_EXCL", 8],
  ["FSCONFIG_CMD_RECONFIGURE", 7],
  ["FSCONFIG_SET_BINARY", 2],
  ["FSCONFIG_SET_FD", 5],
  ["FSCONFIG_SET_FLAG", 0],
  ["FSCONFIG_SET_PATH", 3],
  ["FSCONFIG_SET_PATH_EMPTY", 4],
  ["FSCONFIG_SET_STRING", 1],
  ["FSMOUNT_CLOEXEC", 1],
  ["FSOPEN_CLOEXEC", 1],
  ["FSPICK_CLOEXEC", 1],
  ["FSPICK_EMPTY_PATH", 8],
  ["FSPICK_NO_AUTOMOUNT", 4],
  ["FSPICK_NO_AUTOMOUNT|FSPICK_CLOEXEC", 5],
  ["FSPICK_SYMLINK_NOFOLLOW", 2],
  ["MNT_DETACH", 2],
  ["MOUNT_ATTR_IDMAP", 1048576],
  ["MOUNT_ATTR_NOATIME", 16],
  ["MOUNT_ATTR_NOATIME|MOUNT_ATTR_STRICTATIME", 48],
  ["MOUNT_ATTR_NODEV", 4],
  ["MOUNT_ATTR_NODIRATIME", 128],
  ["MOUNT_ATTR_NOEXEC", 8],
  ["MOUNT_ATTR_NOSUID", 2],
  ["MOUNT_ATTR_NOSYMFOLLOW", 2097152],
  ["MOUNT_ATTR_RDONLY", 1],
  ["MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOEXEC|MOUNT_ATTR_NOATIME", 25],
  ["MOUNT_ATTR_RELATIME", 0],
  ["MOUNT_ATTR_STRICTATIME", 32],
  ["MOUNT_ATTR__ATIME", 112],
  ["MOVE_MOUNT_BENEATH|MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH", 580],
  ["MOVE_MOUNT_F_EMPTY_PATH", 4],
  ["MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_BENEATH", 516],
  ["MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH", 68],
  ["MOVE_MOUNT_SET_GROUP", 256],
  ["MS_BIND", 4096],
  ["MS_MOVE", 8192],
  ["MS_NOATIME|MS_NODEV", 1028],
  ["MS_PRIVATE", 262144],
  ["MS_RDONLY|MS_NOSUID", 3],
  ["MS_REMOUNT|MS_BIND", 4128],
  ["MS_REMOUNT|MS_BIND|MS_RDONLY", 4129],
  ["MS_SHARED", 1048576],
  ["MS_SHARED|MS_REC", 1064960],
  ["MS_SHARED|MS_SLAVE", 1572864],
  ["MS_SLAVE", 524288],
  ["MS_SLAVE|MS_PRIVATE", 786432],
  ["MS_UNBINDABLE", 131072],
  ["OPEN_TREE_CLOEXEC|OPEN_TREE_CLONE", 524289],
  ["OPEN_TREE_CLONE", 1],
  ["OPEN_TREE_CLONE|AT_EMPTY_PATH", 4097],
  ["O_CREAT|O_DIRECTORY", 65600],
  ["O_CREAT|O_EXCL|O_WRONLY", 193],
  ["O_CREAT|O_RDWR", 66],
  ["O_CREAT|O_WRONLY", 65],
  ["O_CREAT|O_WRONLY|O_CLOEXEC", 524353],
  ["O_DIRECTORY", 65536],
  ["O_PATH", 2097152],
  ["O_PATH|O_DIRECTORY", 2162688],
  ["O_PATH|O_NOFOLLOW", 2228224],
  ["O_RDONLY", 0],
  ["O_RDONLY|O_DIRECTORY", 65536],
  ["O_RDONLY|O_NOFOLLOW", 131072],
  ["O_RDONLY|O_NONBLOCK", 2048],
  ["O_RDWR|O_CREAT", 66],
  ["O_TMPFILE|O_RDWR", 4259842],
  ["O_WRONLY", 1],
  ["S_IFBLK|0600", 24960],
  ["S_IFCHR|0666", 8630],
  ["S_IFIFO|0644", 4516],
  ["S_IFIFO|0666", 4534],
  ["S_IFREG|0600", 33152],
  ["UMOUNT_NOFOLLOW", 8],
]

describe("parseFlags", () => {
  it("reads every number form", () => {
    const cases: ReadonlyArray<readonly [string | number, number | undefined]> = [
      ["0x10", 16],
      ["0X1f", 31],
      ["0xFFFFFFFF", 4294967295],
      ["0o17", 15],
      ["0O17", 15],
      ["0755", 0o755],
      ["01777", 0o1777],
      ["0", 0],
      ["00", 0],
      ["000", 0],
      ["42", 42],
      ["-1", -1],
      ["-100", -100],
      ["-0x10", -16],
      [7, 7],
      [-1, -1],
      [0x200000000, 0x200000000],
      ["0x1fffffffffffff", Number.MAX_SAFE_INTEGER],
      // rejected: not octal, empty, dangling prefixes, beyond 2^53, non-integers
      ["08", undefined],
      ["0x", undefined],
      ["0o", undefined],
      ["0o8", undefined],
      ["1e3", undefined],
      ["1.5", undefined],
      ["", undefined],
      ["   ", undefined],
      ["0x20000000000000", undefined],
      [1.5, undefined],
      [Number.NaN, undefined],
      [2 ** 60, undefined]
    ]
    for (const [expr, expected] of cases) expect(parseFlags(expr), String(expr)).toBe(expected)
  })

  it("ORs names and numbers, with whitespace around tokens", () => {
    expect(parseFlags("MS_REC|MS_PRIVATE")).toBe(0x44000)
    expect(parseFlags(" MS_REC | MS_PRIVATE ")).toBe(0x44000)
    expect(parseFlags("O_CREAT|O_WRONLY|0x10|0755")).toBe(0o100 | 0o1 | 0x10 | 0o755)
    expect(parseFlags("S_IFDIR|0755")).toBe(0o40755)
    expect(parseFlags("O_RDWR|O_RDWR")).toBe(2)
    expect(parseFlags("MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_CONTAINER_ROOT")).toBe(0x84)
    expect(parseFlags("FSCONFIG_SET_CONTAINER")).toBe(9)
  })

  it("ORs flags above 2^31 exactly", () => {
    expect(parseFlags("CLONE_INTO_CGROUP|CLONE_CLEAR_SIGHAND|CLONE_IO")).toBe(0x380000000)
    expect(parseFlags("CLONE_NEWUSER|CLONE_INTO_CGROUP|0x80000000")).toBe(0x290000000)
    expect(parseFlags("MS_NOUSER|MS_RDONLY")).toBe(0x80000001)
    expect(parseFlags("0xffffffff|0x100000000")).toBe(0x1ffffffff)
  })

  it("passes a lone negative value as is, and rejects one inside an OR", () => {
    expect(parseFlags("-1")).toBe(-1)
    expect(parseFlags("AT_FDCWD")).toBe(-100)
    expect(parseFlags("KEY_SPEC_SESSION_KEYRING")).toBe(-3)
    expect(parseFlags("MS_REC|-1")).toBeUndefined()
    expect(parseFlags("AT_FDCWD|AT_EMPTY_PATH")).toBeUndefined()
  })

  it("returns undefined for unknown names and empty terms", () => {
    expect(parseFlags("MS_BOGUS")).toBeUndefined()
    expect(parseFlags("MS_REC|MS_BOGUS")).toBeUndefined()
    expect(parseFlags("MS_REC||MS_BIND")).toBeUndefined()
    expect(parseFlags("MS_REC|")).toBeUndefined()
    expect(parseFlags("ms_rec")).toBeUndefined()
    expect(parseFlags("signalName")).toBeUndefined()
    expect(parseFlags("constructor")).toBeUndefined()
  })

  it("knows every exported constant by name", () => {
    let n = 0
    for (const [name, v] of Object.entries(Abi)) {
      if (typeof v !== "number") continue
      expect(parseFlags(name), name).toBe(v)
      n++
    }
    expect(n).toBeGreaterThan(500)
  })

  it("evaluates every flag expression of the conformance scenarios", () => {
    expect(SCENARIO_EXPRESSIONS.length).toBe(99)
    for (const [expr, expected] of SCENARIO_EXPRESSIONS) expect(parseFlags(expr), expr).toBe(expected)
  })

  it("reads back what formatFlags printed", () => {
    for (const [kind, value, text] of FORMAT_CASES) {
      const v = BigInt(value)
      const asFlags = FLAG_KINDS[kind].style === "enum" ? v : BigInt.asUintN(64, v)
      const expected = asFlags <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(asFlags) : undefined
      expect(parseFlags(text), `${kind} ${text}`).toBe(expected)
    }
  })
})

describe("round trip: parseFlags(formatFlags(kind, v)) === v", () => {
  const positions = Array.from({ length: 53 }, (_, i) => 2n ** BigInt(i))
  const or = (xs: ReadonlyArray<bigint>): bigint => xs.reduce((a, b) => a | b, 0n)

  for (const [kind, def] of Object.entries(FLAG_KINDS)) {
    if (def.style === "enum" || def.style === "mode") continue
    it(`${kind}: known bits plus unknown bits`, () => {
      const bits = def.table.map(([, v]) => BigInt(v)).filter((b) => b !== 0n)
      const known = or(bits)
      const unknown = positions.filter((p) => (p & known) === 0n)
      fc.assert(
        fc.property(fc.subarray(bits), fc.subarray(unknown), (k, u) => {
          const v = Number(or(k) | or(u))
          expect(parseFlags(formatFlags(kind as FlagKindName, v))).toBe(v)
        })
      )
    })
  }

  it("mode: every 16-bit mode", () => {
    for (let v = 0; v <= 0o177777; v++) {
      if (parseFlags(formatFlags("mode", v)) !== v) expect(formatFlags("mode", v)).toBe(v)
    }
  })

  it("enums: any safe integer, negative ones included", () => {
    const enums = Object.entries(FLAG_KINDS).filter(([, d]) => d.style === "enum").map(([k]) => k as FlagKindName)
    fc.assert(
      fc.property(
        fc.constantFrom(...enums),
        fc.oneof(fc.integer({ min: -2000, max: 2000 }), fc.maxSafeInteger(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map((n) => -n)),
        (kind, v) => {
          expect(parseFlags(formatFlags(kind, v))).toBe(v)
        }
      )
    )
  })
})
