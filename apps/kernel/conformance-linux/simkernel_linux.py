#!/usr/bin/env python3
"""simkernel_linux.py - simkernel's real-kernel conformance runner.

Replays simkernel conformance scenario files (conformance/FORMAT.md) on the
running Linux kernel and writes the results in the project's JSON result
format, so that the simulated kernel and the real one can be compared.

  python3 simkernel_linux.py run   SCENARIOS.json [--out RESULTS.json] [--only NAME ...]
  python3 simkernel_linux.py check SCENARIOS.json --expected EXPECTED.json [--only NAME ...]
                                   [--blocklist FILE]
  python3 simkernel_linux.py show  NAME ... --scenarios SCENARIOS.json

Needs Linux on x86_64, root, Python >= 3.8; standard library and ctypes only.
Exit codes: 0 ok, 1 mismatch (check), runner errors (run) or a changed host
mount table, 2 cannot run here.

How it works
  * Every scenario runs in a forked "scenario process" that becomes the
    scenario's world (new mount + IPC namespace, everything made private, an
    empty tmpfs pivot_root'ed as "/", old root detached, umask 022, default
    signal dispositions, its own session). It sends its results back to the
    runner through a pipe; the runner then SIGKILLs whatever is left of the
    session and removes the scratch directory.
  * Steps are raw system calls (ctypes syscall()), observation calls built
    from one or two system calls, and process steps (fork, waitpid, ...).
  * Ordering rule (FORMAT.md 5.4): all processes of a scenario share an
    anonymous MAP_SHARED table in which each announces what it is doing
    (running, blocked in a step's syscall, waiting after a step, waiting for
    a new child). A process that finished a step waits until every other one
    is dead, stopped, asleep in the syscall of its blocking step with no
    signal pending (checked in the host /proc), or itself waiting. Among
    processes waiting after a step, the one whose step was caused last goes
    first: each step takes a ticket when it starts, and a blocking step that
    really slept takes a new one when it returns, so a woken process ranks
    after the process that woke it.
"""

import argparse
import ctypes
import errno as _errno
import json
import mmap
import os
import platform
import re
import select
import signal
import struct
import sys
import tempfile
import time

FORMAT_VERSION = 1
TREE_LIMIT = 2000
SETTLE_TIMEOUT = 10.0        # seconds a process waits for the others to go quiet
SCENARIO_TIMEOUT = 30.0      # seconds the runner waits for one scenario
RUNNER_FD_BASE = 700         # runner-private descriptors live at or above this

# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------

# x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl)
SYS = {
    "read": 0, "write": 1, "close": 3, "poll": 7, "pause": 34, "getpid": 39,
    "exit_group": 231, "wait4": 61, "kill": 62, "fcntl": 72, "chdir": 80,
    "fchdir": 81, "getppid": 110, "fstatfs": 138, "pivot_root": 155,
    "prctl": 157, "mount": 165, "umount2": 166, "clock_nanosleep": 230,
    "openat": 257, "mkdirat": 258, "mknodat": 259, "newfstatat": 262,
    "unlinkat": 263, "symlinkat": 266, "unshare": 272, "setns": 308,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "pidfd_open": 434, "mount_setattr": 442,
    "open_tree_attr": 467, "readlinkat": 267, "chroot": 161,
    "sethostname": 170, "setgroups": 116, "setresuid": 117, "setresgid": 119,
}

# Constant names a scenario may use in a flags/int expression.
CONST = {
    # fcntl.h: *at() flags and dirfd
    "AT_FDCWD": -100, "AT_SYMLINK_NOFOLLOW": 0x100, "AT_REMOVEDIR": 0x200,
    "AT_SYMLINK_FOLLOW": 0x400, "AT_NO_AUTOMOUNT": 0x800,
    "AT_EMPTY_PATH": 0x1000, "AT_RECURSIVE": 0x8000,
    # asm-generic/fcntl.h open flags (x86_64)
    "O_RDONLY": 0o0, "O_WRONLY": 0o1, "O_RDWR": 0o2, "O_CREAT": 0o100,
    "O_EXCL": 0o200, "O_NOCTTY": 0o400, "O_TRUNC": 0o1000, "O_APPEND": 0o2000,
    "O_NONBLOCK": 0o4000, "O_DIRECTORY": 0o200000, "O_NOFOLLOW": 0o400000,
    "O_CLOEXEC": 0o2000000, "O_PATH": 0o10000000, "O_TMPFILE": 0o20200000,
    # stat.h file types
    "S_IFMT": 0o170000, "S_IFSOCK": 0o140000, "S_IFLNK": 0o120000,
    "S_IFREG": 0o100000, "S_IFBLK": 0o60000, "S_IFDIR": 0o40000,
    "S_IFCHR": 0o20000, "S_IFIFO": 0o10000,
    # mount(2)
    "MS_RDONLY": 1, "MS_NOSUID": 2, "MS_NODEV": 4, "MS_NOEXEC": 8,
    "MS_SYNCHRONOUS": 0x10, "MS_REMOUNT": 0x20, "MS_MANDLOCK": 0x40,
    "MS_DIRSYNC": 0x80, "MS_NOSYMFOLLOW": 0x100, "MS_NOATIME": 0x400,
    "MS_NODIRATIME": 0x800, "MS_BIND": 0x1000, "MS_MOVE": 0x2000,
    "MS_REC": 0x4000, "MS_SILENT": 0x8000, "MS_UNBINDABLE": 0x20000,
    "MS_PRIVATE": 0x40000, "MS_SLAVE": 0x80000, "MS_SHARED": 0x100000,
    "MS_RELATIME": 0x200000, "MS_STRICTATIME": 0x1000000,
    "MS_LAZYTIME": 0x2000000,
    # umount2(2)
    "MNT_FORCE": 1, "MNT_DETACH": 2, "MNT_EXPIRE": 4, "UMOUNT_NOFOLLOW": 8,
    # open_tree(2)
    "OPEN_TREE_CLONE": 1, "OPEN_TREE_CLOEXEC": 0x80000,
    # move_mount(2)
    "MOVE_MOUNT_F_SYMLINKS": 1, "MOVE_MOUNT_F_AUTOMOUNTS": 2,
    "MOVE_MOUNT_F_EMPTY_PATH": 4, "MOVE_MOUNT_T_SYMLINKS": 0x10,
    "MOVE_MOUNT_T_AUTOMOUNTS": 0x20, "MOVE_MOUNT_T_EMPTY_PATH": 0x40,
    "MOVE_MOUNT_SET_GROUP": 0x100, "MOVE_MOUNT_BENEATH": 0x200,
    "MOVE_MOUNT__MASK": 0x377,
    # fsopen / fspick / fsmount
    "FSOPEN_CLOEXEC": 1, "FSPICK_CLOEXEC": 1, "FSPICK_SYMLINK_NOFOLLOW": 2,
    "FSPICK_NO_AUTOMOUNT": 4, "FSPICK_EMPTY_PATH": 8, "FSMOUNT_CLOEXEC": 1,
    # enum fsconfig_command
    "FSCONFIG_SET_FLAG": 0, "FSCONFIG_SET_STRING": 1,
    "FSCONFIG_SET_BINARY": 2, "FSCONFIG_SET_PATH": 3,
    "FSCONFIG_SET_PATH_EMPTY": 4, "FSCONFIG_SET_FD": 5,
    "FSCONFIG_CMD_CREATE": 6, "FSCONFIG_CMD_RECONFIGURE": 7,
    "FSCONFIG_CMD_CREATE_EXCL": 8,
    # struct mount_attr
    "MOUNT_ATTR_RDONLY": 1, "MOUNT_ATTR_NOSUID": 2, "MOUNT_ATTR_NODEV": 4,
    "MOUNT_ATTR_NOEXEC": 8, "MOUNT_ATTR__ATIME": 0x70,
    "MOUNT_ATTR_RELATIME": 0, "MOUNT_ATTR_NOATIME": 0x10,
    "MOUNT_ATTR_STRICTATIME": 0x20, "MOUNT_ATTR_NODIRATIME": 0x80,
    "MOUNT_ATTR_IDMAP": 0x100000, "MOUNT_ATTR_NOSYMFOLLOW": 0x200000,
    "MOUNT_ATTR_SIZE_VER0": 0x20,
    # sched.h
    "CLONE_FS": 0x200, "CLONE_FILES": 0x400, "CLONE_NEWNS": 0x20000,
    "CLONE_NEWCGROUP": 0x2000000, "CLONE_NEWUTS": 0x4000000,
    "CLONE_NEWIPC": 0x8000000, "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000, "CLONE_NEWNET": 0x40000000,
    # process steps (simkernel additions): wait options, prctl options
    "WNOHANG": 1, "WUNTRACED": 2, "WSTOPPED": 2, "WEXITED": 4,
    "WCONTINUED": 8, "WNOWAIT": 0x1000000, "__WNOTHREAD": 0x20000000,
    "__WALL": 0x40000000, "__WCLONE": 0x80000000,
    "PR_SET_PDEATHSIG": 1, "PR_GET_PDEATHSIG": 2,
    "PR_SET_CHILD_SUBREAPER": 36, "PR_GET_CHILD_SUBREAPER": 37,
    # sockets (only used as container_socket arguments)
    "AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16,
    "SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3, "SOCK_SEQPACKET": 5,
    "SOCK_NONBLOCK": 0o4000, "SOCK_CLOEXEC": 0o2000000, "NETLINK_ROUTE": 0,
    # container.h from the seed patch (calls Linux lacks)
    "CONTAINER_NEW_FS_NS": 0x1, "CONTAINER_NEW_EMPTY_FS_NS": 0x2,
    "CONTAINER_NEW_CGROUP_NS": 0x4, "CONTAINER_NEW_UTS_NS": 0x8,
    "CONTAINER_NEW_IPC_NS": 0x10, "CONTAINER_NEW_USER_NS": 0x20,
    "CONTAINER_NEW_PID_NS": 0x40, "CONTAINER_NEW_NET_NS": 0x80,
    "CONTAINER_KILL_ON_CLOSE": 0x100, "CONTAINER_FD_CLOEXEC": 0x200,
    "CONTAINER__FLAG_MASK": 0x3ff,
}

SIGNALS = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5,
    "SIGABRT": 6, "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10,
    "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14,
    "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCONT": 18,
    "SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22,
    "SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25, "SIGVTALRM": 26,
    "SIGPROF": 27, "SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30, "SIGSYS": 31,
}
SIGNAME = {v: k for k, v in SIGNALS.items()}
CONST.update(SIGNALS)

POLLBITS = [("POLLIN", 0x1), ("POLLPRI", 0x2), ("POLLOUT", 0x4),
            ("POLLERR", 0x8), ("POLLHUP", 0x10), ("POLLNVAL", 0x20),
            ("POLLRDHUP", 0x2000)]
POLL_REQUEST = 0x1 | 0x2 | 0x4 | 0x2000

FS_MAGIC = {
    0x01021994: "tmpfs", 0x858458f6: "ramfs", 0x19800202: "mqueue",
    0x9fa0: "proc", 0x62656572: "sysfs", 0x1cd1: "devpts",
    0x63677270: "cgroup2", 0x27e0eb: "cgroup", 0x6e736673: "nsfs",
    0x50495045: "pipefs", 0x534f434b: "sockfs", 0x09041934: "anon_inodefs",
    0xef53: "ext4", 0x794c7630: "overlay", 0x42494e4d: "binfmt_misc",
    0x64626720: "debugfs", 0x74726163: "tracefs", 0x73636673: "securityfs",
    0xcafe4a11: "bpf", 0x958458f6: "hugetlbfs", 0x65735546: "fuse",
    0x9123683e: "btrfs", 0x58465342: "xfs", 0x73717368: "squashfs",
    0x62656570: "configfs", 0x0187: "autofs", 0x6c6f6f70: "binderfs",
}
STATFS_FLAGS = [("rdonly", 0x1), ("nosuid", 0x2), ("nodev", 0x4),
                ("noexec", 0x8), ("synchronous", 0x10), ("mandlock", 0x40),
                ("noatime", 0x400), ("nodiratime", 0x800),
                ("relatime", 0x1000), ("nosymfollow", 0x2000)]

ERRNO_ALIASES = {11: "EAGAIN", 35: "EDEADLK", 95: "EOPNOTSUPP"}

# call -> (argument kinds, returns a new fd)
REAL_CALLS = {
    "fsopen": (["str", "flags"], True),
    "fsconfig": (["fd", "flags", "str", "value", "aux"], False),
    "fsmount": (["fd", "flags", "flags"], True),
    "fspick": (["fd", "str", "flags"], True),
    "open_tree": (["fd", "str", "flags"], True),
    "open_tree_attr": (["fd", "str", "flags", "attr", "int"], True),
    "move_mount": (["fd", "str", "fd", "str", "flags"], False),
    "mount_setattr": (["fd", "str", "flags", "attr", "int"], False),
    "mount": (["str", "str", "str", "flags", "str"], False),
    "umount2": (["str", "flags"], False),
    "mkdirat": (["fd", "str", "flags"], False),
    "openat": (["fd", "str", "flags", "flags"], True),
    "mknodat": (["fd", "str", "flags", "dev"], False),
    "unlinkat": (["fd", "str", "flags"], False),
    "symlinkat": (["str", "fd", "str"], False),
    "close": (["fd"], False),
    "unshare": (["flags"], False),
    "setns": (["fd", "flags"], False),
    "fchdir": (["fd"], False),
    "chdir": (["str"], False),
    "chroot": (["str"], False),
    # credentials (FORMAT.md section 3); raw calls: glibc's wrappers change every thread
    "setresuid": (["int", "int", "int"], False),
    "setresgid": (["int", "int", "int"], False),
    "setgroups": (["int", "gids"], False),
    # a simkernel addition of FORMAT.md section 8: sethostname(name, len)
    "sethostname": (["str", "flags"], False),
}

OBSERVATIONS = {"mountinfo", "listdir", "stat", "statfs", "read", "fsmsg",
                "write", "nsfd", "cloexec", "same_file", "poll", "read_file",
                "readlink"}
PROCESS_CALLS = {"fork", "waitpid", "kill", "getpid", "getppid", "pause",
                 "exit", "prctl", "signal_ignore", "signal_default",
                 "signal_catch"}
# calls Linux does not have: answered with ENOSYS (conformance/FORMAT.md)
ENOSYS_CALLS = {"container_create", "fork_into_container", "container_wait",
                "container_kill", "container_socket"}

# steps during which a process may legitimately sleep, with the syscall it
# sleeps in (the ordering rule waits for processes blocked in these)
BLOCKING_STEP_NR = {"pause": SYS["pause"], "waitpid": SYS["wait4"],
                    "read": SYS["read"], "fsmsg": SYS["read"],
                    "write": SYS["write"], "openat": SYS["openat"]}

PF_EXITING = 0x4

# ---------------------------------------------------------------------------
# low level helpers
# ---------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class RunnerError(Exception):
    """A problem of the scenario file or of the runner, not a kernel result."""


def _signed64(v):
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= (1 << 63) else v


def _marshal(a):
    if a is None or isinstance(a, (bytes, ctypes.Array)):
        return a
    if isinstance(a, int):
        return ctypes.c_long(_signed64(a))
    return a


def syscall(name, *args):
    """Raw system call; returns the result or -errno."""
    ctypes.set_errno(0)
    r = _libc.syscall(ctypes.c_long(SYS[name]), *[_marshal(a) for a in args])
    if r == -1:
        e = ctypes.get_errno()
        if e:
            return -e
    return r


def errname(num):
    if num in ERRNO_ALIASES:
        return ERRNO_ALIASES[num]
    return _errno.errorcode.get(num, "E%d" % num)


def high_fd(fd):
    """Move a runner-private descriptor out of the scenario's fd range."""
    import fcntl
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, RUNNER_FD_BASE)
    os.close(fd)
    return new


def nap(seconds):
    """Sleep in clock_nanosleep(2), a syscall no step uses."""
    ts = struct.pack("<qq", int(seconds), int((seconds - int(seconds)) * 1e9))
    buf = ctypes.create_string_buffer(ts, 16)
    syscall("clock_nanosleep", 1, 0, buf, None)


_NUM_RE = re.compile(r"^-?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$")


def parse_number(tok):
    neg = tok.startswith("-")
    t = tok[1:] if neg else tok
    if t.lower().startswith("0x"):
        v = int(t[2:], 16)
    elif t.lower().startswith("0o"):
        v = int(t[2:], 8)
    elif len(t) > 1 and t.startswith("0"):
        v = int(t[1:], 8)
    else:
        v = int(t, 10)
    return -v if neg else v


def int_expr(v):
    """Evaluate a flags/int argument: an integer or "A|B|0x10|0755"."""
    if isinstance(v, bool) or v is None:
        raise RunnerError("expected an integer or flag expression, got %r" % (v,))
    if isinstance(v, int):
        return v
    if not isinstance(v, str) or not v.strip():
        raise RunnerError("bad flag expression %r" % (v,))
    total = 0
    for part in v.split("|"):
        tok = part.strip()
        if tok in CONST:
            total |= CONST[tok]
        elif _NUM_RE.match(tok):
            total |= parse_number(tok)
        else:
            raise RunnerError("unknown constant %r in %r" % (tok, v))
    return total


def signal_number(v):
    if isinstance(v, str) and v in SIGNALS:
        return SIGNALS[v]
    return int_expr(v)


# ---------------------------------------------------------------------------
# shared process table (one per scenario, MAP_SHARED so every process of the
# scenario sees it): used by the ordering rule
# ---------------------------------------------------------------------------

SLOT_SIZE = 64
MAX_SLOTS = 1000
ST_NONE, ST_RUN, ST_SETTLE, ST_FORKWAIT, ST_BLOCK = 0, 1, 2, 3, 4
# slot fields
F_PID, F_STATE, F_KEY, F_NR, F_SNAP = 0, 1, 2, 3, 4


class ProcTable:
    # header: [0] ticket counter, [8] number of slots in use
    # slot i: hostpid, state, key, blocking syscall nr, snapshot-taken flag

    def __init__(self):
        self.mem = mmap.mmap(-1, SLOT_SIZE * (MAX_SLOTS + 1),
                             mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def _get(self, off):
        return struct.unpack_from("<q", self.mem, off)[0]

    def _put(self, off, v):
        struct.pack_into("<q", self.mem, off, v)

    def ticket(self):
        t = self._get(0) + 1
        self._put(0, t)
        return t

    def new_slot(self):
        n = self._get(8) + 1
        if n > MAX_SLOTS:
            raise RunnerError("too many processes in one scenario")
        self._put(8, n)
        return n

    def field(self, slot, i):
        return self._get(slot * SLOT_SIZE + 8 * i)

    def set(self, slot, i, v):
        self._put(slot * SLOT_SIZE + 8 * i, v)

    def by_pid(self):
        out = {}
        for s in range(1, self._get(8) + 1):
            out[self.field(s, F_PID)] = s
        return out


# ---------------------------------------------------------------------------
# per-process scenario context
# ---------------------------------------------------------------------------

class Ctx:
    def __init__(self, procfd, table, sid):
        self.procfd = procfd
        self.table = table
        self.sid = sid
        self.vars = {}
        self.is_top = True
        self.out = None            # pipe to the parent (children only)
        self.slot = 0
        self.hostpid = 0
        self.forked = False        # any fork happened in this lineage
        self.child_pipes = []      # read ends of our children's result pipes
        self.inherited = []        # descriptors to close in a new child
        self.key = 0

    # -- argument conversion ------------------------------------------------
    def fd(self, v):
        if isinstance(v, str) and v.startswith("$"):
            name = v[1:]
            if name not in self.vars:
                raise RunnerError("unknown saved name %r" % v)
            return self.vars[name]
        return int_expr(v)

    def cstr(self, v):
        if v is None:
            return None
        if not isinstance(v, str):
            raise RunnerError("expected a string or null, got %r" % (v,))
        return v.encode("utf-8")

    def attr(self, v, size):
        if v is None:
            return None
        if not isinstance(v, dict):
            raise RunnerError("attr must be an object or null")
        unknown = set(v) - {"attr_set", "attr_clr", "propagation", "userns_fd", "tail"}
        if unknown:
            raise RunnerError("unknown attr fields %s" % sorted(unknown))
        m = (1 << 64) - 1
        head = struct.pack("<QQQQ",
                           int_expr(v.get("attr_set", 0)) & m,
                           int_expr(v.get("attr_clr", 0)) & m,
                           int_expr(v.get("propagation", 0)) & m,
                           self.fd(v.get("userns_fd", 0)) & m)
        tail = bytes(int(b) & 0xff for b in v.get("tail", []))
        body = head + tail
        length = max(len(body), size if isinstance(size, int) and size > 0 else 0)
        length = min(length, 1 << 20)
        return ctypes.create_string_buffer(body.ljust(length, b"\0"), max(length, 1))


def encode_dev(v):
    if isinstance(v, list):
        if len(v) != 2:
            raise RunnerError("dev must be [major, minor]")
        return os.makedev(int(v[0]), int(v[1])) & 0xffffffff
    return int_expr(v)


def convert(ctx, kinds, args):
    if len(args) != len(kinds):
        raise RunnerError("expected %d arguments, got %d" % (len(kinds), len(args)))
    out = []
    for i, (k, a) in enumerate(zip(kinds, args)):
        if k == "fd" or k == "aux":
            out.append(ctx.fd(a))
        elif k in ("str", "value"):
            out.append(ctx.cstr(a))
        elif k in ("flags", "int"):
            out.append(int_expr(a))
        elif k == "dev":
            out.append(encode_dev(a))
        elif k == "gids":
            if not isinstance(a, list) or not all(isinstance(g, int) for g in a):
                raise RunnerError("setgroups: the list must be an array of gids")
            out.append((ctypes.c_uint * max(len(a), 1))(*[g & 0xffffffff for g in a]))
        elif k == "attr":
            size = int_expr(args[i + 1]) if i + 1 < len(args) else 0
            out.append(ctx.attr(a, size))
        else:
            raise RunnerError("internal: kind %s" % k)
    return out


# ---------------------------------------------------------------------------
# /proc helpers
# ---------------------------------------------------------------------------

def proc_read(ctx, rel):
    try:
        fd = os.open(rel, os.O_RDONLY | os.O_CLOEXEC, dir_fd=ctx.procfd)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode("utf-8", "surrogateescape")
    except OSError:
        return None
    finally:
        os.close(fd)


def proc_write(ctx, rel, text):
    fd = os.open(rel, os.O_WRONLY | os.O_CLOEXEC, dir_fd=ctx.procfd)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# (st_dev, st_ino) of the UTS namespace the runner started in (set in the scenario process)
HOST_UTS = None


def uts_ns_id(procfd):
    st = os.stat("self/ns/uts", dir_fd=procfd)
    return (st.st_dev, st.st_ino)


def self_hostpid(procfd):
    return int(os.readlink("self", dir_fd=procfd))


def task_info(ctx, pid):
    """(state, session, flags) of a host pid, or None when gone."""
    text = proc_read(ctx, "%d/stat" % pid)
    if not text or ")" not in text:
        return None
    rest = text[text.rindex(")") + 2:].split()
    return rest[0], int(rest[3]), int(rest[6])


def session_pids(ctx):
    pids = []
    for name in os.listdir(ctx.procfd):
        if name.isdigit():
            info = task_info(ctx, int(name))
            if info is not None and info[1] == ctx.sid:
                pids.append(int(name))
    return pids


def signals_pending(ctx, pid):
    text = proc_read(ctx, "%d/status" % pid)
    if text is None:
        return False
    vals = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        if k in ("SigPnd", "ShdPnd", "SigBlk"):
            vals[k] = int(v.strip(), 16)
    return bool((vals.get("SigPnd", 0) | vals.get("ShdPnd", 0)) & ~vals.get("SigBlk", 0))


# sleeping_in() for a process whose /proc/PID/syscall the caller may not read
UNREADABLE = object()


def sleeping_in(ctx, pid):
    # a process that dropped its credentials (setresuid) may not read the
    # syscall file of another user's process (ptrace check, EACCES)
    try:
        os.close(os.open("%d/syscall" % pid, os.O_RDONLY | os.O_CLOEXEC, dir_fd=ctx.procfd))
    except PermissionError:
        return UNREADABLE
    except OSError:
        pass
    text = proc_read(ctx, "%d/syscall" % pid)
    if not text:
        return None
    tok = text.split()
    try:
        return int(tok[0])
    except (ValueError, IndexError):
        return None


def blocked_in_step(ctx, pid, slot):
    """Is process pid asleep inside the blocking step it announced?"""
    t = ctx.table
    if t.field(slot, F_STATE) != ST_BLOCK:
        return False
    if signals_pending(ctx, pid):
        return False
    nr = sleeping_in(ctx, pid)
    # unreadable: asleep (state S, checked by the caller) after announcing the step is taken as inside it
    return nr is UNREADABLE or nr == t.field(slot, F_NR)


def is_quiet(ctx, pid, slots):
    """Ordering rule: may another process take a step while pid is like this?"""
    info = task_info(ctx, pid)
    if info is None:
        return True
    state, _sid, flags = info
    if state in "ZXxTt":
        return True
    slot = slots.get(pid)
    if slot is not None:
        st = ctx.table.field(slot, F_STATE)
        if st == ST_FORKWAIT:
            return True
        if st == ST_SETTLE:
            # two processes waiting after a step: the one whose step was
            # caused later (the woken one) goes first
            return (ctx.table.field(slot, F_KEY), slot) < (ctx.key, ctx.slot)
    if state != "S":
        return False
    if flags & PF_EXITING:
        wchan = (proc_read(ctx, "%d/wchan" % pid) or "").strip()
        return wchan == "zap_pid_ns_processes"
    if slot is None:
        return False
    return blocked_in_step(ctx, pid, slot)


def drain_children(ctx):
    for fd in ctx.child_pipes:
        try:
            while os.read(fd, 65536):
                pass
        except (BlockingIOError, OSError):
            pass


def settle(ctx):
    """Wait until every other process of the scenario is quiet."""
    if not ctx.forked:
        return
    t = ctx.table
    t.set(ctx.slot, F_KEY, ctx.key)
    t.set(ctx.slot, F_STATE, ST_SETTLE)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    delay = 0.0002
    calm = 0
    try:
        while True:
            drain_children(ctx)
            slots = t.by_pid()
            busy = None
            for pid in session_pids(ctx):
                if pid != ctx.hostpid and not is_quiet(ctx, pid, slots):
                    busy = pid
                    break
            if busy is None:
                calm += 1
                if calm >= 2:       # twice, a moment apart: no wakeup in flight
                    return
                nap(0.0003)
                continue
            calm = 0
            if time.monotonic() > deadline:
                raise RunnerError("process %d did not settle within %ds" % (busy, SETTLE_TIMEOUT))
            nap(delay)
            delay = min(delay * 2, 0.003)
    finally:
        t.set(ctx.slot, F_STATE, ST_RUN)


# ---------------------------------------------------------------------------
# mount table and tree normalisation
# ---------------------------------------------------------------------------

_ESC = re.compile(r"\\([0-7]{3})")


def unescape(s):
    return _ESC.sub(lambda m: chr(int(m.group(1), 8)), s)


def normalise_mountinfo(text):
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        f = line.split(" ")
        sep = f.index("-", 6)
        rows.append({
            "kid": int(f[0]), "kparent": int(f[1]), "dev": f[2],
            "root": unescape(f[3]), "mountpoint": unescape(f[4]),
            "options": f[5], "optional": f[6:sep],
            "fstype": unescape(f[sep + 1]), "source": unescape(f[sep + 2]),
            "super": unescape(f[sep + 3]) if len(f) > sep + 3 else "",
        })
    ids = {r["kid"] for r in rows}
    kids = {}
    for r in rows:
        kids.setdefault(r["kparent"], []).append(r)

    def order(r):
        return (r["mountpoint"], r["fstype"], r["source"], r["root"])

    table, seen = [], set()

    def visit(r, parent_label):
        if r["kid"] in seen:
            return
        seen.add(r["kid"])
        label = "m%d" % len(table)
        table.append((r, parent_label))
        for c in sorted(kids.get(r["kid"], []), key=order):
            visit(c, label)

    for r in sorted((r for r in rows if r["kparent"] not in ids or r["kparent"] == r["kid"]), key=order):
        visit(r, None)
    for r in sorted(rows, key=order):          # anything unreachable (cycles)
        visit(r, None)

    sbs, groups, out = {}, {}, []
    for i, (r, parent) in enumerate(table):
        if r["dev"] not in sbs:
            sbs[r["dev"]] = "sb%d" % len(sbs)
        prop = []
        for opt in r["optional"]:
            tag, _, num = opt.partition(":")
            if num:
                if num not in groups:
                    groups[num] = "g%d" % (len(groups) + 1)
                prop.append("%s:%s" % (tag, groups[num]))
            else:
                prop.append(tag)
        out.append({"id": "m%d" % i, "parent": parent, "mountpoint": r["mountpoint"],
                    "root": r["root"], "fstype": r["fstype"], "source": r["source"],
                    "options": r["options"], "super": r["super"],
                    "sb": sbs[r["dev"]], "propagation": " ".join(prop) or "private"})
    return out


def mount_table(ctx):
    text = proc_read(ctx, "self/mountinfo")
    if text is None:
        raise RunnerError("cannot read mountinfo")
    return normalise_mountinfo(text)


def _type_letter(mode):
    return {0o040000: "d", 0o100000: "f", 0o120000: "l", 0o020000: "c",
            0o060000: "b", 0o010000: "p", 0o140000: "s"}.get(mode & 0o170000, "?")


def tree_entry(path, st):
    t = _type_letter(st.st_mode)
    s = "%s %04o" % (t, st.st_mode & 0o7777)
    if t == "f":
        s += " size=%d" % st.st_size
    elif t == "l":
        s += " -> " + os.readlink(path)
    elif t in "cb":
        s += " %d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    return s


def file_tree():
    entries = {}

    def walk(path):
        if len(entries) >= TREE_LIMIT:
            return
        try:
            st = os.lstat(path)
        except OSError:
            return
        entries[path] = tree_entry(path, st)
        if _type_letter(st.st_mode) != "d":
            return
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        for n in names:
            if len(entries) >= TREE_LIMIT:
                return
            walk(path.rstrip("/") + "/" + n)

    walk("/")
    return {k: entries[k] for k in sorted(entries)}


# ---------------------------------------------------------------------------
# read_file and readlink normalisation (FORMAT.md 4.1); the same rules as
# apps/kernel/src/conformance/procfsObserve.ts
# ---------------------------------------------------------------------------

READ_FORMATS = ("lines", "nul", "status", "stat", "host-status", "host-stat",
                "fdinfo", "mountinfo")
MASK = "*"
STATUS_MASKED = {"FDSize", "HugetlbPages", "THP_enabled", "untag_mask", "SigQ",
                 "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"}
STATUS_MASKED_PREFIXES = ("Vm", "Rss", "Speculation", "Cpus_allowed",
                          "Mems_allowed", "x86_")
FDINFO_MASKED = {"mnt_id", "ino"}
# pid-valued status keys and stat fields, masked by host-status / host-stat
STATUS_PIDS = {"Tgid", "Pid", "PPid", "TracerPid", "NStgid", "NSpid", "NSpgid", "NSsid"}
STAT_PIDS = {1, 4, 5, 6, 8}
STAT_MASKED = {9, 10, 11, 12, 13, 14, 15, 16, 17, 22, 23, 24, 26, 27, 28, 29,
               30, 39, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51}
_LINK_INUM = re.compile(r"^([A-Za-z_]+):\[[0-9]+\]$")


def _mask_keyed(line, masked):
    key, colon, _ = line.partition(":")
    if not colon:
        return line
    return "%s:\t%s" % (key, MASK) if masked(key) else line


def _status_masked(key):
    return key in STATUS_MASKED or key.startswith(STATUS_MASKED_PREFIXES)


def _mask_stat(line, pids):
    op, sh = line.find("("), line.rfind(")")
    if op < 1 or sh < op:
        return line
    rest = line[sh + 2:]
    fields = [line[:op - 1], line[op:sh + 1]] + (rest.split(" ") if rest else [])
    return " ".join(MASK if i + 1 in STAT_MASKED or (pids and i + 1 in STAT_PIDS) else f
                    for i, f in enumerate(fields))


def _mask_mountinfo(lines):
    split = [l.split(" ") for l in lines]

    def is_entry(f):
        return len(f) >= 10 and "-" in f[6:]

    mounts, devs, groups = {}, {}, {}

    def label(table, key, prefix):
        if key not in table:
            table[key] = "%s%d" % (prefix, len(table))
        return table[key]

    for f in split:
        if is_entry(f):
            label(mounts, f[0], "m")
    out = []
    for line, f in zip(lines, split):
        if not is_entry(f):
            out.append(line)
            continue
        sep = f.index("-", 6)
        parent = "top" if f[1] == f[0] or f[1] not in mounts else mounts[f[1]]
        optional = []
        for o in f[6:sep]:
            tag, colon, num = o.partition(":")
            if not colon:
                optional.append(o)
                continue
            if num not in groups:
                groups[num] = "g%d" % (len(groups) + 1)
            optional.append("%s:%s" % (tag, groups[num]))
        out.append(" ".join([mounts[f[0]], parent, label(devs, f[2], "d")] + f[3:6] + optional + f[sep:]))
    return out


def normalise_file_text(text, fmt, keep):
    items = text.split("\0" if fmt == "nul" else "\n")
    if fmt in ("status", "host-status"):
        host = fmt == "host-status"
        items = [_mask_keyed(l, lambda k: _status_masked(k) or (host and k in STATUS_PIDS)) for l in items]
    elif fmt == "fdinfo":
        items = [_mask_keyed(l, lambda k: k in FDINFO_MASKED) for l in items]
    elif fmt in ("stat", "host-stat"):
        items = [_mask_stat(l, fmt == "host-stat") for l in items]
    elif fmt == "mountinfo":
        items = _mask_mountinfo(items)
    if keep is None:
        return items
    return [l for l in items if any(p.search(l) for p in keep)]


def normalise_link(target):
    return _LINK_INUM.sub(lambda m: "%s:[%s]" % (m.group(1), MASK), target)


def read_file_options(fmt, keep):
    fmt = "lines" if fmt is None else fmt
    if fmt not in READ_FORMATS:
        raise RunnerError("read_file: format must be one of %s, got %r" % (", ".join(READ_FORMATS), fmt))
    if keep is None:
        return fmt, None
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        raise RunnerError("read_file: keep must be a list of patterns")
    try:
        return fmt, [re.compile(k) for k in keep]
    except re.error as e:
        raise RunnerError("read_file: bad pattern: %s" % e)


def read_whole(dirfd, path):
    """openat(O_RDONLY|O_CLOEXEC), read() to end of file, close: bytes or -errno."""
    fd = syscall("openat", dirfd, path, CONST["O_RDONLY"] | CONST["O_CLOEXEC"], 0)
    if fd < 0:
        return fd
    chunks = []
    try:
        buf = ctypes.create_string_buffer(65536)
        while True:
            r = syscall("read", fd, buf, 65536)
            if r < 0:
                return r
            if r == 0:
                return b"".join(chunks)
            chunks.append(buf.raw[:r])
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# observation calls
# ---------------------------------------------------------------------------

def raw_stat(dirfd, path, flags):
    buf = ctypes.create_string_buffer(256)
    r = syscall("newfstatat", dirfd, path, buf, flags)
    if r < 0:
        return r, None
    dev, ino = struct.unpack_from("<QQ", buf, 0)
    mode = struct.unpack_from("<I", buf, 24)[0]
    rdev, size = struct.unpack_from("<Qq", buf, 40)
    return 0, {"dev": dev, "ino": ino, "mode": mode, "rdev": rdev, "size": size}


def arg(args, i, default=None, required=True):
    if i < len(args):
        return args[i]
    if required:
        raise RunnerError("missing argument %d" % (i + 1))
    return default


def text_of(data):
    return data.decode("utf-8", "replace")


def observe(ctx, call, args):
    """Returns an int (>=0 fd/number, <0 -errno) or a result object."""
    if call == "mountinfo":
        return {"mounts": mount_table(ctx)}
    if call == "listdir":
        fd = syscall("openat", ctx.fd(arg(args, 0)), ctx.cstr(arg(args, 1)),
                     CONST["O_RDONLY"] | CONST["O_DIRECTORY"] | CONST["O_CLOEXEC"], 0)
        if fd < 0:
            return fd
        try:
            return {"names": sorted(os.listdir(fd))}
        except OSError as e:
            return -e.errno
        finally:
            os.close(fd)
    if call == "stat":
        r, st = raw_stat(ctx.fd(arg(args, 0)), ctx.cstr(arg(args, 1)),
                         int_expr(arg(args, 2, 0, False)))
        if r < 0:
            return r
        t = _type_letter(st["mode"])
        res = {"type": t, "mode": "%04o" % (st["mode"] & 0o7777)}
        if t == "f":
            res["size"] = st["size"]
        elif t in "cb":
            res["rdev"] = "%d:%d" % (os.major(st["rdev"]), os.minor(st["rdev"]))
        return res
    if call == "statfs":
        dirfd, path = ctx.fd(arg(args, 0)), ctx.cstr(arg(args, 1))
        own = None
        if path != b"":
            own = syscall("openat", dirfd, path, CONST["O_PATH"] | CONST["O_CLOEXEC"], 0)
            if own < 0:
                return own
            dirfd = own
        try:
            buf = ctypes.create_string_buffer(128)
            r = syscall("fstatfs", dirfd, buf)
            if r < 0:
                return r
            ftype = struct.unpack_from("<q", buf, 0)[0] & 0xffffffff
            fflags = struct.unpack_from("<q", buf, 80)[0]
            return {"fs": FS_MAGIC.get(ftype, "0x%x" % ftype),
                    "flags": [n for n, b in STATFS_FLAGS if fflags & b]}
        finally:
            if own is not None:
                os.close(own)
    if call in ("read", "fsmsg"):
        n = int_expr(arg(args, 1, 4096, call == "read"))
        buf = ctypes.create_string_buffer(max(n, 1))
        r = syscall("read", ctx.fd(arg(args, 0)), buf, n)
        if r < 0:
            return r
        return {"data": text_of(buf.raw[:r])}
    if call == "write":
        text = arg(args, 1)
        if not isinstance(text, str):
            raise RunnerError("write: text must be a string")
        data = text.encode("utf-8") * int_expr(arg(args, 2, 1, False))
        buf = ctypes.create_string_buffer(data, max(len(data), 1))
        return syscall("write", ctx.fd(arg(args, 0)), buf, len(data))
    if call == "nsfd":
        kind = arg(args, 0)
        if not isinstance(kind, str) or "/" in kind:
            raise RunnerError("nsfd: bad namespace kind %r" % (kind,))
        return syscall("openat", ctx.procfd, ("self/ns/" + kind).encode(),
                       CONST["O_RDONLY"] | CONST["O_CLOEXEC"], 0)
    if call == "cloexec":
        r = syscall("fcntl", ctx.fd(arg(args, 0)), 1, 0)   # F_GETFD
        if r < 0:
            return r
        return {"cloexec": bool(r & 1)}
    if call == "same_file":
        ids = []
        for i in (0, 2):
            r, st = raw_stat(ctx.fd(arg(args, i)), ctx.cstr(arg(args, i + 1)),
                             CONST["AT_EMPTY_PATH"])
            if r < 0:
                return r
            ids.append((st["dev"], st["ino"]))
        return {"same": ids[0] == ids[1]}
    if call == "poll":
        pfd = ctypes.create_string_buffer(struct.pack("<ihh", ctx.fd(arg(args, 0)), POLL_REQUEST, 0), 8)
        r = syscall("poll", pfd, 1, 0)
        if r < 0:
            return r
        rev = struct.unpack_from("<ihh", pfd, 0)[2] & 0xffff
        return {"revents": sorted(n for n, b in POLLBITS if rev & b)}
    if call == "read_file":
        fmt, keep = read_file_options(arg(args, 2, None, False), arg(args, 3, None, False))
        path = arg(args, 1)
        if not isinstance(path, str):
            raise RunnerError("read_file: the path must be a string")
        data = read_whole(ctx.fd(arg(args, 0)), path.encode("utf-8"))
        if isinstance(data, int):
            return data
        return {"lines": normalise_file_text(text_of(data), fmt, keep)}
    if call == "readlink":
        path = arg(args, 1)
        if not isinstance(path, str):
            raise RunnerError("readlink: the path must be a string")
        buf = ctypes.create_string_buffer(4096)
        r = syscall("readlinkat", ctx.fd(arg(args, 0)), path.encode("utf-8"), buf, 4096)
        if r < 0:
            return r
        return {"target": normalise_link(text_of(buf.raw[:r]))}
    raise RunnerError("unknown observation %r" % call)


# ---------------------------------------------------------------------------
# process steps
# ---------------------------------------------------------------------------

def wait_status(st):
    if st & 0x7f == 0:
        return {"exited": (st >> 8) & 0xff}
    if st & 0xff == 0x7f:
        s = (st >> 8) & 0xff
        return {"stopped": SIGNAME.get(s, s)}
    if st == 0xffff:
        return {"continued": True}
    s = st & 0x7f
    return {"signaled": SIGNAME.get(s, s)}


def scenario_pid_check(ctx, pid):
    """kill is limited to processes of the scenario (or to no process)."""
    pfd = syscall("pidfd_open", pid, 0)
    if pfd == -_errno.ESRCH:
        return
    if pfd < 0:
        raise RunnerError("kill: cannot identify pid %d (%s)" % (pid, errname(-pfd)))
    try:
        host = -1
        for line in (proc_read(ctx, "self/fdinfo/%d" % pfd) or "").splitlines():
            if line.startswith("Pid:"):
                host = int(line.split()[1])
    finally:
        os.close(pfd)
    info = task_info(ctx, host) if host > 0 else None
    if info is None or info[1] != ctx.sid:
        raise RunnerError("kill: pid %d is not a process of this scenario" % pid)


def _noop_handler(_sig, _frame):
    pass


def process_step(ctx, step):
    call = step["call"]
    args = step.get("args", [])
    if call == "fork":
        return do_fork(ctx, step)
    if call == "waitpid":
        pid = ctx.fd(arg(args, 0))
        opts = int_expr(arg(args, 1, 0, False))
        buf = ctypes.create_string_buffer(4)
        r = blocking(ctx, call, lambda: syscall("wait4", pid, buf, opts, None))
        if r < 0:
            return {"errno": errname(-r)}
        if r == 0:
            return {"ret": 0}
        return {"ret": wait_status(struct.unpack("<i", buf.raw)[0])}
    if call == "kill":
        pid, sig = ctx.fd(arg(args, 0)), signal_number(arg(args, 1))
        if pid <= 0:
            raise RunnerError("kill: only pids > 0 are supported")
        scenario_pid_check(ctx, pid)
        r = syscall("kill", pid, sig)
        return {"errno": errname(-r)} if r < 0 else {"ret": r}
    if call in ("getpid", "getppid"):
        return {"ret": syscall(call)}
    if call == "pause":
        if ctx.is_top:
            raise RunnerError("pause is only allowed in a child's steps")
        r = blocking(ctx, call, lambda: syscall("pause"))
        return {"errno": errname(-r)} if r < 0 else {"ret": r}
    if call == "exit":
        raise RunnerError("exit is only allowed in a child's steps")
    if call == "prctl":
        opt = int_expr(arg(args, 0))
        if opt in (CONST["PR_GET_CHILD_SUBREAPER"], CONST["PR_GET_PDEATHSIG"]):
            buf = ctypes.create_string_buffer(4)
            r = syscall("prctl", opt, buf, 0, 0, 0)
            if r < 0:
                return {"errno": errname(-r)}
            return {"ret": struct.unpack("<i", buf.raw)[0]}
        a2 = arg(args, 1, 0, False)
        r = syscall("prctl", opt, signal_number(a2), 0, 0, 0)
        return {"errno": errname(-r)} if r < 0 else {"ret": r}
    if call in ("signal_ignore", "signal_default", "signal_catch"):
        sig = signal_number(arg(args, 0))
        handler = {"signal_ignore": signal.SIG_IGN, "signal_default": signal.SIG_DFL,
                   "signal_catch": _noop_handler}[call]
        try:
            signal.signal(sig, handler)
        except OSError as e:
            return {"errno": errname(e.errno)}
        except (ValueError, RuntimeError):
            return {"errno": "EINVAL"}
        return {"ret": 0}
    raise RunnerError("unknown process call %r" % call)


def blocking(ctx, call, fn):
    """Run a step that may sleep, announcing it for the ordering rule."""
    t = ctx.table
    slept = _voluntary_switches()
    t.set(ctx.slot, F_NR, BLOCKING_STEP_NR[call])
    t.set(ctx.slot, F_STATE, ST_BLOCK)
    try:
        return fn()
    finally:
        t.set(ctx.slot, F_STATE, ST_RUN)
        if _voluntary_switches() != slept:
            # it really slept, so something else woke it: a woken process
            # ranks after its waker (whose key is its step's start)
            ctx.key = t.ticket()


def _voluntary_switches():
    import resource
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw


def child_exited(pid):
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def do_fork(ctx, step):
    steps = step.get("child", [])
    if not isinstance(steps, list):
        raise RunnerError("fork: child must be a list of steps")
    t = ctx.table
    r, w = os.pipe()
    r, w = high_fd(r), high_fd(w)
    cslot = t.new_slot()
    ctx.forked = True
    t.set(ctx.slot, F_STATE, ST_FORKWAIT)
    try:
        pid = os.fork()
    except OSError as e:
        t.set(ctx.slot, F_STATE, ST_RUN)
        os.close(r)
        os.close(w)
        if "save" in step:
            ctx.vars[step["save"]] = -1
        return {"errno": errname(e.errno)}
    if pid == 0:
        try:
            os.close(r)
            for fd in ctx.child_pipes + ctx.inherited:
                try:
                    os.close(fd)
                except OSError:
                    pass
            ctx.child_pipes, ctx.inherited = [], []
            ctx.is_top = False
            ctx.out = w
            ctx.slot = cslot
            ctx.hostpid = self_hostpid(ctx.procfd)
            t.set(cslot, F_PID, ctx.hostpid)
            t.set(cslot, F_STATE, ST_RUN)
            if "save" in step:
                ctx.vars[step["save"]] = 0
            child_main(ctx, steps)
        except BaseException as e:  # noqa: BLE001 - report, never unwind into the parent's code
            try:
                report(ctx, {"call": None, "runner_error": "child: %s: %s" % (type(e).__name__, e)})
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(0)
    os.close(w)
    os.set_blocking(r, False)
    ctx.child_pipes.append(r)
    if "save" in step:
        ctx.vars[step["save"]] = pid
    try:
        results = fork_wait(ctx, pid, cslot, r)
    finally:
        t.set(ctx.slot, F_STATE, ST_RUN)
    return {"ret": "pid", "child": results}


def fork_wait(ctx, pid, cslot, rfd):
    """Wait until the new child exited or blocked; return its step results."""
    t = ctx.table
    buf = bytearray()

    def drain():
        try:
            while True:
                b = os.read(rfd, 65536)
                if not b:
                    return
                buf.extend(b)
        except (BlockingIOError, OSError):
            return

    deadline = time.monotonic() + SETTLE_TIMEOUT
    delay = 0.0002
    while True:
        done = child_exited(pid)
        drain()
        if done:
            break
        chost = t.field(cslot, F_PID)
        if chost:
            info = task_info(ctx, chost)
            if info is None or info[0] in "ZXxTt":
                drain()
                break
            if info[0] == "S" and blocked_in_step(ctx, chost, cslot):
                drain()
                break
        if time.monotonic() > deadline:
            raise RunnerError("fork: child neither exited nor blocked within %ds" % SETTLE_TIMEOUT)
        nap(delay)
        delay = min(delay * 2, 0.003)
    t.set(cslot, F_SNAP, 1)          # the child stops reporting: snapshot taken
    drain()
    results = []
    for line in bytes(buf).split(b"\n"):
        if line.strip():
            results.append(json.loads(line.decode()))
    # later lines (should the child be woken) are drained and discarded
    return results


def child_main(ctx, steps):
    for step in steps:
        if not isinstance(step, dict) or "call" not in step:
            report(ctx, {"call": None, "runner_error": "bad step %r" % (step,)})
            continue
        if step["call"] == "exit":
            try:
                code = int_expr(arg(step.get("args", []), 0, 0, False))
            except RunnerError as e:
                report(ctx, {"call": "exit", "runner_error": str(e)})
                continue
            sys.stdout.flush()
            os._exit(code & 0xff)
        entry = run_step(ctx, step)
        if step["call"] == "pause" and "runner_error" not in entry:
            settle_after(ctx, entry)
            continue            # pause has no result entry
        settle_after(ctx, entry)
        report(ctx, entry)


def report(ctx, entry):
    if ctx.out is None or ctx.table.field(ctx.slot, F_SNAP):
        return
    data = (json.dumps(entry) + "\n").encode()
    view = memoryview(data)
    while view:
        n = os.write(ctx.out, view)
        view = view[n:]


# ---------------------------------------------------------------------------
# running one step
# ---------------------------------------------------------------------------

def run_step(ctx, step):
    call = step.get("call")
    entry = {"call": call}
    ctx.key = ctx.table.ticket()
    try:
        entry.update(dispatch(ctx, step))
    except RunnerError as e:
        entry["runner_error"] = str(e)
    except Exception as e:  # noqa: BLE001 - a runner bug must not kill the scenario
        entry["runner_error"] = "%s: %s" % (type(e).__name__, e)
    return entry


def settle_after(ctx, entry):
    try:
        settle(ctx)
    except RunnerError as e:
        entry.pop("ret", None)
        entry.pop("errno", None)
        entry.pop("child", None)
        entry["runner_error"] = str(e)


def dispatch(ctx, step):
    call = step.get("call")
    args = step.get("args", [])
    if not isinstance(args, list):
        raise RunnerError("args must be a list")
    save = step.get("save")
    if call == "sethostname" and uts_ns_id(ctx.procfd) == HOST_UTS:
        raise RunnerError("sethostname: only in a UTS namespace the scenario made (unshare(CLONE_NEWUTS) first), never the host's")
    if call in REAL_CALLS:
        kinds, gives_fd = REAL_CALLS[call]
        cargs = convert(ctx, kinds, args)
        if call in BLOCKING_STEP_NR:
            r = blocking(ctx, call, lambda: syscall(call, *cargs))
        else:
            r = syscall(call, *cargs)
        if r >= 0 and call == "unshare" and cargs[0] & CONST["CLONE_NEWUSER"]:
            try:
                proc_write(ctx, "self/setgroups", "deny")
                proc_write(ctx, "self/uid_map", "0 0 1")
                proc_write(ctx, "self/gid_map", "0 0 1")
            except OSError as e:
                raise RunnerError("user namespace id maps: %s" % e)
        if save is not None:
            ctx.vars[save] = r if r >= 0 else -1
        if r < 0:
            return {"errno": errname(-r)}
        return {"ret": "fd" if gives_fd else r}
    if call in OBSERVATIONS:
        if call in BLOCKING_STEP_NR:
            r = blocking(ctx, call, lambda: observe(ctx, call, args))
        else:
            r = observe(ctx, call, args)
        if save is not None and call == "nsfd":
            ctx.vars[save] = r if isinstance(r, int) and r >= 0 else -1
        if isinstance(r, int):
            if r < 0:
                return {"errno": errname(-r)}
            return {"ret": "fd" if call == "nsfd" else r}
        return {"ret": r}
    if call in PROCESS_CALLS:
        return process_step(ctx, step)
    if call in ENOSYS_CALLS:
        if save is not None:
            ctx.vars[save] = -1
        return {"errno": "ENOSYS"}
    raise RunnerError("unknown call %r" % (call,))


# ---------------------------------------------------------------------------
# one scenario: the world, the steps, the results
# ---------------------------------------------------------------------------

def reset_signals():
    for s in signal.valid_signals():
        if s in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(s, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def check(r, what):
    if r < 0:
        raise RunnerError("%s: %s" % (what, errname(-r)))


def build_world(scratch):
    """Turn this (forked) process into a scenario's starting world."""
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    check(syscall("unshare", CONST["CLONE_NEWNS"] | CONST["CLONE_NEWIPC"]), "unshare")
    check(syscall("mount", None, b"/", None, CONST["MS_REC"] | CONST["MS_PRIVATE"], None),
          "make-rprivate")
    check(syscall("mount", b"none", scratch.encode(), b"tmpfs", 0, b"mode=755"), "mount tmpfs")
    os.chdir(scratch)
    os.mkdir(".oldroot")
    check(syscall("pivot_root", b".", b".oldroot"), "pivot_root")
    os.chdir("/")
    check(syscall("umount2", b"/.oldroot", CONST["MNT_DETACH"]), "detach old root")
    os.rmdir("/.oldroot")
    os.umask(0o022)


def scenario_main(scenario, scratch, wfd):
    """Runs in the forked scenario process; never returns."""
    status = 0
    try:
        reset_signals()
        os.setsid()
        procfd = high_fd(os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        # the host's UTS namespace, which a sethostname step must never rename
        global HOST_UTS
        HOST_UTS = uts_ns_id(procfd)
        # the result pipe too: scenario descriptors start at 3 (FORMAT.md section 2)
        wfd = high_fd(wfd)
        keep = {0, 1, 2, procfd, wfd}
        for fd in os.listdir("/proc/self/fd"):
            fd = int(fd)
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        build_world(scratch)
        ctx = Ctx(procfd, ProcTable(), 0)
        ctx.hostpid = self_hostpid(procfd)
        ctx.sid = ctx.hostpid
        ctx.slot = ctx.table.new_slot()
        ctx.table.set(ctx.slot, F_PID, ctx.hostpid)
        ctx.table.set(ctx.slot, F_STATE, ST_RUN)
        ctx.inherited = [wfd]
        steps = []
        for step in scenario.get("steps", []):
            if not isinstance(step, dict) or "call" not in step:
                steps.append({"call": None, "runner_error": "bad step %r" % (step,)})
                continue
            entry = run_step(ctx, step)
            settle_after(ctx, entry)
            steps.append(entry)
        result = {"steps": steps}
        try:
            result["mounts"] = mount_table(ctx)
            result["tree"] = file_tree()
        except Exception as e:  # noqa: BLE001
            result["mounts"] = []
            result["tree"] = {}
            result["runner_error"] = "final state: %s: %s" % (type(e).__name__, e)
    except BaseException as e:  # noqa: BLE001
        result = {"steps": [], "mounts": [], "tree": {},
                  "runner_error": "setup: %s: %s" % (type(e).__name__, e)}
        status = 1
    try:
        data = json.dumps(result).encode()
        view = memoryview(data)
        while view:
            n = os.write(wfd, view)
            view = view[n:]
    finally:
        os._exit(status)


def kill_session(sid, deadline_s=10.0):
    """SIGKILL and reap every process left in a scenario's session."""
    end = time.monotonic() + deadline_s
    while True:
        left = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % name, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            rest = text[text.rindex(")") + 2:].split()
            if int(rest[3]) == sid:
                left.append(int(name))
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not left or time.monotonic() > end:
            return not left
        time.sleep(0.002)


def run_scenario(scenario):
    scratch = tempfile.mkdtemp(prefix="simkernel-conformance-", dir="/tmp")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        scenario_main(scenario, scratch, w)
        os._exit(1)
    os.close(w)
    data = bytearray()
    err = None
    end = time.monotonic() + SCENARIO_TIMEOUT
    while True:
        left = end - time.monotonic()
        if left <= 0:
            err = "scenario timed out after %ds" % SCENARIO_TIMEOUT
            break
        ready, _, _ = select.select([r], [], [], min(left, 1.0))
        if ready:
            b = os.read(r, 1 << 16)
            if not b:
                break
            data.extend(b)
    os.close(r)
    kill_session(pid)
    try:
        os.rmdir(scratch)
    except OSError:
        pass
    if err is None:
        try:
            res = json.loads(data.decode())
        except ValueError:
            err = "scenario process died without a result"
    if err is not None:
        res = {"steps": [], "mounts": [], "tree": {}, "runner_error": err}
    out = {"steps": res["steps"], "mounts": res["mounts"], "tree": res["tree"]}
    if "runner_error" in res:
        out["runner_error"] = res["runner_error"]
    return out


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def preflight():
    if platform.system() != "Linux":
        return "this runner needs Linux (running on %s)" % platform.system()
    if platform.machine() != "x86_64":
        return "this runner needs x86_64 (running on %s)" % platform.machine()
    if os.geteuid() != 0:
        return "this runner needs root (it creates mount namespaces)"
    if sys.version_info < (3, 8):
        return "this runner needs Python >= 3.8"
    return None


def kernel_version():
    m = re.match(r"\d+(\.\d+)*", platform.release())
    return m.group(0) if m else platform.release()


def load_scenarios(path, only):
    with open(path) as f:
        doc = json.load(f)
    scen = doc.get("scenarios")
    if not isinstance(scen, list):
        raise SystemExit("%s: no scenario list" % path)
    names = [s.get("name") for s in scen]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SystemExit("%s: duplicate scenario names %s" % (path, dup))
    if only:
        missing = [n for n in only if n not in names]
        if missing:
            sys.stderr.write("no such scenario: %s\n" % ", ".join(missing))
            sys.exit(2)
        scen = [s for s in scen if s["name"] in only]
    return scen


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return f.read()


def run_all(scenarios):
    before = host_mounts()
    try:
        syscall("prctl", CONST["PR_SET_CHILD_SUBREAPER"], 1, 0, 0, 0)
    except Exception:  # noqa: BLE001
        pass
    results = {}
    for s in scenarios:
        results[s["name"]] = run_scenario(s)
    after = host_mounts()
    if before != after:
        sys.stderr.write("error: the host's mount table changed during the run\n")
        sys.exit(1)
    return {"meta": {"arch": platform.machine(), "format": FORMAT_VERSION,
                     "kernel": kernel_version(), "scenario_count": len(results)},
            "scenarios": results}


def read_blocklist(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = re.split(r"\s{2,}|\t", line, maxsplit=1)
            out[parts[0].strip()] = parts[1].strip() if len(parts) > 1 else ""
    return out


def dumps(doc):
    return json.dumps(doc, indent=1)


def short(v):
    s = json.dumps(v, sort_keys=False)
    return s if len(s) <= 400 else s[:400] + "..."


def compare(name, exp, got):
    """List of human-readable differences between two scenario results."""
    out = []
    if exp is None:
        return ["no expected result recorded"]
    if "runner_error" in got:
        out.append("runner error: %s" % got["runner_error"])
    es, gs = exp.get("steps", []), got.get("steps", [])
    for i in range(max(len(es), len(gs))):
        e = es[i] if i < len(es) else None
        g = gs[i] if i < len(gs) else None
        if e != g:
            call = (e or g or {}).get("call")
            out.append("step %d (%s): expected %s, got %s" % (i, call, short(e), short(g)))
    if exp.get("mounts") != got.get("mounts"):
        out.append("mounts: expected %s, got %s" % (short(exp.get("mounts")), short(got.get("mounts"))))
    et, gt = exp.get("tree", {}), got.get("tree", {})
    if json.dumps(et) != json.dumps(gt):
        keys = sorted(set(et) | set(gt))
        diffs = ["%s: %s != %s" % (k, et.get(k), gt.get(k)) for k in keys if et.get(k) != gt.get(k)]
        if not diffs:
            diffs = ["entry order differs"]
        out.append("tree: expected vs got: " + "; ".join(diffs[:10]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="simkernel_linux.py",
                                 description="Replay simkernel conformance scenarios on the running Linux kernel.")
    sub = ap.add_subparsers(dest="cmd")
    p = sub.add_parser("run", help="replay scenarios and write results")
    p.add_argument("scenarios")
    p.add_argument("--out", help="results file (default: standard output)")
    p.add_argument("--only", nargs="+", metavar="NAME")
    p = sub.add_parser("check", help="replay scenarios and compare with recorded results")
    p.add_argument("scenarios")
    p.add_argument("--expected", required=True)
    p.add_argument("--only", nargs="+", metavar="NAME")
    p.add_argument("--blocklist", metavar="FILE",
                   help="skip the scenarios listed there ('NAME  reason' lines)")
    p = sub.add_parser("show", help="print fresh results of some scenarios")
    p.add_argument("names", nargs="+")
    p.add_argument("--scenarios", required=True)
    a = ap.parse_args(argv)
    if not a.cmd:
        ap.print_help()
        return 2
    problem = preflight()
    if problem:
        sys.stderr.write("simkernel_linux.py: cannot run: %s\n" % problem)
        return 2
    if a.cmd == "run":
        doc = run_all(load_scenarios(a.scenarios, a.only))
        text = dumps(doc)
        if a.out:
            with open(a.out + ".tmp", "w") as f:
                f.write(text)
            os.replace(a.out + ".tmp", a.out)
        else:
            sys.stdout.write(text + "\n")
        bad = [n for n, r in doc["scenarios"].items() if "runner_error" in r or any(
            "runner_error" in s for s in r["steps"])]
        if bad:
            sys.stderr.write("runner errors in: %s\n" % ", ".join(bad))
            return 1
        return 0
    if a.cmd == "show":
        doc = run_all(load_scenarios(a.scenarios, a.names))
        sys.stdout.write(dumps(doc) + "\n")
        return 0
    # check
    with open(a.expected) as f:
        expected = json.load(f).get("scenarios", {})
    blocked = read_blocklist(a.blocklist) if a.blocklist else {}
    scen = []
    for s in load_scenarios(a.scenarios, a.only):
        if s["name"] in blocked:
            print("skip %s: %s" % (s["name"], blocked[s["name"]] or "blocklisted"))
        else:
            scen.append(s)
    doc = run_all(scen)
    passed = failed = 0
    for name, got in doc["scenarios"].items():
        diffs = compare(name, expected.get(name), got)
        if diffs:
            failed += 1
            print("FAIL %s" % name)
            for d in diffs:
                print("  " + d)
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
