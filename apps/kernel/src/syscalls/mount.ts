import { doMount, fsconfig, fsmount, fsopen, fspick, ksysUmount, type MountAttr, mountSetattr, moveMount, openTree, openTreeAttr, pivotRoot } from "@simkernel/vfs"
import { type Handler, int, opt, task, vfsCall } from "./common.js"

/** fs/namespace.c and fs/fsopen.c: mount(2) and the fd-based mount API */
export const MOUNT_HANDLERS: Readonly<Record<string, Handler>> = {
  mount: vfsCall((ctx, a) => doMount(task(ctx), opt(a[0]), a[1] as string, opt(a[2]), int(a[3]), opt(a[4])), 1),
  umount2: vfsCall((ctx, a) => ksysUmount(task(ctx), a[0] as string, int(a[1])), 0),
  pivot_root: vfsCall((ctx, a) => pivotRoot(task(ctx), a[0] as string, a[1] as string), 0, 1),
  fsopen: vfsCall((ctx, a) => fsopen(task(ctx), opt(a[0]), int(a[1]))),
  fsconfig: vfsCall((ctx, a) => fsconfig(task(ctx), int(a[0]), int(a[1]), opt(a[2]), a[3] instanceof Uint8Array ? a[3] : opt(a[3]), int(a[4]))),
  fsmount: vfsCall((ctx, a) => fsmount(task(ctx), int(a[0]), int(a[1]), int(a[2]))),
  fspick: vfsCall((ctx, a) => fspick(task(ctx), int(a[0]), opt(a[1]), int(a[2]))),
  open_tree: vfsCall((ctx, a) => openTree(task(ctx), int(a[0]), opt(a[1]), int(a[2]))),
  open_tree_attr: vfsCall((ctx, a) => openTreeAttr(task(ctx), int(a[0]), opt(a[1]), int(a[2]), (a[3] ?? null) as MountAttr | null, int(a[4]))),
  move_mount: vfsCall((ctx, a) => moveMount(task(ctx), int(a[0]), opt(a[1]), int(a[2]), opt(a[3]), int(a[4]))),
  mount_setattr: vfsCall((ctx, a) => mountSetattr(task(ctx), int(a[0]), opt(a[1]), int(a[2]), (a[3] ?? null) as MountAttr | null, int(a[4])))
}
