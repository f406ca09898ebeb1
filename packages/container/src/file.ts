import { POLLHUP, sysError, type SysError } from "@simkernel/abi"
import type { File, FileOperations, MountNamespace, Path, VfsTask } from "@simkernel/vfs"
import { CONTAINER_FLAG_KILL_ON_CLOSE, type Container } from "./Container.js"
import { killMembers } from "./lifecycle.js"

/**
 * The container fd's operations (the seed's container_fops), on an
 * anonymous inode named "container": poll says POLLHUP once the container
 * is dead; as a dirfd a relative path starts at the container's root;
 * release drops the file's reference, after killing every member when the
 * container was made with CONTAINER_KILL_ON_CLOSE (this fd is the last one:
 * a container has exactly one open file description).
 */
export const containerFops: FileOperations = {
  name: "container",
  poll: (file) => ((file.privateData as Container).dead ? POLLHUP : 0),
  waitQueue: (file) => (file.privateData as Container).waitQueue,
  dirfdRoot: (file, absolute, empty) => containerDirfdRoot(file.privateData as Container, absolute, empty === true),
  dirfdMntNs: (file) => (file.privateData as Container).nsproxy.mnt as MountNamespace | undefined,
  release: (file) => {
    const c = file.privateData as Container
    if ((c.flags & CONTAINER_FLAG_KILL_ON_CLOSE) !== 0) killMembers(c)
    c.put()
  }
}

/**
 * path_init() with a container fd as dirfd (the seed's patch 06): a
 * relative path starts at the container's root. An absolute or empty path
 * is EINVAL (ARCHITECTURE decision 5: a typo must not resolve outside the
 * container); a container without a root yet (NEW_EMPTY_FS_NS before
 * move_mount) is ENOENT, as a walk from nowhere finds nothing.
 */
const containerDirfdRoot = (c: Container, absolute: boolean, empty: boolean): Path | SysError => {
  if (absolute) return sysError("EINVAL", undefined, "an absolute path with a container fd")
  if (empty) return sysError("EINVAL", undefined, "an empty path with a container fd")
  return c.root ?? sysError("ENOENT", undefined, "the container has no root yet")
}

/** The Container behind a container fd's File, or undefined for any other file. */
export const containerFromFile = (file: File): Container | undefined =>
  file.fop === containerFops ? (file.privateData as Container) : undefined

/** fdget() + the container check: EBADF when `fd` is not open, EINVAL when it is not a container fd. Borrowed. */
export const containerGet = (task: VfsTask, fd: number, syscall: string): Container | SysError => {
  const f = fd < 0 ? undefined : task.files.fdget(fd)
  if (f === undefined) return sysError("EBADF", syscall)
  return containerFromFile(f) ?? sysError("EINVAL", syscall, "not a container fd")
}
