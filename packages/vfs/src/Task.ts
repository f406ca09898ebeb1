import type { Cred } from "@simkernel/cred"
import type { IpcNamespace } from "@simkernel/nsproxy"
import type { FdTable } from "./FdTable.js"
import type { FsStruct } from "./FsStruct.js"
import type { MountNamespace } from "./MountNamespace.js"

/**
 * What the VFS needs to know about the calling task (the parts of
 * task_struct every *at() call reads): its credentials, fs_struct,
 * descriptor table, mount namespace, IPC namespace (for mqueue) and
 * RLIMIT_NOFILE. The kernel app's Task provides these; `mntNs` and `ipcNs`
 * change with setns/unshare.
 */
export interface VfsTask {
  readonly cred: Cred
  readonly fs: FsStruct
  readonly files: FdTable
  mntNs: MountNamespace
  /** The IPC namespace whose mqueue superblock mqueue mounts use; without one, the Vfs keeps a single implicit one. */
  ipcNs?: IpcNamespace
  /** RLIMIT_NOFILE soft limit (default 1024). */
  readonly nofile?: number
}
