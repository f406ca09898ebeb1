import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  O_NONBLOCK,
  O_RDWR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  Oops,
  sysError
} from "@simkernel/abi"
import type { Kgid, Kuid } from "@simkernel/cred"
import type { IpcNamespace } from "@simkernel/nsproxy"
import {
  anonInodeGetfile,
  dPath,
  type DataNode,
  FdTable,
  type File,
  type FileOperations,
  filenameLookup,
  type FsStruct,
  inodePermission,
  LOOKUP_EMPTY,
  LOOKUP_FOLLOW,
  MAY_EXEC,
  mntMaySuid,
  type MountNamespace,
  type Path,
  pathNoexec,
  type Vfs,
  type VfsTask
} from "@simkernel/vfs"
import type { ExecLookup, ProgramEntry } from "./Kernel.js"
import { type FdAdapter, type FilesStruct, PidfdFile } from "./files.js"
import type { Task } from "./Task.js"

/**
 * The pidfd file operations (pidfd_fops): the File's privateData is the
 * PidfdFile (holding its Pid), put on release; poll as pidfd_poll().
 */
export const pidfdFops: FileOperations = {
  name: "pidfd",
  release: (file) => (file.privateData as PidfdFile).put(),
  poll: (file) => (file.privateData as PidfdFile).poll()
}

/** The PidfdFile behind a pidfd File, or undefined for any other file. */
export const pidfdFromFile = (file: File): PidfdFile | undefined => (file.fop === pidfdFops ? (file.privateData as PidfdFile) : undefined)

/**
 * An FdAdapter over vfs FdTables: tasks' descriptor tables are vfs
 * FdTables and a pidfd is an anonymous-inode File called "[pidfd]"
 * (anon_inode_getfile() as pidfd_prepare() does: O_RDWR, plus O_NONBLOCK
 * for PIDFD_NONBLOCK), so /proc/PID/fd shows "anon_inode:[pidfd]", fstat
 * and fcntl work on it, and the PidfdFile goes when the last fd closes.
 */
export const vfsFdAdapter = (vfs: Vfs): FdAdapter => ({
  createFiles: (registry) => new FdTable(registry) as unknown as FilesStruct,
  installPidfd: (files, pidfd, cloexec, cred) => {
    const file = anonInodeGetfile(vfs, "[pidfd]", pidfdFops, pidfd, O_RDWR | (pidfd.flags & O_NONBLOCK), cred)
    if ("errno" in file) {
      pidfd.put()
      return file
    }
    const fd = (files as unknown as FdTable).install(file, cloexec)
    if (typeof fd !== "number") file.put()
    return fd
  },
  getPidfd: (files, fd) => {
    const f = (files as unknown as FdTable).fdget(fd)
    if (f === undefined) return sysError("EBADF", "pidfd")
    const p = pidfdFromFile(f)
    if (p === undefined) return sysError("EINVAL", "pidfd", "not a pidfd")
    // F_SETFL may have changed O_NONBLOCK on the file since pidfd_open
    p.flags = (p.flags & ~O_NONBLOCK) | (f.flags & O_NONBLOCK)
    return p
  },
  close: (files, fd) => (files as unknown as FdTable).close(fd)
})

/**
 * The VfsTask a task is to the VFS: its credentials, fs_struct, descriptor
 * table and mount namespace (from its NsProxy), read live, so unshare,
 * setns and execve changes show. One per task (Task.vfsTask()).
 */
export class TaskVfsView implements VfsTask {
  constructor(readonly task: Task) {}

  get cred() {
    return this.task.cred
  }

  get fs(): FsStruct {
    const fs = this.task.fs
    if (fs === undefined) throw new Oops(`task ${this.task.pid.nr} has no fs_struct`)
    return fs as unknown as FsStruct
  }

  get files(): FdTable {
    const files = this.task.files
    if (files === undefined) throw new Oops(`task ${this.task.pid.nr} has no files`)
    return files as unknown as FdTable
  }

  get mntNs(): MountNamespace {
    const ns = this.task.nsproxy?.slot("mnt")
    if (ns === undefined) throw new Oops(`task ${this.task.pid.nr} has no mount namespace`)
    return ns as unknown as MountNamespace
  }

  /** A task's mount namespace changes only through its NsProxy (unshare, setns); the VFS never assigns it. */
  set mntNs(_ns: MountNamespace) {
    throw new Oops(`task ${this.task.pid.nr}: the mount namespace changes through the NsProxy, not the VFS view`)
  }

  get ipcNs(): IpcNamespace | undefined {
    return this.task.nsproxy?.ipc
  }
}

/** BINPRM_BUF_SIZE: how much of the file execve reads to find its format. */
const BINPRM_BUF_SIZE = 256

/**
 * binfmt_script's parse of the first line, for the one interpreter
 * simkernel knows: `#!simkernel NAME` gives NAME; anything else is not a
 * format we can run (undefined: ENOEXEC).
 */
export const parseSimkernelShebang = (head: Uint8Array): string | undefined => {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined
  let line = new TextDecoder().decode(head.subarray(2))
  const nl = line.indexOf("\n")
  if (nl >= 0) line = line.slice(0, nl)
  const m = /^[ \t]*(\S+)(?:[ \t]+(.*?))?[ \t]*$/.exec(line)
  if (m === null || m[1] !== "simkernel") return undefined
  const name = m[2]?.trim() ?? ""
  return name === "" ? undefined : name
}

/**
 * execve(2)'s path lookup through the VFS (do_open_execat(), may_open()
 * and binfmt_script), as an ExecLookup: the walk's errors (ENOENT,
 * ENOTDIR, ELOOP, EACCES on a directory without search permission), EINVAL
 * for execveat flags other than AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW,
 * ELOOP for a final symlink with AT_SYMLINK_NOFOLLOW, EACCES for a
 * directory or any other non-regular file, EACCES on a noexec mount
 * (path_noexec()), EACCES without execute permission (root too needs one
 * x bit), ENOEXEC for a file whose first line is not `#!simkernel NAME`,
 * ENOENT when no program is registered under NAME, and ENOENT for a
 * script reached through a close-on-exec dirfd (BINPRM_FLAGS_PATH_INACCESSIBLE,
 * as binfmt_script). The entry carries the file's mode and owner, and
 * `nosuid` when the mount is nosuid (mnt_may_suid()), for the set-id rules.
 */
export const vfsExecLookup: ExecLookup = (task, path, dirfd = AT_FDCWD, flags = 0) => {
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) !== 0) return sysError("EINVAL", "execveat")
  const vt = task.vfsTask()
  let p: Path
  if (path === "" && (flags & AT_EMPTY_PATH) !== 0 && dirfd !== AT_FDCWD) {
    const f = vt.files.fdget(dirfd)
    if (f === undefined) return sysError("EBADF", "execveat")
    p = f
  } else {
    let lookup = (flags & AT_SYMLINK_NOFOLLOW) !== 0 ? 0 : LOOKUP_FOLLOW
    if ((flags & AT_EMPTY_PATH) !== 0) lookup |= LOOKUP_EMPTY
    const nd = filenameLookup(vt, dirfd, path, lookup)
    if ("errno" in nd) return nd
    p = nd.path()
  }
  const inode = p.dentry.inode
  const type = inode.mode & S_IFMT
  if (type === S_IFLNK) return sysError("ELOOP", "execve")
  // may_open(): a directory, FIFO, socket or device cannot be executed
  if (type !== S_IFREG) return sysError("EACCES", "execve")
  if (pathNoexec(p.mnt)) return sysError("EACCES", "execve", "noexec mount")
  const denied = inodePermission(task.cred, inode, MAY_EXEC)
  if (denied !== undefined) return sysError(denied.errno, "execve")
  const head = new Uint8Array(Math.min(BINPRM_BUF_SIZE, inode.size))
  const node = inode.data as DataNode | undefined
  if (node !== undefined && head.length > 0) node.read(head, 0, head.length, 0)
  const name = parseSimkernelShebang(head)
  if (name === undefined) return sysError("ENOEXEC", "execve")
  if (dirfd !== AT_FDCWD && !path.startsWith("/") && vt.files.getCloexec(dirfd))
    return sysError("ENOENT", "execve", "script through a close-on-exec dirfd")
  const registered = task.kernel.programs.get(name)
  if (registered === undefined) return sysError("ENOENT", "execve", `no program ${name}`)
  const entry: ProgramEntry = {
    program: registered.program,
    mode: inode.mode,
    uid: inode.uid as Kuid as number,
    gid: inode.gid as Kgid as number,
    nosuid: !mntMaySuid(p.mnt),
    exePath: dPath(p.mnt, p.dentry, vt.fs.root) ?? path
  }
  return entry
}
