import { Refcounted } from "@simkernel/kref"
import type { Path } from "./Path.js"
import type { Vfs } from "./Vfs.js"

/**
 * A task's filesystem context, as include/linux/fs_struct.h struct
 * fs_struct: root, working directory and umask. Shared between tasks made
 * with CLONE_FS (the reference count is fs->users), copied otherwise
 * (copy_fs_struct()). Holds a reference on the mount of root and of pwd.
 */
export class FsStruct extends Refcounted {
  readonly kind = "FsStruct"
  private rootPath: Path
  private pwdPath: Path
  umask: number

  /** Takes its own references on both mounts. */
  constructor(
    readonly vfs: Vfs,
    root: Path,
    pwd: Path,
    umask = 0o022
  ) {
    super(vfs.registry, "fs_struct")
    root.mnt.get()
    pwd.mnt.get()
    this.rootPath = { mnt: root.mnt, dentry: root.dentry }
    this.pwdPath = { mnt: pwd.mnt, dentry: pwd.dentry }
    this.umask = umask
    vfs.fsStructs.add(this)
  }

  get root(): Path {
    return this.rootPath
  }

  get pwd(): Path {
    return this.pwdPath
  }

  /** fs->users: tasks sharing this fs_struct. */
  get users(): number {
    return this.count()
  }

  /** set_fs_root(): takes its own reference on the new mount. */
  setRoot(path: Path): void {
    const old = this.rootPath
    path.mnt.get()
    this.rootPath = { mnt: path.mnt, dentry: path.dentry }
    old.mnt.put()
  }

  /** set_fs_pwd(). */
  setPwd(path: Path): void {
    const old = this.pwdPath
    path.mnt.get()
    this.pwdPath = { mnt: path.mnt, dentry: path.dentry }
    old.mnt.put()
  }

  /** copy_fs_struct(): a private copy for a task made without CLONE_FS. */
  copy(): FsStruct {
    return new FsStruct(this.vfs, this.rootPath, this.pwdPath, this.umask)
  }

  protected override destroy(): void {
    this.vfs.fsStructs.delete(this)
    this.pwdPath.mnt.put()
    this.rootPath.mnt.put()
  }
}
