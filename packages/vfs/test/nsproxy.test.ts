import { AT_FDCWD, CLONE_NEWNS, MS_SHARED } from "@simkernel/abi"
import { nsKinds, NsProxy, setnsNamespace, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import { doMount, fstatat, mkdirat, MountNamespace, mntNamespaceOps } from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { errnoOf, makeWorld, ok, table, unprivileged, useWorlds } from "./helpers.js"

useWorlds()

describe("mntNamespaceOps with nsproxy", () => {
  it("unshare(CLONE_NEWNS) copies the tree and moves root and cwd into the copy; setns goes back", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/s", 0o755))
    ok(doMount(t, "s", "/s", "tmpfs", 0, null))
    ok(doMount(t, null, "/s", null, MS_SHARED, null))
    const kinds = nsKinds({ mnt: mntNamespaceOps as never })
    const holder = { nsproxy: NsProxy.createInit(w.userNs, kinds, { mnt: t.mntNs.get() }) as NsProxy | undefined, cred: t.cred.get() }
    const next = unshareNsproxyNamespaces(CLONE_NEWNS, holder.nsproxy!, t.cred, undefined, { fs: t.fs })
    if (next === undefined || next instanceof Error) throw new Error("unshare failed")
    const copy = next.mnt as MountNamespace
    expect(copy).not.toBe(t.mntNs)
    expect(t.fs.root.mnt.ns).toBe(copy)
    const old = t.mntNs
    t.mntNs = copy
    expect(table(w).map((m) => [m.mountpoint, m.propagation])).toEqual([
      ["/", "private"],
      ["/s", "shared:g1"]
    ])
    ok(mkdirat(t, AT_FDCWD, "/s/x", 0o755))
    ok(doMount(t, "x", "/s/x", "tmpfs", 0, null))
    expect(old.mounts.size).toBe(4)
    holder.nsproxy!.put()
    holder.nsproxy = next
    const tx = setnsNamespace({ nsproxy: next, cred: t.cred, fsUsers: 1, threads: 1, fs: t.fs }, old, CLONE_NEWNS)
    if (tx instanceof Error) throw tx
    tx.commit(holder)
    t.mntNs = holder.nsproxy!.mnt as MountNamespace
    expect(t.mntNs).toBe(old)
    expect(t.fs.root.mnt.ns).toBe(old)
    expect(errnoOf(fstatat(t, AT_FDCWD, "/s/x", 0))).toBe("ok")
    const cred = unprivileged(w)
    const denied = setnsNamespace({ nsproxy: holder.nsproxy!, cred, fsUsers: 1, threads: 1, fs: t.fs }, copy, CLONE_NEWNS)
    expect(errnoOf(denied)).toBe("EPERM")
    const shared = setnsNamespace({ nsproxy: holder.nsproxy!, cred: t.cred, fsUsers: 2, threads: 1, fs: t.fs }, copy, CLONE_NEWNS)
    expect(errnoOf(shared)).toBe("EINVAL")
    cred.put()
    holder.nsproxy!.put()
    holder.cred.put()
  })
})
