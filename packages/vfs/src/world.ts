import { Oops, sysError, type SysError } from "@simkernel/abi"
import { createInitCred, createInitUserNs, type Cred, type UserNamespace } from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import { IpcNamespace } from "@simkernel/nsproxy"
import { MNT_RELATIME } from "./constants.js"
import { FdTable } from "./FdTable.js"
import { FsContext, parseMonolithicMountData, vfsGetTree } from "./FsContext.js"
import { FsStruct } from "./FsStruct.js"
import type { Mount } from "./Mount.js"
import { allocMntNs, mntAddToNs, type MountNamespace } from "./MountNamespace.js"
import { attachMnt, vfsCreateMount } from "./namespace.js"
import type { Path } from "./Path.js"
import type { VfsTask } from "./Task.js"
import { SimClock, Vfs, type VfsClock } from "./Vfs.js"

/** A fresh superblock of `type` configured by `options`, mounted nowhere: the caller's Mount. */
export const vfsKernMount = (vfs: Vfs, cred: Cred, type: string, options: string | undefined, devname: string | undefined, mntFlags = MNT_RELATIME): Mount | SysError => {
  const fsType = vfs.getFsType(type)
  if (fsType === undefined) return sysError("ENODEV", "mount", `unknown filesystem type '${type}'`)
  const fc = new FsContext(vfs, fsType, "mount", cred, cred.userNs, 0, 0)
  try {
    const err = parseMonolithicMountData(fc, options) ?? vfsGetTree(fc)
    if (err !== undefined) return err
    return vfsCreateMount(fc.sb!, fc.sb!.root, mntFlags, devname)
  } finally {
    fc.put()
  }
}

/**
 * init_mount_tree(): the initial mount namespace, owned by `userNs`,
 * whose root is a "rootfs" mount (ramfs here), as on a booted kernel. The
 * returned namespace is the caller's reference.
 */
export const initMountTree = (vfs: Vfs, cred: Cred): MountNamespace => {
  const ns = allocMntNs(vfs, cred.userNs, true)
  // Boot cannot go on without a root: Linux panics here too.
  if ("errno" in ns) throw new Oops("cannot allocate the initial mount namespace")
  const root = vfsKernMount(vfs, cred, "ramfs", undefined, "rootfs", 0)
  if ("errno" in root) throw new Oops("cannot mount rootfs")
  ns.root = root
  mntAddToNs(ns, root)
  return ns
}

/** Everything a VfsTask needs, plus teardown: what the conformance runner and tests start from. */
export interface VfsWorld {
  readonly registry: LiveObjects
  readonly vfs: Vfs
  readonly clock: VfsClock
  readonly userNs: UserNamespace
  readonly task: VfsTask & { mntNs: MountNamespace; cred: Cred; ipcNs: IpcNamespace }
  /** The root the scenario sees ("/"). */
  readonly root: Path
  /** Close every fd, drop the task's fs_struct, namespaces and credentials, and the kernel's internal mounts. */
  destroy(): void
}

export interface ScenarioWorldOptions {
  readonly registry?: LiveObjects
  readonly clock?: VfsClock
}

/**
 * The world a conformance scenario starts in (FORMAT.md): a fresh tmpfs
 * mounted over the namespace's rootfs, seen as `/` (`/ / rw,relatime -
 * tmpfs none rw,mode=755`, private), cwd `/`, umask 022, uid 0 with every
 * capability in the initial user namespace, an IPC namespace of its own
 * (so mqueue has a fresh superblock), no open files.
 */
export const createScenarioWorld = (options: ScenarioWorldOptions = {}): VfsWorld => {
  const registry = options.registry ?? new LiveObjects()
  const clock = options.clock ?? new SimClock()
  const vfs = new Vfs({ registry, clock })
  const userNs = createInitUserNs({ registry })
  const cred = createInitCred(userNs)
  const ns = initMountTree(vfs, cred)
  const tmp = vfsKernMount(vfs, cred, "tmpfs", "mode=755", undefined)
  if ("errno" in tmp) throw new Oops("cannot mount the scenario tmpfs")
  const rootfs = ns.root!
  attachMnt(tmp, rootfs, rootfs.root)
  mntAddToNs(ns, tmp)
  const root: Path = { mnt: tmp, dentry: tmp.root }
  const fs = new FsStruct(vfs, root, root, 0o022)
  const files = new FdTable(registry)
  const task = { cred, fs, files, mntNs: ns, ipcNs: IpcNamespace.createInit(userNs), nofile: 1024 }
  return {
    registry,
    vfs,
    clock,
    userNs,
    task,
    root,
    destroy() {
      task.files.put()
      task.fs.put()
      task.mntNs.put()
      task.ipcNs.put()
      task.cred.put()
      userNs.put()
      vfs.shutdown()
    }
  }
}
