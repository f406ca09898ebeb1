import { AT_FDCWD, AT_REMOVEDIR, MNT_DETACH, MS_BIND, MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from "@simkernel/abi"
import { assertNoLeaks } from "@simkernel/kref"
import { createScenarioWorld, type Dentry, doMount, fstatat, ksysUmount, mkdirat, type Mount, renameat2, unlinkat } from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"

/**
 * The walk as a model: a path of existing directories (depth <= 3 here)
 * without symlinks resolves like its lexical normalisation, but every
 * component on the way must exist (undefined: ENOENT).
 */
const normalise = (path: string): string | undefined => {
  const out: Array<string> = []
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue
    if (c === "..") out.pop()
    else if (out.length === 3) return undefined
    else out.push(c)
  }
  return "/" + out.join("/")
}

describe("property: path walk", () => {
  it("resolves any mix of names, '.', '..' and slashes like lexical normalisation", () => {
    const w = createScenarioWorld()
    const t = w.task
    for (const a of ["a", "b"]) {
      mkdirat(t, AT_FDCWD, `/${a}`, 0o755)
      for (const b of ["a", "b"]) {
        mkdirat(t, AT_FDCWD, `/${a}/${b}`, 0o755)
        for (const c of ["a", "b"]) mkdirat(t, AT_FDCWD, `/${a}/${b}/${c}`, 0o755)
      }
    }
    const comp = fc.constantFrom("a", "b", ".", "..", "")
    fc.assert(
      fc.property(fc.array(comp, { maxLength: 12 }), (parts) => {
        const path = "/" + parts.join("/")
        const norm = normalise(path)
        const got = fstatat(t, AT_FDCWD, path, 0)
        if (norm === undefined) return "errno" in got && got.errno === "ENOENT"
        const want = fstatat(t, AT_FDCWD, norm, 0)
        return !("errno" in got) && !("errno" in want) && got.ino === want.ino
      }),
      { numRuns: 500 }
    )
    w.destroy()
    assertNoLeaks(w.registry)
  })
})

/** Check every directory's link count and every dentry's parent link below `d`. */
const checkTree = (d: Dentry): number => {
  let subdirs = 0
  let inodes = 1
  for (const [name, c] of d.children ?? []) {
    expect(c.name).toBe(name)
    expect(c.parent).toBe(d)
    expect(c.unhashed).toBe(false)
    if (c.inode.isDir) {
      subdirs++
      inodes += checkTree(c)
    } else inodes++
  }
  expect(d.inode.nlink).toBe(2 + subdirs)
  return inodes
}

describe("property: directory operations", () => {
  it("random mkdir/rename/rmdir/unlink keep nlink, parents and the inode count consistent", () => {
    const name = fc.constantFrom("x", "y", "z")
    const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => "/" + p.join("/"))
    const op = fc.oneof(
      fc.record({ k: fc.constant("mkdir" as const), p: path }),
      fc.record({ k: fc.constant("rmdir" as const), p: path }),
      fc.record({ k: fc.constant("rename" as const), p: path, q: path }),
      fc.record({ k: fc.constant("unlink" as const), p: path })
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const w = createScenarioWorld()
        const t = w.task
        for (const o of ops) {
          if (o.k === "mkdir") mkdirat(t, AT_FDCWD, o.p, 0o755)
          else if (o.k === "rmdir") unlinkat(t, AT_FDCWD, o.p, AT_REMOVEDIR)
          else if (o.k === "unlink") unlinkat(t, AT_FDCWD, o.p, 0)
          else renameat2(t, AT_FDCWD, o.p, AT_FDCWD, o.q, 0)
        }
        const root = w.root.dentry
        const count = checkTree(root)
        expect(root.inode.sb.usedInodes).toBe(count)
        w.destroy()
        assertNoLeaks(w.registry)
      }),
      { numRuns: 200 }
    )
  })
})

/** The invariants of a mount tree and its propagation links. */
const checkMounts = (ns: { root: Mount | undefined; mounts: Set<Mount> }): void => {
  const reachable = new Set<Mount>()
  for (const m of ns.root!.subtree()) reachable.add(m)
  expect(new Set(ns.mounts)).toEqual(reachable)
  for (const m of reachable) {
    for (const [mp, c] of m.children ?? []) {
      expect(c.parent).toBe(m)
      expect(c.mountpoint).toBe(mp)
      expect(mp.mountedBy?.includes(c)).toBe(true)
    }
    if (m.peers !== undefined) {
      expect(m.peers.has(m)).toBe(true)
      for (const p of m.peers) {
        expect(p.peers).toBe(m.peers)
        expect(p.groupId).toBe(m.groupId)
      }
    }
    if (m.master !== undefined) expect(m.master.slaves?.has(m)).toBe(true)
    for (const s of m.slaves ?? []) expect(s.master).toBe(m)
  }
}

describe("property: mount trees", () => {
  it("random mounts, binds, propagation changes and unmounts keep the tree and peer groups consistent and free everything", () => {
    const dir = fc.constantFrom("/a", "/b", "/a/x", "/b/x", "/a/x/y", "/b/x/y")
    const op = fc.oneof(
      fc.record({ k: fc.constant("tmpfs" as const), p: dir }),
      fc.record({ k: fc.constant("bind" as const), p: dir, q: dir, rec: fc.boolean() }),
      fc.record({ k: fc.constant("prop" as const), p: dir, f: fc.constantFrom(MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE), rec: fc.boolean() }),
      fc.record({ k: fc.constant("umount" as const), p: dir, lazy: fc.boolean() })
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const w = createScenarioWorld()
        const t = w.task
        const mkAll = () => {
          for (const d of ["/a", "/b", "/a/x", "/b/x", "/a/x/y", "/b/x/y"]) mkdirat(t, AT_FDCWD, d, 0o755)
        }
        mkAll()
        doMount(t, null, "/", null, MS_SHARED, null)
        for (const o of ops) {
          if (o.k === "tmpfs") {
            doMount(t, "t", o.p, "tmpfs", 0, null)
            mkAll()
          } else if (o.k === "bind") doMount(t, o.p, o.q, null, MS_BIND | (o.rec ? MS_REC : 0), null)
          else if (o.k === "prop") doMount(t, null, o.p, null, o.f | (o.rec ? MS_REC : 0), null)
          else ksysUmount(t, o.p, o.lazy ? MNT_DETACH : 0)
          checkMounts(t.mntNs)
          expect(fstatat(t, AT_FDCWD, "/", 0)).not.toHaveProperty("errno")
        }
        w.destroy()
        assertNoLeaks(w.registry)
      }),
      { numRuns: 150 }
    )
  })
})
